package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// ExecUnflushed commits all its statements or none, without waiting for
// the flush in that transaction only, and leaves the pool's connections as
// it found them.
func TestExecUnflushed(t *testing.T) {
	ctx := context.Background()
	if err := dbtest.NewSQLite(t).ExecUnflushed(ctx, nil); !errors.Is(err, db.ErrNotPostgres) {
		t.Fatalf("on SQLite: %v", err)
	}
	t.Run("postgres", func(t *testing.T) {
		d := openFlushing(t)
		if _, err := d.ExecContext(ctx, `CREATE TABLE unflushed_test (id BIGINT PRIMARY KEY, sync TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		ins := `INSERT INTO unflushed_test (id, sync) VALUES ($1, current_setting('synchronous_commit'))`
		count := func() (n int) {
			t.Helper()
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM unflushed_test`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if err := d.ExecUnflushed(ctx, []db.Stmt{{ins, []any{1}}, {ins, []any{2}}}); err != nil {
			t.Fatal(err)
		}
		var sync string
		if err := d.QueryRowContext(ctx, `SELECT min(sync) || max(sync) FROM unflushed_test`).Scan(&sync); err != nil || sync != "offoff" {
			t.Fatalf("synchronous_commit inside: %q %v, want off", sync, err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d rows after the commit, want 2", n)
		}
		// The second statement fails: the first is not kept.
		err := d.ExecUnflushed(ctx, []db.Stmt{{ins, []any{3}}, {ins, []any{1}}})
		if !db.IsUniqueViolation(err) {
			t.Fatalf("a duplicate: %v", err)
		}
		if n := count(); n != 2 {
			t.Fatalf("%d rows after a failed transaction, want 2", n)
		}
		// Every connection of the pool commits with the flush again, and
		// is out of the failed transaction.
		poolFlushes(t, d)
		if err := d.ExecUnflushed(ctx, []db.Stmt{{ins, []any{3}}}); err != nil || count() != 3 {
			t.Fatalf("after a failure: %v, %d rows", err, count())
		}
	})
}

// openFlushing opens a throwaway PostgreSQL whose sessions commit with the
// flush, as production's do (the throwaway server commits without it
// throughout).
func openFlushing(t *testing.T) *db.DB {
	t.Helper()
	u := dbtest.PostgresURL(t)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	d, err := db.Open(t.Context(), u+sep+"synchronous_commit=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// poolFlushes checks that every connection of d's pool commits with the
// flush.
func poolFlushes(t *testing.T, d *db.DB) {
	t.Helper()
	for range 2 * db.DefaultMaxConns {
		var sync string
		if err := d.QueryRowContext(t.Context(), `SHOW synchronous_commit`).Scan(&sync); err != nil || sync != "on" {
			t.Fatalf("synchronous_commit after: %q %v, want on", sync, err)
		}
	}
}
