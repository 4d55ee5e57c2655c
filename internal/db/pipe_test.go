package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/jackc/pgx/v5/pgconn"
)

// A pipe keeps transactions in flight and answers them in order; one that
// fails rolls back alone; the connection goes back to the pool committing
// with the flush.
func TestPipe(t *testing.T) {
	ctx := context.Background()
	if err := dbtest.NewSQLite(t).WithPipe(ctx, "SELECT 1", nil); !errors.Is(err, db.ErrNotPostgres) {
		t.Fatalf("on SQLite: %v", err)
	}
	t.Run("postgres", func(t *testing.T) {
		d := openFlushing(t)
		if _, err := d.ExecContext(ctx, `CREATE TABLE pipe_test (id BIGINT PRIMARY KEY, sync TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		// Each transaction inserts a batch of ids; a duplicate fails its
		// whole batch.
		ins := `INSERT INTO pipe_test (id, sync) SELECT id, current_setting('synchronous_commit') FROM unnest($1::bigint[]) id`
		var got []error
		err := d.WithPipe(ctx, ins, func(p *db.Pipe) error {
			for _, ids := range [][]int64{{1, 2}, {3, 1}, {4}} {
				if err := p.Send(ids); err != nil {
					return err
				}
			}
			if n := p.InFlight(); n != 3 {
				t.Errorf("%d in flight, want 3", n)
			}
			for p.InFlight() > 0 {
				got = append(got, p.Receive())
			}
			if err := p.Send([]int64{5}, []int64{6}); err == nil {
				t.Error("two arguments for one parameter were sent")
			}
			return p.Receive()
		})
		if err == nil || !strings.Contains(err.Error(), "nothing in flight") {
			t.Fatalf("a Receive with nothing in flight: %v", err)
		}
		var pgErr *pgconn.PgError
		if len(got) != 3 || got[0] != nil || !errors.As(got[1], &pgErr) || !db.IsUniqueViolation(got[1]) || got[2] != nil {
			t.Fatalf("results %v, want nil, a unique violation, nil", got)
		}
		var ids, sync string
		if err := d.QueryRowContext(ctx, `SELECT string_agg(id::text, ',' ORDER BY id), min(sync) || max(sync) FROM pipe_test`).Scan(&ids, &sync); err != nil {
			t.Fatal(err)
		}
		if ids != "1,2,4" || sync != "offoff" {
			t.Fatalf("rows %s committed with synchronous_commit %s, want 1,2,4 with offoff", ids, sync)
		}
		poolFlushes(t, d)
	})
}
