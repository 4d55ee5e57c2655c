package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/healthcode/healthcode/internal/backup"
	"github.com/healthcode/healthcode/internal/db"
)

// dbFlags are the flags of the commands that take a database and nothing
// else of the server's configuration.
func dbFlags(fs *flag.FlagSet) (dsn *string, dataDir *string, pgBin *string) {
	dsn = fs.String("db", "", "database: sqlite:PATH or postgres://... (default sqlite:DATA-DIR/healthcode.db)")
	dataDir = fs.String("data-dir", "data", "directory of the embedded database")
	pgBin = fs.String("pg-bin", "", "directory of pg_dump and pg_restore (default: the PATH, then /usr/lib/postgresql/*/bin)")
	return dsn, dataDir, pgBin
}

func dsnOf(dsn, dataDir string) string {
	if dsn == "" {
		return "sqlite:" + filepath.Join(dataDir, "healthcode.db")
	}
	return dsn
}

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn, dataDir, pgBin := dbFlags(fs)
	out := fs.String("out", "", "file to write the backup to (must not exist)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out FILE is required")
	}
	src := dsnOf(*dsn, *dataDir)
	info, err := backup.Backup(ctx, src, *out, backup.Options{PGBin: *pgBin, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s (%s, schema version %d) to %s, %d bytes.\n", db.Redact(src), info.Engine, info.Version, *out, info.Bytes)
	fmt.Fprintln(stdout, "The personal data in it is sealed with the master key, which is not in the backup: keep the key's copy apart from the backups (docs/OPERATIONS.md).")
	return nil
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn, dataDir, pgBin := dbFlags(fs)
	in := fs.String("in", "", "the backup file (of `healthcode backup`)")
	force := fs.Bool("force", false, "replace a database that holds data (never one of a newer schema)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("restore: --in FILE is required")
	}
	dst := dsnOf(*dsn, *dataDir)
	info, err := backup.Restore(ctx, dst, *in, backup.Options{PGBin: *pgBin, Force: *force, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s (schema version %d) into %s.\n", *in, info.Version, db.Redact(dst))
	if info.JournalMovedTo != "" {
		fmt.Fprintf(stdout, "The replaced database's check-in journal was moved to %s (it is not replayed into the restored one).\n", info.JournalMovedTo)
	}
	fmt.Fprintln(stdout, "Start healthcode on it with the master key the backup was made under (--key-file or --master-key); it brings the schema up to date.")
	return nil
}
