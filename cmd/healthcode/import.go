package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/server"
)

const importUsage = `usage: healthcode import --kind KIND [--source SOURCE] --username NAME --password-file FILE [store flags] FILE...

Imports CSV lists (UTF-8 or GBK, detected; the first line names the columns) as the operator NAME, within
their region:
  residents  the registered population: town, community, community_name, grid, grid_name, household, name,
             id_type (default resident_id), id_number, phone (乡镇街道,社区编号,社区,网格编号,网格,户号,姓名,证件号码,手机号)
  cases      confirmed cases (case.confirmed): id_number, at, case_id, severity, hospital
  contacts   close contacts (contact.close): id_number, at, case_id
  arrivals   arrivals (arrival.inbound): id_number, at, origin, transport, port
Lists name persons by identity number; faulty lines are reported and skipped, the good ones are kept, and
importing a file again changes nothing. The report of each file is printed as JSON.`

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, importUsage); fs.PrintDefaults() }
	var cfg server.Config
	storeFlags(fs, &cfg)
	kind := fs.String("kind", "", "residents, cases, contacts or arrivals")
	source := fs.String("source", "", "census, police, health, transport or telecom (default census for residents, health otherwise)")
	username := fs.String("username", "", "an operator with import.write (admin or health officer)")
	passwordFile := fs.String("password-file", "", "file holding the operator's password (\"-\": standard input)")
	quiet := fs.Bool("quiet", false, "no progress on standard error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *kind == "" || *username == "" || *passwordFile == "" {
		fs.Usage()
		return fmt.Errorf("import: give --kind, --username, --password-file and at least one file")
	}
	files := make([][]byte, fs.NArg())
	for i, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		files[i] = b
	}
	app, by, err := openAs(ctx, "import", cfg, *username, *passwordFile, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	failed := 0
	for i, name := range fs.Args() {
		base := filepath.Base(name)
		progress := func(imp *grid.Import) {
			if *quiet {
				return
			}
			// One line rewritten in place: a bar, the lines and the share.
			const width = 30
			done := min(imp.Done, imp.Lines)
			fill := int(int64(width) * done / max(imp.Lines, 1))
			bar := make([]byte, width)
			for j := range bar {
				bar[j] = ' '
				if j < fill {
					bar[j] = '#'
				}
			}
			fmt.Fprintf(stderr, "\r%s [%s] %d/%d lines, %d bad", base, bar, done, imp.Lines, imp.Bad)
			if imp.FinishedAt != nil {
				fmt.Fprintln(stderr)
			}
		}
		imp, err := app.Grids.Import(ctx, by, grid.Spec{Kind: *kind, Source: *source, FileName: base}, files[i], progress)
		if err != nil {
			return fmt.Errorf("import: %s: %w", name, err)
		}
		if imp.Status != grid.Done {
			failed++
		}
		if err := enc.Encode(importReport{File: name, ID: imp.ID, Kind: imp.Kind, Encoding: imp.Encoding, Status: imp.Status,
			Lines: imp.Lines, Good: imp.Good, Bad: imp.Bad, Created: imp.Created, Errors: imp.Errors}); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("import: %d of %d files stopped before their end; the report says why", failed, len(files))
	}
	return nil
}

// importReport is what the command prints of each file.
type importReport struct {
	File     string           `json:"file"`
	ID       string           `json:"id"`
	Kind     string           `json:"kind"`
	Encoding string           `json:"encoding"`
	Status   string           `json:"status"`
	Lines    int64            `json:"lines"`
	Good     int64            `json:"good"`
	Bad      int64            `json:"bad"`
	Created  int64            `json:"created"`
	Errors   []grid.LineError `json:"errors"`
}
