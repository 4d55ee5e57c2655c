// Package backup copies the store to a file while the platform serves, and
// restores such a file into a database.
//
// SQLite: the backup is a consistent snapshot taken by VACUUM INTO in one
// read transaction, which in WAL mode neither stops nor waits for the
// writers; the file is itself a SQLite database. PostgreSQL: the backup is
// pg_dump's custom format, also one consistent snapshot, restored with
// pg_restore (both from the PostgreSQL client tools).
//
// A restore never takes the schema back in time: a database whose schema is
// newer than the backup's is refused, as is a backup newer than this
// binary knows. Personal data in a backup stays sealed by the master key,
// which is not in it (docs/OPERATIONS.md).
package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
)

// Options are the knobs of Backup and Restore.
type Options struct {
	// PGBin is the directory of pg_dump and pg_restore; empty looks on the
	// PATH and then in /usr/lib/postgresql/*/bin (newest first).
	PGBin string
	// Force lets Restore replace a database that holds data (of the
	// backup's schema version or an older one; never a newer one).
	Force bool
	// Log receives what the PostgreSQL tools print (nil: discarded).
	Log io.Writer
}

// Info describes a backup.
type Info struct {
	Engine  db.Engine
	Version int   // schema version
	Bytes   int64 // size of the file
	// JournalMovedTo is where a SQLite restore moved the replaced
	// database's check-in journal (empty: it had none).
	JournalMovedTo string
}

// engineOf reads a database URL as db.Open does.
func engineOf(dsn string) (db.Engine, string, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return db.Postgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		return db.SQLite, strings.TrimPrefix(dsn, "sqlite:"), nil
	case strings.HasSuffix(dsn, ".db"):
		return db.SQLite, dsn, nil
	}
	return "", "", ErrURLUnsupported.Withf("unsupported database URL %q (want sqlite:PATH or postgres://...)", db.Redact(dsn))
}

// latest is the newest schema version this binary knows.
func latest(e db.Engine) (int, error) {
	ms, err := db.Migrations(e)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	return ms[len(ms)-1].Version, nil
}

// Backup writes a consistent copy of the database at dsn to out, which
// must not exist. The platform may keep serving meanwhile: every write it
// acknowledged before the backup began is in the copy.
func Backup(ctx context.Context, dsn, out string, opt Options) (Info, error) {
	engine, target, err := engineOf(dsn)
	if err != nil {
		return Info{}, err
	}
	if _, err := os.Stat(out); err == nil {
		return Info{}, ErrOutExists.Withf("%s exists; choose another name (a backup never overwrites one)", out)
	}
	tmp := out + ".partial"
	os.Remove(tmp)
	var info Info
	if engine == db.SQLite {
		info, err = backupSQLite(ctx, target, tmp)
	} else {
		info, err = backupPostgres(ctx, target, tmp, opt)
	}
	if err != nil {
		os.Remove(tmp)
		return Info{}, err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return Info{}, err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	return info, syncDir(filepath.Dir(out))
}

func backupSQLite(ctx context.Context, path, tmp string) (Info, error) {
	if _, err := os.Stat(path); err != nil {
		return Info{}, ErrNoDatabase.Withf("no database at %s", path)
	}
	// Not query_only, which refuses VACUUM INTO; the statement writes only
	// the new file.
	src, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return Info{}, fmt.Errorf("backup: open %s: %w", path, err)
	}
	src.SetMaxOpenConns(1)
	defer src.Close()
	// A running node answers check-ins and scans once they are in its
	// journal and moves them into the tables a moment later: read the
	// journal first, so that what it held is in the copy as well.
	journal, err := checkin.ReadJournal(checkin.JournalDir(path))
	if err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	// One read transaction: a snapshot as of its start, whatever the
	// server writes meanwhile.
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return Info{}, fmt.Errorf("backup: copy %s: %w", path, err)
	}
	if len(journal) > 0 {
		if err := applyJournal(ctx, tmp, journal); err != nil {
			return Info{}, err
		}
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	return inspectSQLite(ctx, tmp)
}

// applyJournal moves the journal's rows beyond the copy's recorded
// position into the copy at path.
func applyJournal(ctx context.Context, path string, journal map[int64][]byte) error {
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return fmt.Errorf("backup: open the copy: %w", err)
	}
	_, err = checkin.ApplyJournal(ctx, d, journal)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: the journal's check-ins into the copy: %w", err)
	}
	return nil
}

// openSQLite opens a SQLite file for reading as one connection, waiting
// out the writer's short locks.
func openSQLite(path string) (*sql.DB, error) {
	d, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(ON)")
	if err != nil {
		return nil, fmt.Errorf("backup: open %s: %w", path, err)
	}
	d.SetMaxOpenConns(1)
	return d, nil
}

// inspectSQLite checks a SQLite file and reads its schema version.
func inspectSQLite(ctx context.Context, path string) (Info, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Info{}, ErrNoDatabase.Withf("no file %s", path)
	}
	d, err := openSQLite(path)
	if err != nil {
		return Info{}, err
	}
	defer d.Close()
	var check string
	if err := d.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil || check != "ok" {
		return Info{}, ErrNotABackup.Withf("%s is not a sound SQLite database (%v%s)", path, err, check)
	}
	v, err := sqliteVersion(ctx, d)
	if err != nil {
		return Info{}, err
	}
	if v == 0 {
		return Info{}, ErrNotABackup.Withf("%s holds no healthcode schema", path)
	}
	return Info{Engine: db.SQLite, Version: v, Bytes: fi.Size()}, nil
}

// sqliteVersion is the schema version of a SQLite database, 0 for one
// without the migrations table.
func sqliteVersion(ctx context.Context, d *sql.DB) (int, error) {
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("backup: read the schema: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := d.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("backup: read the schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Restore puts the backup in into the database at dsn. The target must be
// empty (a new SQLite path, an empty PostgreSQL database) unless
// opt.Force; it must not have a newer schema than the backup; no server
// may use it meanwhile. The next start migrates the schema to the
// binary's version.
func Restore(ctx context.Context, dsn, in string, opt Options) (Info, error) {
	engine, target, err := engineOf(dsn)
	if err != nil {
		return Info{}, err
	}
	known, err := latest(engine)
	if err != nil {
		return Info{}, err
	}
	if engine == db.SQLite {
		return restoreSQLite(ctx, target, in, known, opt)
	}
	return restorePostgres(ctx, target, in, known, opt)
}

// check decides whether a backup of version b may go onto a database at
// version t (0: empty) by a binary that knows up to known.
func check(b, t, known int, force bool, where string) error {
	switch {
	case b > known:
		return ErrBackupNewer.Withf("the backup is at schema version %d, newer than this healthcode knows (%d): restore it with the version that made it", b, known)
	case t > b:
		return ErrTargetNewer.Withf("the database %s is at schema version %d, newer than the backup's %d: restoring would take its schema back; restore into a fresh database instead", where, t, b)
	case t > 0 && !force:
		return ErrTargetNotEmpty.Withf("the database %s already holds data (schema version %d); restore into a fresh one, or pass --force to replace it", where, t)
	}
	return nil
}

func restoreSQLite(ctx context.Context, path, in string, known int, opt Options) (Info, error) {
	info, err := inspectSQLite(ctx, in)
	if err != nil {
		return Info{}, err
	}
	t := 0
	if _, err := os.Stat(path); err == nil {
		d, err := openSQLite(path)
		if err != nil {
			return Info{}, err
		}
		t, err = sqliteVersion(ctx, d)
		d.Close()
		if err != nil {
			return Info{}, err
		}
	}
	if err := check(info.Version, t, known, opt.Force, path); err != nil {
		return Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Info{}, fmt.Errorf("restore: %w", err)
	}
	tmp := path + ".restoring"
	if err := copyFile(in, tmp); err != nil {
		os.Remove(tmp)
		return Info{}, err
	}
	// A write-ahead log of the old database must not be replayed into
	// the restored one.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return Info{}, fmt.Errorf("restore: %w", err)
		}
	}
	// Nor may the old database's check-in journal: the next start would
	// replay its frames beyond the restored database's recorded position,
	// check-ins of another history. It is moved aside, not deleted, so that
	// what it held can still be read.
	journal := checkin.JournalDir(path)
	if _, err := os.Stat(journal); err == nil {
		aside := fmt.Sprintf("%s.replaced-%s", journal, time.Now().UTC().Format("20060102T150405.000Z"))
		if err := os.Rename(journal, aside); err != nil {
			os.Remove(tmp)
			return Info{}, fmt.Errorf("restore: move the replaced database's journal aside: %w", err)
		}
		info.JournalMovedTo = aside
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return Info{}, fmt.Errorf("restore: %w", err)
	}
	return info, syncDir(filepath.Dir(path))
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("restore: copy %s: %w", from, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("restore: %w", err)
	}
	return dst.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil // the data is written; only the rename's durability is at stake
	}
	defer d.Close()
	d.Sync()
	return nil
}

// PostgreSQL.

// pgTool finds pg_dump or pg_restore.
func pgTool(name, bin string) (string, error) {
	if bin != "" {
		p := filepath.Join(bin, name)
		if _, err := os.Stat(p); err != nil {
			return "", ErrToolMissing.Withf("no %s in %s", name, bin)
		}
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(matches, func(i, j int) bool { return pgMajor(matches[i]) > pgMajor(matches[j]) })
	if len(matches) > 0 {
		return matches[0], nil
	}
	return "", ErrToolMissing.Withf("%s not found on the PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL client tools (of the server's major version or newer) or set --pg-bin", name)
}

func pgMajor(p string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return v
}

// pgConn splits a URL into one without its password, for the command
// line (which ps shows), and the environment that carries the password.
func pgConn(dsn string) (string, []string) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn, nil
	}
	pw, ok := u.User.Password()
	if !ok {
		return dsn, nil
	}
	u.User = url.User(u.User.Username())
	return u.String(), []string{"PGPASSWORD=" + pw}
}

// run runs a PostgreSQL tool; its output goes to log, and on failure its
// last lines into the error.
func run(ctx context.Context, bin string, env []string, log io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var tail tailBuffer
	w := io.Writer(&tail)
	if log != nil {
		w = io.MultiWriter(&tail, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, strings.TrimSpace(tail.String()))
	}
	return nil
}

// tailBuffer keeps the last 2 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2048 {
		t.b = t.b[len(t.b)-2048:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

func backupPostgres(ctx context.Context, dsn, tmp string, opt Options) (Info, error) {
	dump, err := pgTool("pg_dump", opt.PGBin)
	if err != nil {
		return Info{}, err
	}
	conn, env := pgConn(dsn)
	// One snapshot (pg_dump reads in a single repeatable-read
	// transaction), in the custom format pg_restore reads.
	if err := run(ctx, dump, env, opt.Log, "--format=custom", "--no-owner", "--no-privileges", "--file="+tmp, "--dbname="+conn); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	return inspectDump(ctx, tmp, opt)
}

// inspectDump reads the schema version out of a pg_dump archive.
func inspectDump(ctx context.Context, path string, opt Options) (Info, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Info{}, ErrNoDatabase.Withf("no file %s", path)
	}
	restore, err := pgTool("pg_restore", opt.PGBin)
	if err != nil {
		return Info{}, err
	}
	var out strings.Builder
	cmd := exec.CommandContext(ctx, restore, "--data-only", "--table=schema_migrations", "--file=-", path)
	cmd.Stdout = &out
	var errs tailBuffer
	cmd.Stderr = &errs
	if err := cmd.Run(); err != nil {
		return Info{}, ErrNotABackup.Withf("%s is not a pg_dump archive pg_restore reads: %s", path, strings.TrimSpace(errs.String()))
	}
	v := 0
	inCopy := false
	for line := range strings.SplitSeq(out.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "COPY ") && strings.Contains(line, "schema_migrations"):
			inCopy = true
		case line == `\.`:
			inCopy = false
		case inCopy:
			first, _, _ := strings.Cut(line, "\t")
			if n, err := strconv.Atoi(first); err == nil && n > v {
				v = n
			}
		}
	}
	if v == 0 {
		return Info{}, ErrNotABackup.Withf("%s holds no healthcode schema", path)
	}
	return Info{Engine: db.Postgres, Version: v, Bytes: fi.Size()}, nil
}

func restorePostgres(ctx context.Context, dsn, in string, known int, opt Options) (Info, error) {
	info, err := inspectDump(ctx, in, opt)
	if err != nil {
		return Info{}, err
	}
	restore, err := pgTool("pg_restore", opt.PGBin)
	if err != nil {
		return Info{}, err
	}
	t, tables, err := pgState(ctx, dsn)
	if err != nil {
		return Info{}, err
	}
	if tables > 0 && t == 0 && !opt.Force {
		return Info{}, ErrTargetNotEmpty.Withf("the database %s holds %d tables that are not healthcode's; restore into an empty database", db.Redact(dsn), tables)
	}
	if err := check(info.Version, t, known, opt.Force, db.Redact(dsn)); err != nil {
		return Info{}, err
	}
	conn, env := pgConn(dsn)
	args := []string{"--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=" + conn}
	if tables > 0 {
		args = append(args, "--clean", "--if-exists")
	}
	if err := run(ctx, restore, env, opt.Log, append(args, in)...); err != nil {
		return Info{}, fmt.Errorf("restore: %w", err)
	}
	return info, nil
}

// pgState is the schema version of the database at dsn (0 without the
// migrations table) and how many tables its schema holds.
func pgState(ctx context.Context, dsn string) (version, tables int, err error) {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return 0, 0, err
	}
	defer d.Close()
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
		return 0, 0, fmt.Errorf("restore: read %s: %w", d, err)
	}
	var has bool
	if err := d.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'schema_migrations')`).Scan(&has); err != nil {
		return 0, 0, fmt.Errorf("restore: read %s: %w", d, err)
	}
	if has {
		if version, err = d.Version(ctx); err != nil {
			return 0, 0, err
		}
	}
	return version, tables, nil
}
