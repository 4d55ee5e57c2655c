package db_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		before, err := d.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := db.Migrations(d.Engine())
		if before != ms[len(ms)-1].Version {
			t.Fatalf("version %d after migrate, want %d", before, ms[len(ms)-1].Version)
		}
		if err := d.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		after, _ := d.Version(ctx)
		if after != before {
			t.Fatalf("version moved from %d to %d on a no-op migrate", before, after)
		}
	})
}

func TestNextValHandsOutEachNumberOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const workers, per = 4, 25
		var mu sync.Mutex
		seen := map[int64]bool{}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i++ {
					var v int64
					err := d.InTx(ctx, func(tx db.Tx) error {
						var err error
						v, err = db.NextVal(ctx, tx, "test", 1)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					if seen[v] {
						errs <- errors.New("duplicate value")
					}
					seen[v] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := int64(1); i <= workers*per; i++ {
			if !seen[i] {
				t.Fatalf("value %d never handed out", i)
			}
		}
		var last int64
		err := d.InTx(ctx, func(tx db.Tx) (err error) {
			last, err = db.NextVal(ctx, tx, "test", 10)
			return err
		})
		if err != nil || last != workers*per+10 {
			t.Fatalf("NextVal by 10 = %d, %v; want %d", last, err, workers*per+10)
		}
	})
}

func TestRollbackLeavesNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := d.InTx(ctx, func(tx db.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('x', 1)`); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the callback's error", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM counters WHERE name = 'x'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatal("rolled-back insert is visible")
		}
	})
}

func TestUniqueViolationIsRecognised(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('u', 1)`); err != nil {
			t.Fatal(err)
		}
		_, err := d.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('u', 2)`)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("IsUniqueViolation(%v) = false", err)
		}
		if db.IsUniqueViolation(errors.New("other")) {
			t.Fatal("IsUniqueViolation true for an unrelated error")
		}
	})
}

func TestTimesRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 21, 8, 30, 0, 123e6, time.UTC)
	if got := db.Time(db.Millis(now)); !got.Equal(now) {
		t.Fatalf("round trip %v -> %v", now, got)
	}
	if db.Millis(time.Time{}) != 0 || !db.Time(0).IsZero() {
		t.Fatal("zero time is not stored as 0")
	}
}

func TestRedact(t *testing.T) {
	got := db.Redact("postgres://hc:s3cret@db.example/hc?sslmode=require")
	if got != "postgres://hc:xxxxx@db.example/hc?sslmode=require" {
		t.Fatalf("Redact = %q", got)
	}
}

// Every connection to PostgreSQL has just-in-time compilation off, unless
// the URL turns it on.
func TestJITOffUnlessAsked(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, c := range []struct{ url, want string }{{url, "off"}, {url + sep + "jit=on", "on"}} {
		d, err := db.OpenWith(ctx, c.url, db.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		// More statements than connections: each connection has it.
		for i := range 3 {
			var got string
			if err := d.QueryRowContext(ctx, `SHOW jit`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s: statement %d: jit %q, want %q", db.Redact(c.url), i, got, c.want)
			}
		}
		d.Close()
	}
}

// A node started with --db-statement-timeout gets PostgreSQL's statement
// timeout on every connection: a statement that runs longer fails with an
// error that says so, a shorter one runs, and migrations are not bounded.
func TestStatementTimeoutApplies(t *testing.T) {
	t.Parallel()
	url := dbtest.PostgresURL(t)
	ctx := context.Background()
	d, err := db.OpenWith(ctx, url, db.Options{MaxConns: 3, StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.MaxConns(); got != 3 {
		t.Errorf("pool of %d connections, want 3", got)
	}
	// More statements than connections: each connection has the setting.
	for i := range 5 {
		var setting string
		if err := d.QueryRowContext(ctx, `SHOW statement_timeout`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		if setting != "300ms" {
			t.Fatalf("statement %d: statement_timeout %q, want 300ms", i, setting)
		}
	}
	if _, err := d.ExecContext(ctx, `SELECT pg_sleep(0.01)`); err != nil {
		t.Fatalf("a statement within the timeout: %v", err)
	}
	_, err = d.ExecContext(ctx, `SELECT pg_sleep(2)`)
	if err == nil {
		t.Fatal("a 2 s statement ran to its end under a 300 ms statement timeout")
	}
	if !db.IsStatementTimeout(err) || !strings.Contains(err.Error(), "canceling statement due to statement timeout") {
		t.Fatalf("error %q is not a statement timeout", err)
	}
	err = d.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `SELECT pg_sleep(2)`)
		return err
	})
	if !db.IsStatementTimeout(err) {
		t.Fatalf("in a transaction: error %v, want a statement timeout", err)
	}
	if db.IsStatementTimeout(errors.New("canceling statement due to statement timeout")) {
		t.Error("IsStatementTimeout matched a plain error by its text")
	}
	// Migrate lifts the timeout on its own connection, and leaves it there.
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var setting string
	if err := d.QueryRowContext(ctx, `SHOW statement_timeout`).Scan(&setting); err != nil || setting != "300ms" {
		t.Fatalf("after Migrate: statement_timeout %q (%v), want 300ms", setting, err)
	}

	if _, err := db.OpenWith(ctx, url, db.Options{StatementTimeout: -time.Second}); err == nil {
		t.Error("a negative statement timeout was accepted")
	}
	plain, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if got := plain.MaxConns(); got != db.DefaultMaxConns {
		t.Errorf("default pool of %d connections, want %d", got, db.DefaultMaxConns)
	}
	if _, err := plain.ExecContext(ctx, `SELECT pg_sleep(0.5)`); err != nil {
		t.Errorf("without the setting a 0.5 s statement failed: %v", err)
	}
}
