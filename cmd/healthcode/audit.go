package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server"
)

func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("usage: healthcode audit verify [--db URL]")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
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
	r, err := audit.Verify(ctx, d)
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
	return nil
}
