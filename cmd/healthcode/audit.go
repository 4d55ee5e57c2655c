package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/server"
)

const auditUsage = `usage: healthcode audit verify [--db URL] [--heads FILE]...
       healthcode audit heads [--db URL] [--out FILE]`

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "heads") {
		return fmt.Errorf("%s", auditUsage)
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	var files headFiles
	var out string
	if args[0] == "verify" {
		fs.Var(&files, "heads", "a kept file of signed heads (from `audit heads` or GET /api/v1/audit/heads) to check the log against; repeatable")
	} else {
		fs.StringVar(&out, "out", "", "write the signed heads to FILE (default standard output)")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	dsn := cfg.DB
	if dsn == "" {
		dsn = "sqlite:" + cfg.DataDir + "/healthcode.db"
	}
	// Open without migrating: verification must not change the store.
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	heads, err := audit.Heads(ctx, d, 0, 0)
	if err != nil {
		return err
	}
	pub, err := keys.AllPublic(ctx, d)
	if err != nil {
		return err
	}
	if args[0] == "heads" {
		return exportHeads(pub, heads, out, stdout)
	}
	// The database's heads are checked with the database's keys; a kept
	// file's with the keys it carries, so that a key slipped into the
	// database later does not vouch for the file's heads.
	anchors := []audit.Anchors{{Source: "the database", Heads: heads, Keys: pub}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		an, err := audit.ParseHeads(b, f)
		if err != nil {
			return err
		}
		anchors = append(anchors, an)
	}
	r, err := audit.Verify(ctx, d, anchors...)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(r)
	if !r.OK {
		fmt.Fprintf(stderr, "audit log: %d problems found\n", len(r.Problems))
		return exitCode(1)
	}
	if r.AnchoredTo < r.Entries {
		fmt.Fprintf(stderr, "audit log: entries after %d are not yet fixed by a signed head\n", r.AnchoredTo)
	}
	return nil
}

// exportHeads writes every signed head and the keys that signed them, for
// operators to keep where whoever could rewrite the database cannot.
func exportHeads(pub codeformat.TrustList, heads []audit.Head, out string, stdout io.Writer) error {
	b, err := audit.MarshalHeads(pub, heads)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if out == "" {
		_, err = stdout.Write(b)
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// headFiles collects repeated --heads flags.
type headFiles []string

func (h *headFiles) String() string     { return fmt.Sprint(*h) }
func (h *headFiles) Set(v string) error { *h = append(*h, v); return nil }
