package dbtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Contend makes the calls fns meet on shared rows every run, and returns
// their errors in the order of fns. Transactions that take shared rows in
// different orders deadlock only when each has taken its first rows before the
// other asks for them: left to chance they meet once in many runs, and a test
// of their order would pass on code that has it wrong. So on PostgreSQL a
// transaction of Contend's own holds the rows hold selects (FOR UPDATE, with
// args) while the fns start, each only once the ones before it wait for a
// lock, and lets go when all wait: they get the rows in the order of fns.
// SQLite has one writer and no row locks: there the fns start at once.
func Contend(t testing.TB, d *db.DB, hold string, args []any, fns ...func() error) []error {
	t.Helper()
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fns[i]()
		}()
	}
	if d.Engine() != db.Postgres {
		for i := range fns {
			start(i)
		}
		wg.Wait()
		return errs
	}

	ctx := context.Background()
	held, release, ended := make(chan error, 1), make(chan struct{}), make(chan error, 1)
	go func() {
		ended <- d.InTx(ctx, func(tx db.Tx) error {
			_, err := tx.ExecContext(ctx, hold, args...)
			held <- err
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	if err := <-held; err != nil {
		<-ended
		t.Fatalf("dbtest: hold the rows: %v", err)
	}
	// fail lets the held rows go and waits for the calls started so far
	// before it ends the test, so that none is left blocked on them.
	fail := func(format string, args ...any) {
		t.Helper()
		close(release)
		wg.Wait()
		<-ended
		t.Fatalf("dbtest: "+format+" (the calls started returned %v)", append(args, errs)...)
	}
	for i := range fns {
		start(i)
		if err := waitForLocks(ctx, d, i+1); err != nil {
			fail("%v", err)
		}
	}
	close(release)
	wg.Wait()
	if err := <-ended; err != nil {
		t.Fatalf("dbtest: the transaction that held the rows: %v", err)
	}
	return errs
}

// waitForLocks returns once n sessions of d's database wait for a lock, or
// an error after 5 s.
func waitForLocks(ctx context.Context, d *db.DB, n int) error {
	const limit, poll = 5 * time.Second, 10 * time.Millisecond
	deadline := time.Now().Add(limit)
	for range limit / poll {
		var got int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&got); err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(poll)
	}
	return fmt.Errorf("%d sessions never waited for a lock in %v", n, limit)
}
