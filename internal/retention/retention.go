// Package retention purges personal data once it has been kept as long as
// its kind may be. Each feature owns the purge of its own tables (a method
// taking the cutoff, its SQL beside the rest of the feature's); this package
// only holds the list of kinds, their periods, and the schedule, and writes
// to the audit log that a purge happened and how many rows it removed, never
// what they held.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
)

// PurgeFunc removes one kind's rows from before cutoff and says how many
// rows it removed per table.
type PurgeFunc func(ctx context.Context, cutoff time.Time) (map[string]int64, error)

// Kind is one kind of personal data with its retention period.
type Kind struct {
	Name   string        // "checkins", "facts", ... (stable: it names the audit entry and the flag)
	Period time.Duration // how long rows are kept; 0 or less keeps them for ever
	Purge  PurgeFunc
}

// Runner purges every registered kind on a schedule. It is safe for
// concurrent use; nodes sharing a store each run one (a purge is idempotent).
type Runner struct {
	db    *db.DB
	log   *slog.Logger
	now   func() time.Time
	kinds []Kind
}

// New returns a runner with no kinds.
func New(d *db.DB, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.Default()
	}
	return &Runner{db: d, log: log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (r *Runner) SetClock(now func() time.Time) { r.now = now }

// Register adds a kind. Features not yet wired (vaccination records, cold
// chain) are registered here, where the server builds the runner, by one
// Register call each with their own PurgeFunc and flag.
func (r *Runner) Register(k Kind) {
	if k.Name == "" || k.Purge == nil {
		panic("retention: a kind needs a name and a purge")
	}
	for _, have := range r.kinds {
		if have.Name == k.Name {
			panic("retention: kind " + k.Name + " registered twice")
		}
	}
	r.kinds = append(r.kinds, k)
}

// Kinds lists the registered kinds in registration order.
func (r *Runner) Kinds() []Kind { return append([]Kind(nil), r.kinds...) }

// Result is what one kind's purge removed.
type Result struct {
	Kind   string
	Cutoff time.Time
	Rows   map[string]int64
	Err    error
}

// Total is the rows removed across tables.
func (res Result) Total() int64 {
	var n int64
	for _, v := range res.Rows {
		n += v
	}
	return n
}

// Run purges every kind once. A failing kind does not stop the others; the
// errors are joined. A purge that removed anything is audited as
// "retention.purge" with its kind, cutoff and counts per table.
func (r *Runner) Run(ctx context.Context) error {
	_, err := r.RunOnce(ctx)
	return err
}

// RunOnce is Run returning what each kind removed.
func (r *Runner) RunOnce(ctx context.Context) ([]Result, error) {
	now := r.now()
	var out []Result
	var errs []error
	for _, k := range r.kinds {
		if k.Period <= 0 {
			continue
		}
		res := Result{Kind: k.Name, Cutoff: now.Add(-k.Period)}
		res.Rows, res.Err = k.Purge(ctx, res.Cutoff)
		if res.Total() > 0 {
			// Partial counts are recorded too: those rows are gone.
			if err := r.record(ctx, res, now); err != nil {
				errs = append(errs, err)
			}
		}
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("retention: %s: %w", k.Name, res.Err))
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

func (r *Runner) record(ctx context.Context, res Result, now time.Time) error {
	tables := make([]string, 0, len(res.Rows))
	for t := range res.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	rows := map[string]any{}
	for _, t := range tables {
		rows[t] = res.Rows[t]
	}
	r.log.Info("retention purge", "kind", res.Kind, "cutoff", res.Cutoff.UTC(), "rows", res.Total())
	err := audit.Record(ctx, r.db, audit.Entry{At: now, Actor: "system", Action: "retention.purge",
		Subject: "retention:" + res.Kind, Detail: map[string]any{
			"kind": res.Kind, "cutoff": res.Cutoff.UTC().Format(time.RFC3339), "rows": rows, "complete": res.Err == nil,
		}})
	if err != nil {
		return fmt.Errorf("retention: audit the %s purge: %w", res.Kind, err)
	}
	return nil
}
