// Package dbtest gives tests a fresh, migrated database on each engine.
//
// SQLite databases are files in the test's temp dir. PostgreSQL tests share
// one throwaway server per test binary, started from the installed binaries
// (/usr/lib/postgresql/*/bin, pg_config, or $HEALTHCODE_PG_BIN); the schema
// is migrated once into a template database and each test gets a clone, so
// tests are isolated and fast. Without PostgreSQL the tests skip, except under
// CI=true, where they fail: CI must exercise both engines. Under -short (the
// quick loop) they skip too: the store tests run on SQLite only.
package dbtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
)

// Engines lists the engines every store test runs on (PostgreSQL skips under
// -short).
var Engines = []db.Engine{db.SQLite, db.Postgres}

// ForEach runs fn as a subtest on a fresh database of each engine.
func ForEach(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, New(t, e))
		})
	}
}

// New returns a fresh migrated database of the engine, closed (and dropped)
// when the test ends.
func New(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	switch e {
	case db.SQLite:
		return NewSQLite(t)
	case db.Postgres:
		return NewPostgres(t)
	}
	t.Fatalf("dbtest: unknown engine %q", e)
	return nil
}

// NewSQLite returns a migrated SQLite database in the test's temp dir.
func NewSQLite(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

var cloneSeq atomic.Int64

// NewPostgres returns a clone of the migrated template on the shared
// throwaway server.
func NewPostgres(t testing.TB) *db.DB {
	t.Helper()
	skipShort(t)
	srv, err := sharedServer()
	if err != nil {
		SkipOrFail(t, "PostgreSQL: %v", err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("t%d", cloneSeq.Add(1))
	if err := srv.clone(ctx, name); err != nil {
		t.Fatalf("dbtest: clone template: %v", err)
	}
	d, err := db.Open(ctx, srv.url(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		srv.drop(context.Background(), name)
	})
	return d
}

// PostgresURL returns the URL of a fresh clone for tests that run a whole
// server process (the kill tests) and need a URL rather than a handle.
func PostgresURL(t testing.TB) string {
	t.Helper()
	skipShort(t)
	srv, err := sharedServer()
	if err != nil {
		SkipOrFail(t, "PostgreSQL: %v", err)
	}
	name := fmt.Sprintf("t%d", cloneSeq.Add(1))
	if err := srv.clone(context.Background(), name); err != nil {
		t.Fatalf("dbtest: clone template: %v", err)
	}
	t.Cleanup(func() { srv.drop(context.Background(), name) })
	return srv.url(name)
}

// skipShort skips a PostgreSQL test under -short, before the shared server
// starts: the quick loop runs the store tests on SQLite alone.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("PostgreSQL: skipped under -short")
	}
}

// SkipOrFail skips the test with the message, or fails it when CI=true,
// because CI has the dependency installed and a skip there would hide a gap.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but "+format, args...)
	}
	t.Skipf(format, args...)
}
