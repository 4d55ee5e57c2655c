package checkin

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// rawPerHour is what VerificationsPerHour counted before the counts were
// kept: every event of the hours asked for, read at each call.
func rawPerHour(t *testing.T, d *db.DB, checkpoints []string, from time.Time) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{}
	err := db.QueryIn(context.Background(), d, d.Engine(), `SELECT v.at / 3600000, COUNT(*) FROM verifications v
		JOIN places pl ON pl.num = v.place WHERE v.at >= $1 AND pl.kind = $2 AND pl.ref IN `,
		[]any{from.UnixMilli(), PlaceCheckpoint}, checkpoints, ` GROUP BY v.at / 3600000`, func(sc db.Scanner) error {
			var h, n int64
			if err := sc.Scan(&h, &n); err != nil {
				return err
			}
			out[h*3600000] += n
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// clock is a service clock that a test moves.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// The verifications per hour read through the kept counts are the events'
// counts, for any hour asked from (on an hour or within one) and any
// checkpoints, before the first fold and after each, with events recorded
// since, imported into folded hours, purged (on an hour and within one),
// and recorded while folds run.
func TestVerificationsPerHourKeptEqualsCounted(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(t, d, Config{})
		clk := &clock{at: time.Date(2026, 3, 1, 8, 20, 0, 0, time.UTC)}
		s.SetClock(clk.now)
		record := func(i int, at time.Time) {
			t.Helper()
			cp := fmt.Sprint("cp", i%3)
			if i%11 == 0 {
				cp = "" // an integrator key: no checkpoint
			}
			if err := s.RecordVerification(ctx, Verification{Checkpoint: cp, Person: int64(i), At: at, Valid: true}); err != nil {
				t.Fatal(err)
			}
		}
		// From hoursByRange checkpoints on, the hours are read by time and
		// the checkpoints kept by a filter: the same counts, of theirs only.
		var unknown []string
		for i := range hoursByRange {
			unknown = append(unknown, fmt.Sprint("none", i))
		}
		check := func(step string) {
			t.Helper()
			now := clk.now()
			for _, from := range []time.Time{now.Add(-40 * time.Hour), now.Add(-24*time.Hour + 17*time.Minute), now.Add(-24 * time.Hour).Truncate(time.Hour),
				now.Add(-90 * time.Minute), now.Add(time.Hour)} {
				for _, cps := range [][]string{{"cp0"}, {"cp0", "cp1", "cp2"}, {"cp9"}, nil,
					append([]string{"cp1"}, unknown...), append([]string{"cp0", "cp2", "cp1"}, unknown...), unknown} {
					got, err := s.VerificationsPerHour(ctx, cps, from)
					if err != nil {
						t.Fatal(err)
					}
					if want := rawPerHour(t, d, cps, from); !maps.Equal(got, want) {
						t.Errorf("%s: from %v, %v: %v, want %v", step, from, cps, got, want)
					}
				}
			}
		}
		for i := range 400 {
			record(i, clk.now().Add(-time.Duration(i)*(7*time.Minute+13*time.Second)))
		}
		check("before any fold")
		if err := s.FoldVerifications(ctx); err != nil {
			t.Fatal(err)
		}
		check("folded")
		for i := range 30 {
			record(i, clk.now().Add(-time.Duration(i)*time.Second))
		}
		check("recorded since the fold")
		var imported []Verification
		for i := range 50 {
			imported = append(imported, Verification{Checkpoint: fmt.Sprint("cp", i%4), Person: int64(i), At: clk.now().Add(-time.Duration(i) * 37 * time.Minute)})
		}
		if err := s.ImportVerifications(ctx, imported); err != nil {
			t.Fatal(err)
		}
		check("imported into folded hours")
		clk.add(2 * time.Hour)
		// Events in the hour of the coming bound, on both sides of it and
		// on it (10:10, the first millisecond the fold leaves to the reads).
		for i, m := range []time.Duration{1, 5, 10, 12, 15} {
			record(3*i, clk.now().Truncate(time.Hour).Add(m*time.Minute))
		}
		if err := s.FoldVerifications(ctx); err != nil {
			t.Fatal(err)
		}
		check("folded two hours later")
		// The fold's bound is the minute ten minutes ago (10:10 at the
		// clock's 10:20): the last purge cuts its hour between the hour's
		// start and the bound, so the hour is counted again up to it.
		for _, cutoff := range []time.Time{clk.now().Add(-36*time.Hour + 25*time.Minute), clk.now().Add(-30 * time.Hour).Truncate(time.Hour),
			clk.now().Truncate(time.Hour).Add(3 * time.Minute)} {
			if _, err := s.PurgeBefore(ctx, cutoff); err != nil {
				t.Fatal(err)
			}
			check("purged before " + cutoff.Format(time.TimeOnly))
		}

		// Folds race new events, each recorded at the clock's time. The
		// clock moves five minutes per fold, but not while an event is
		// being written: an event is committed within foldMargin of its
		// time, as the group commit does in milliseconds.
		var wg sync.WaitGroup
		var inFlight sync.RWMutex
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 100 {
					inFlight.RLock()
					err := s.RecordVerification(ctx, Verification{Checkpoint: fmt.Sprint("cp", (g+i)%3), Person: int64(i), Valid: true})
					inFlight.RUnlock()
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		for range 30 {
			inFlight.Lock()
			clk.add(5 * time.Minute)
			inFlight.Unlock()
			if err := s.FoldVerifications(ctx); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		check("folds raced new events")
		clk.add(2 * time.Hour)
		if err := s.FoldVerifications(ctx); err != nil {
			t.Fatal(err)
		}
		check("folded after the race")
	})
}

// TestHoursOfManyReadByTime: SQLite reads many checkpoints' kept hours by
// the hours' index alone, and their events by time, never a whole table.
func TestHoursOfManyReadByTime(t *testing.T) {
	d := dbtest.NewSQLite(t)
	plan := dbtest.Plan(t, d, hoursOfManySQLite, 0, 3600000, 7200000, 7200000)
	if !strings.Contains(plan, "USING COVERING INDEX verification_hours_hour") || strings.Contains(plan, "SCAN verification") {
		t.Errorf("plan:\n%s", plan)
	}
}
