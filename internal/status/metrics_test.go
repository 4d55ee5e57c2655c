package status

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/metricstest"
)

// TestMetricsFollowTheEngine: what an operator reads off /metrics moves
// with what the engine did: changes by cause, texts queued and their
// outcomes, the scheduler, another node's tail, a recompute.
func TestMetricsFollowTheEngine(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		gw := &flaky{next: f.outbox, failures: map[string]int{"13900000011": 1}, sent: map[string]int{}}
		ra, rb := prometheus.NewRegistry(), prometheus.NewRegistry()
		a := f.node(Config{Metrics: ra, Node: "a"}, gw)
		b := f.node(Config{Metrics: rb, Node: "b"}, nil)
		val := func(r *prometheus.Registry, name string, labels ...string) float64 {
			t.Helper()
			return metricstest.Value(t, r, name, labels...)
		}
		check := func(r *prometheus.Registry, name string, want float64, labels ...string) {
			t.Helper()
			if got := val(r, name, labels...); got != want {
				t.Errorf("%s%q = %v, want %v", name, labels, got, want)
			}
		}

		p, nobody := f.person(""), f.person("")
		f.phone(p, "13900000011")
		rec(t, a, p, fact.ContactClose, t0, nil)
		rec(t, a, nobody, fact.ContactClose, t0, nil)
		check(ra, "healthcode_status_facts_total", 2)
		check(ra, "healthcode_status_changes_total", 2, "cause", CauseFact)
		check(ra, "healthcode_status_notifications_queued_total", 2)

		if err := a.SendNotifications(ctx); err != nil {
			t.Fatal(err)
		}
		check(ra, "healthcode_status_notifications_total", 1, "outcome", noteRetry)
		check(ra, "healthcode_status_notifications_total", 1, "outcome", NoteNoRecipient)
		f.clock.set(t0.Add(time.Hour))
		if err := a.SendNotifications(ctx); err != nil {
			t.Fatal(err)
		}
		check(ra, "healthcode_status_notifications_total", 1, "outcome", NoteSent)

		// Fifteen days on, both close contacts are green again.
		f.clock.set(t0.Add(15 * day))
		if err := a.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		check(ra, "healthcode_status_scheduler_evaluations_total", 2)
		check(ra, "healthcode_status_changes_total", 2, "cause", CauseTime)

		// Node b learns the four changes from the log.
		before := float64(time.Now().Unix())
		if err := b.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		check(rb, "healthcode_status_tail_applied_total", 4)
		check(rb, "healthcode_status_tail_seq", 4)
		if got := val(rb, "healthcode_status_tail_current_timestamp_seconds"); got < before-1 {
			t.Errorf("tail current at %v, before the tail began (%v)", got, before)
		}
		check(rb, "healthcode_status_changes_total", 0, "cause", CauseFact)

		v, err := a.CreateRuleSet(ctx, admin, watchedDrugOff(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Activate(ctx, admin, v.Version); err != nil {
			t.Fatal(err)
		}
		if err := a.RunRecompute(ctx); err != nil {
			t.Fatal(err)
		}
		check(ra, "healthcode_status_recompute_persons_total", 2)
		check(ra, "healthcode_status_recompute_progress_ratio", 1)
		if n := val(ra, "healthcode_status_recompute_batch_duration_seconds"); n < 1 {
			t.Errorf("%v recompute batches observed", n)
		}
	})
}
