package codes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// TestFlushShowsOnTwoNodes flushes the code shows two nodes counted for
// the same hours and regions at once, as every node's timer does: each must
// add to the rows in the order the other does, which must not be Go's order
// of a map's keys, a different one each time, or PostgreSQL ends one of them
// as a deadlock. On PostgreSQL the test holds a row both need until both
// wait: a node that started elsewhere than the other holds the rows between,
// and they meet when the other's walk reaches them, often enough over the
// rounds to fail every time.
func TestFlushShowsOnTwoNodes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const regions, rounds = 8, 12
		hour := time.Date(2022, 4, 1, 10, 0, 0, 0, time.UTC)
		nodes := []*Service{{Deps: Deps{DB: d}}, {Deps: Deps{DB: d}}}
		count := func(s *Service) {
			for i := range regions {
				s.shows.addN(hour, fmt.Sprintf("341881%03d", i+1), 1)
			}
		}
		count(nodes[0])
		if err := nodes[0].FlushShows(ctx); err != nil {
			t.Fatal(err)
		}
		for round := range rounds {
			var flushes []func() error
			for _, s := range nodes {
				count(s)
				flushes = append(flushes, func() error { return s.FlushShows(ctx) })
			}
			errs := dbtest.Contend(t, d, `SELECT shows FROM code_shows WHERE hour = $1 AND region_code = $2 FOR UPDATE`,
				[]any{hour.UnixMilli(), fmt.Sprintf("341881%03d", regions/2)}, flushes...)
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		var n, total int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*), SUM(shows) FROM code_shows`).Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		if want := regions * (1 + 2*rounds); n != regions || total != want {
			t.Errorf("%d rows of %d shows, want %d of %d", n, total, regions, want)
		}
	})
}
