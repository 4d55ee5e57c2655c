package tracing

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// changeLog is a colour change log the test writes: the follower reads it
// as it reads the status engine's.
type changeLog struct {
	mu      sync.Mutex
	changes []status.Change
}

func (l *changeLog) add(person int64, old, new rules.Color) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, status.Change{Seq: int64(len(l.changes) + 1), Person: person, Region: "341881001",
		Old: old, New: new, ReasonZH: fmt.Sprintf("%d", new)})
}

func (l *changeLog) Changes(_ context.Context, _ db.Querier, after int64, limit int) ([]status.Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []status.Change
	for _, c := range l.changes {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

type noGrids struct{}

func (noGrids) GridOf(context.Context, db.Querier, []int64) (map[int64]string, error) {
	return map[int64]string{}, nil
}

// followingTracer is a tracer that follows a change log of the test's on a
// clock of the test's, with the colour tasks of opened opened through the
// log a minute apart; advance moves the clock and returns its time.
func followingTracer(t *testing.T, d *db.DB, opened []int64) (*Service, *changeLog, func(time.Duration) time.Time) {
	t.Helper()
	tr := newStack(t, d).tracer(t, Config{})
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	tr.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(by time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(by); return now }
	log := &changeLog{}
	tr.SetFollowUp(log, noGrids{}, time.Hour)
	for _, p := range opened {
		log.add(p, rules.Green, rules.Yellow)
		if n, err := tr.FollowChanges(context.Background()); err != nil || n != 1 {
			t.Fatalf("open the task of %d: %d %v", p, n, err)
		}
		advance(time.Minute)
	}
	return tr, log, advance
}

// TestFollowUpBesideEscalation follows new colour changes of persons whose
// tasks are overdue while the escalation marks those tasks: both write the
// same tasks, and each must take them in the order the other does, or
// PostgreSQL ends one of them as a deadlock. The escalation finds its tasks
// by their deadlines, the follower by the change log; on PostgreSQL the
// test holds the task the follower takes first until both wait for it, so
// that the follower, once it has it, needs a task the escalation took.
func TestFollowUpBesideEscalation(t *testing.T) {
	cases := []struct {
		name    string
		opened  []int64 // the persons whose tasks open, a minute apart
		changed []int64 // the persons whose colour changes again, in the log's order
	}{
		{"changes in person order, deadlines not", []int64{2, 1}, []int64{1, 2}},
		{"deadlines in person order, changes not", []int64{1, 2}, []int64{2, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
				ctx := context.Background()
				tr, log, advance := followingTracer(t, d, tc.opened)
				advance(2 * time.Hour)
				for _, p := range tc.changed {
					log.add(p, rules.Yellow, rules.Red)
				}

				errs := dbtest.Contend(t, d, `SELECT id FROM followup_tasks WHERE person_num = $1 FOR UPDATE`, []any{tc.changed[0]},
					func() error {
						_, err := tr.FollowChanges(ctx)
						return err
					},
					func() error {
						_, err := tr.Escalate(ctx)
						return err
					})
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				var escalated, red int
				if err := d.QueryRowContext(ctx, `SELECT COUNT(escalated_at), COALESCE(SUM(CASE WHEN color = $1 THEN 1 ELSE 0 END), 0)
					FROM followup_tasks`, int64(rules.Red)).Scan(&escalated, &red); err != nil {
					t.Fatal(err)
				}
				if escalated != 2 || red != 2 {
					t.Errorf("%d tasks escalated and %d red, want 2 and 2", escalated, red)
				}
			})
		})
	}
}

// TestFollowUpBesidePurge follows new colour changes of persons whose old
// tasks the retention purge is deleting: both write the same tasks, and
// each must take them in the order the other does, or PostgreSQL ends one
// of them as a deadlock. The purge finds its tasks in the table's order,
// here the order they were opened in, against the persons'; on PostgreSQL
// the test holds the task the follower takes first until both wait for it.
func TestFollowUpBesidePurge(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		tr, log, advance := followingTracer(t, d, []int64{2, 1})
		cutoff := advance(30 * 24 * time.Hour).Add(-24 * time.Hour)
		for _, p := range []int64{1, 2} {
			log.add(p, rules.Yellow, rules.Red)
		}

		errs := dbtest.Contend(t, d, `SELECT id FROM followup_tasks WHERE person_num = 1 FOR UPDATE`, nil,
			func() error {
				_, err := tr.FollowChanges(ctx)
				return err
			},
			func() error {
				_, err := tr.Purge(ctx, cutoff)
				return err
			})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// The purge came after the follower on PostgreSQL and took the
		// tasks with it; on SQLite it may have come first.
		if d.Engine() == db.Postgres {
			var left int
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM followup_tasks`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("%d tasks left after the purge", left)
			}
		}
	})
}
