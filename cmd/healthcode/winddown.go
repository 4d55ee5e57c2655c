package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/winddown"
)

const windDownUsage = `usage: healthcode wind-down --username NAME --password-file FILE --dry-run [store flags]
       healthcode wind-down --username NAME --password-file FILE --confirm "END THE EMERGENCY IN REGION" --out REPORT [store flags]
       healthcode wind-down verify-report [--trust-list FILE | --server URL] REPORT

Ends the emergency: codes are no longer issued, and every person's data is destroyed, in order (codes
and keys, check-ins, facts, persons and everything linked to them). The dry run prints what each table
holds and changes nothing; the real run needs the confirmation phrase, which names the region, and
writes a destruction report signed with the region's key. verify-report checks such a report against
the region's trust list. See docs/OPERATIONS.md, "The end of the emergency".`

func windDownCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify-report" {
		return verifyReportCmd(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("wind-down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, windDownUsage); fs.PrintDefaults() }
	var cfg server.Config
	storeFlags(fs, &cfg)
	username := fs.String("username", "", "an operator with the admin role and the deployment-wide scope")
	passwordFile := fs.String("password-file", "", "file holding the operator's password (\"-\": standard input)")
	dryRun := fs.Bool("dry-run", false, "print the rows each table holds and change nothing")
	confirm := fs.String("confirm", "", "the confirmation phrase, END THE EMERGENCY IN REGION (the real run)")
	out := fs.String("out", "", "write the signed destruction report to this file (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("wind-down: unexpected argument %q", fs.Arg(0))
	}
	if *username == "" || *passwordFile == "" {
		return fmt.Errorf("wind-down: give --username and --password-file of an admin with the deployment-wide scope")
	}
	if !*dryRun && *confirm == "" {
		fmt.Fprintln(stderr, windDownUsage)
		return fmt.Errorf("wind-down: nothing was changed; run with --dry-run first, then with --confirm %q", winddown.ConfirmationPhrase(regionOr(cfg.Region)))
	}
	if *dryRun && *confirm != "" {
		return fmt.Errorf("wind-down: --dry-run and --confirm exclude each other")
	}
	if *out != "" {
		if _, err := os.Stat(*out); err == nil {
			return fmt.Errorf("wind-down: %s exists; the report is not written over another file", *out)
		}
	}
	app, by, err := openAs(ctx, "wind-down", cfg, *username, *passwordFile, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	wd := app.WindDown()
	if *dryRun {
		r, err := wd.Plan(ctx, by)
		if err != nil {
			return fmt.Errorf("wind-down: %w", err)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Dry run: nothing was changed. To end the emergency and destroy these rows, run again with\n  --confirm %q\n",
			winddown.ConfirmationPhrase(app.Config.Region))
		return nil
	}
	signed, err := wd.Run(ctx, by, *confirm)
	if err != nil {
		return fmt.Errorf("wind-down: %w", err)
	}
	b, err := json.MarshalIndent(signed, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("wind-down: the data is destroyed but the report could not be written (it is in the audit log): %w", err)
	}
	fmt.Fprintf(stderr, "The emergency has ended; the signed destruction report is %s.\n", *out)
	return nil
}

func regionOr(r string) string {
	if r == "" {
		return "341881"
	}
	return r
}

func readPassword(file string) (string, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// verifyOutcome is what verify-report prints.
type verifyOutcome struct {
	Valid  bool             `json:"valid"`
	Error  string           `json:"error,omitempty"`
	Report *winddown.Report `json:"report,omitempty"`
}

func verifyReportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wind-down verify-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, windDownUsage); fs.PrintDefaults() }
	trustFile := fs.String("trust-list", "", "trust list file (the JSON of GET /api/v1/trust-list)")
	serverURL := fs.String("server", "", "fetch the trust list from this healthcode server (used when --trust-list is not given)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("wind-down verify-report: give one report file")
	}
	file, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("wind-down verify-report: %w", err)
	}
	var raw []byte
	switch {
	case *trustFile != "":
		if raw, err = os.ReadFile(*trustFile); err != nil {
			return fmt.Errorf("--trust-list: %w", err)
		}
	case *serverURL != "":
		if raw, err = fetchTrustList(ctx, *serverURL); err != nil {
			return err
		}
	default:
		return fmt.Errorf("wind-down verify-report: give --trust-list FILE or --server URL")
	}
	var trust codeformat.TrustList
	if err := json.Unmarshal(raw, &trust); err != nil {
		return fmt.Errorf("wind-down verify-report: the trust list is not valid: %w", err)
	}
	r, err := winddown.Verify(file, trust)
	res := verifyOutcome{Valid: err == nil, Report: r}
	if err != nil {
		res.Error = err.Error()
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if !res.Valid {
		return exitCode(1)
	}
	return nil
}
