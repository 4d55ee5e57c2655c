package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/sms"
)

func TestRecordRefusesBadFactsAndStoresNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		num := f.person("")
		good := NewFact{Person: num, RecordedBy: "system", Fact: fact.Fact{Kind: fact.ContactClose, At: t0}}
		tests := []struct {
			name string
			nf   NewFact
			want error
		}{
			{"unknown kind", NewFact{Person: num, Fact: fact.Fact{Kind: "case.suspected", At: t0}}, fact.ErrKindUnknown},
			{"bad attribute", NewFact{Person: num, Fact: fact.Fact{Kind: fact.NATResult, At: t0, Attrs: map[string]any{"result": "neg"}}}, fact.ErrAttrNotAllowed},
			{"no person", NewFact{Person: 0, Fact: fact.Fact{Kind: fact.ContactClose, At: t0}}, person.ErrNotFound},
			{"unknown person", NewFact{Person: num + 1000, Fact: fact.Fact{Kind: fact.ContactClose, At: t0}}, person.ErrNotFound},
			{"key too long", NewFact{Person: num, Key: strings.Repeat("k", 200), Fact: fact.Fact{Kind: fact.ContactClose, At: t0}}, ErrFactKeyInvalid},
		}
		for _, tt := range tests {
			// The good fact first: a batch with one bad fact stores none.
			_, err := f.svc.Record(ctx, good, tt.nf)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
			if e, ok := apierr.As(err); ok && e.Status >= 500 {
				t.Errorf("%s: status %d", tt.name, e.Status)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts`); n != 0 {
			t.Fatalf("%d facts stored by refused batches", n)
		}
		want(t, f.svc, num, G, "")
	})
}

func TestRecordIsIdempotentByKeyAndHandlesBigBatches(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a, b := f.person("341881001"), f.person("341881002")
		batch := []NewFact{
			{Person: a, Key: "lab/1/T1", RecordedBy: "apikey:lab", Fact: fact.Fact{Kind: fact.NATResult, At: t0, Attrs: map[string]any{"result": "mixed_positive", "tube_capacity": 10}}},
			{Person: b, Key: "lab/1/T1", RecordedBy: "apikey:lab", Fact: fact.Fact{Kind: fact.NATResult, At: t0, Attrs: map[string]any{"result": "mixed_positive", "tube_capacity": 10}}},
		}
		n, err := f.svc.Record(ctx, batch...)
		if err != nil || n != 2 {
			t.Fatalf("Record = %d, %v", n, err)
		}
		want(t, f.svc, a, R, "mixed_tube_positive")
		v := want(t, f.svc, b, R, "mixed_tube_positive").Version
		n, err = f.svc.Record(ctx, batch...)
		if err != nil || n != 0 {
			t.Fatalf("second Record = %d, %v; want 0 created", n, err)
		}
		if got := want(t, f.svc, b, R, "mixed_tube_positive").Version; got != v {
			t.Fatalf("re-posting changed the version %d -> %d", v, got)
		}
		// Audited once per recorder and region.
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'fact.record'`); n != 2 {
			t.Fatalf("%d audit entries, want 2 (one per region)", n)
		}

		// A batch larger than every statement chunk: 1,500 persons, 3,000 facts.
		var big []NewFact
		people := f.bulk(1500, "341881003")
		for _, p := range people {
			big = append(big,
				NewFact{Person: p, Key: "bulk-a", Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "cough"}}},
				NewFact{Person: p, Key: "bulk-b", Fact: fact.Fact{Kind: fact.Declaration, At: t0}})
		}
		if n, err := f.svc.Record(ctx, big...); err != nil || n != 3000 {
			t.Fatalf("big Record = %d, %v", n, err)
		}
		for _, p := range []int64{people[0], people[700], people[1499]} {
			want(t, f.svc, p, Y, "watched_drug")
		}
		if n := queued(t, f.svc, d, "TRUE"); n != 1502 {
			t.Fatalf("%d notifications, want 1502", n)
		}
	})
}

// TestSchedulerOnTwoNodes: time alone turns a close contact green, found by
// the scheduler with no request; two nodes running it at once log and
// notify each change once.
func TestSchedulerOnTwoNodes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, b := f.svc, f.node(Config{Batch: 7}, nil)
		f.svc = nil
		var people []int64
		f.clock.set(t0.Add(time.Hour))
		for i := 0; i < 40; i++ {
			p := f.person("")
			people = append(people, p)
			rec(t, a, p, fact.ContactClose, t0.Add(time.Duration(i)*time.Minute), nil)
		}
		f.clock.set(t0.Add(14*day + 20*time.Minute))
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, s := range []*Service{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.RunDue(ctx)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if err := b.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		for i, p := range people {
			wantColor, wantRule := G, ""
			if i > 20 {
				wantColor, wantRule = R, "close_contact"
			}
			want(t, a, p, wantColor, wantRule)
			want(t, b, p, wantColor, wantRule)
			if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE person_num = $1 AND cause = 'time'`, p); n != map[bool]int{true: 1, false: 0}[wantColor == G] {
				t.Fatalf("person %d: %d time changes", i, n)
			}
		}
		if n := queued(t, a, d, "TRUE"); n != 40+21 {
			t.Fatalf("%d notifications, want 61", n)
		}
		// Nothing is due any more until the others' 14 days end.
		if n := count(t, d, `SELECT COUNT(*) FROM status WHERE next_eval_at <= $1`, f.clock.now().UnixMilli()); n != 0 {
			t.Fatalf("%d rows still due", n)
		}
	})
}

// TestCacheTailsTheChangeLog is the multi-node case: node b learns node a's
// changes only from the change log, in order, and a node started later
// loads the current colours.
func TestCacheTailsTheChangeLog(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a, b := f.svc, f.node(Config{}, nil)
		p, q := f.person(""), f.person("")
		rec(t, a, p, fact.ClinicFever, t0, map[string]any{"clinic": "h1"})
		if c, v := a.Color(p); c != Y || v == 0 {
			t.Fatalf("node a after its own Record: %v v%d", c, v)
		}
		if c, v := b.Color(p); c != G || v != 0 {
			t.Fatalf("node b before tailing: %v v%d, want green v0", c, v)
		}
		if err := b.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		ca, va := a.Color(p)
		cb, vb := b.Color(p)
		if ca != cb || va != vb || cb != Y {
			t.Fatalf("after tailing: a %v v%d, b %v v%d", ca, va, cb, vb)
		}
		f.clock.set(t0.Add(2 * time.Hour))
		rec(t, b, q, fact.CaseConfirmed, t0, nil)
		rec(t, b, p, fact.NATResult, t0, negative)
		rec(t, a, p, fact.PharmacyPurchase, t0.Add(time.Hour), map[string]any{"drug_class": "fever"})
		for _, s := range []*Service{a, b} {
			if err := s.Tail(ctx); err != nil {
				t.Fatal(err)
			}
			want(t, s, p, Y, "watched_drug")
			want(t, s, q, R, "confirmed_case")
		}
		if a.TailPosition() != b.TailPosition() || a.TailPosition() != int64(count(t, d, `SELECT COUNT(*) FROM status_changes`)) {
			t.Fatalf("tail positions %d, %d", a.TailPosition(), b.TailPosition())
		}
		c := f.node(Config{}, nil)
		want(t, c, p, Y, "watched_drug")
		want(t, c, q, R, "confirmed_case")
		if c.TailPosition() != a.TailPosition() {
			t.Fatalf("a new node starts tailing at %d, want %d", c.TailPosition(), a.TailPosition())
		}
		// A stale entry applied late does not overwrite a newer one.
		c.cache.set(p, G, 1)
		if col, _ := c.Color(p); col != Y {
			t.Fatal("an older version overwrote a newer one in the cache")
		}
	})
}

// flaky fails the first failures sends to each phone in fail.
type flaky struct {
	mu       sync.Mutex
	next     sms.Sender
	failures map[string]int
	sent     map[string]int
}

func (f *flaky) Send(ctx context.Context, m sms.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures[m.To] > 0 {
		f.failures[m.To]--
		return fmt.Errorf("gateway timeout for %s", m.To)
	}
	f.sent[m.To]++
	return f.next.Send(ctx, m)
}

func TestNotificationsAreRetried(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		gw := &flaky{next: f.outbox, failures: map[string]int{"13900000002": 2}, sent: map[string]int{}}
		s := f.node(Config{}, gw)
		p := f.person("")
		f.phone(p, "13900000001")
		f.guardian(p, "13900000002")
		nobody := f.person("")
		rec(t, s, p, fact.ContactClose, t0, nil)
		rec(t, s, nobody, fact.ContactClose, t0, nil)
		for i, wantState := range []string{NotePending, NotePending, NoteSent} {
			if err := s.SendNotifications(ctx); err != nil {
				t.Fatal(err)
			}
			ns, err := s.Notifications(ctx, p)
			if err != nil || len(ns) != 1 {
				t.Fatalf("notifications %v, %v", ns, err)
			}
			n := ns[0]
			if n.State != wantState || n.Attempts != int64(i+1) {
				t.Fatalf("attempt %d: %+v, want %s", i+1, n, wantState)
			}
			if wantState == NotePending {
				if !strings.Contains(n.LastError, "gateway timeout") || !n.NextAt.Equal(f.clock.now().Add(backoff(n.Attempts)).Truncate(time.Millisecond)) {
					t.Fatalf("attempt %d: %+v", i+1, n)
				}
				// Not due yet: nothing is sent.
				if err := s.SendNotifications(ctx); err != nil {
					t.Fatal(err)
				}
				f.clock.set(n.NextAt)
			}
		}
		if gw.sent["13900000001"] != 1 || gw.sent["13900000002"] != 1 {
			t.Fatalf("sent %v: each phone must get the text exactly once", gw.sent)
		}
		msgs, err := f.outbox.List(ctx, sms.Filter{To: "13900000002"})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox %v, %v", msgs, err)
		}
		body := msgs[0].Body
		for _, part := range []string{"测*", "绿码转为红码", "密切接触者", "处理建议："} {
			if !strings.Contains(body, part) {
				t.Errorf("message %q lacks %q", body, part)
			}
		}
		ns, _ := s.Notifications(ctx, nobody)
		if len(ns) != 1 || ns[0].State != NoteNoRecipient {
			t.Fatalf("person without phones: %+v", ns)
		}
		if backoff(1) != 10*time.Second || backoff(2) != 20*time.Second || backoff(20) != time.Hour {
			t.Fatal("backoff is not 10 s doubling to 1 h")
		}
	})
}

func TestNotificationGivesUpAfterMaxAttempts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		gw := &flaky{next: f.outbox, failures: map[string]int{"13900000003": 1000}, sent: map[string]int{}}
		s := f.node(Config{}, gw)
		p := f.person("")
		f.phone(p, "13900000003")
		rec(t, s, p, fact.CaseConfirmed, t0, nil)
		for i := 0; i < notifyMaxAttempts+3; i++ {
			if err := s.SendNotifications(ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.set(f.clock.now().Add(2 * time.Hour))
		}
		ns, _ := s.Notifications(ctx, p)
		if len(ns) != 1 || ns[0].State != NoteFailed || ns[0].Attempts != notifyMaxAttempts {
			t.Fatalf("%+v", ns)
		}
	})
}

// watchedDrugOff is the default set without the watched-drug rule (and its
// examples), as an authority might decide.
func watchedDrugOff(t testing.TB) []byte {
	t.Helper()
	set := rules.Default()
	var rs []rules.Rule
	for _, r := range set.Rules {
		if r.ID != "watched_drug" {
			rs = append(rs, r)
		}
	}
	var ex []rules.Example
	for _, e := range set.Examples {
		if e.WantRule != "watched_drug" && !strings.Contains(e.Name, "medicine") {
			ex = append(ex, e)
		}
	}
	set.Rules, set.Examples = rs, ex
	return mustJSON(t, set)
}

func TestRecomputeResumesAfterANodeDies(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		var people []int64
		for i := 0; i < 45; i++ {
			p := f.person("")
			people = append(people, p)
			switch i % 3 {
			case 0:
				rec(t, f.svc, p, fact.PharmacyPurchase, t0, map[string]any{"drug_class": "fever"})
			case 1:
				rec(t, f.svc, p, fact.ContactClose, t0, nil)
			}
		}
		v, err := f.svc.CreateRuleSet(ctx, admin, watchedDrugOff(t))
		if err != nil {
			t.Fatal(err)
		}
		job, err := f.svc.Activate(ctx, admin, v.Version)
		if err != nil {
			t.Fatal(err)
		}
		if job.Total != 45 || job.State != "running" {
			t.Fatalf("job %+v", job)
		}
		a := f.node(Config{Batch: 10, Node: "a"}, nil)
		b := f.node(Config{Batch: 10, Node: "b"}, nil)
		j, err := a.claimJob(ctx)
		if err != nil || j == nil {
			t.Fatalf("claim: %v %v", j, err)
		}
		prog, err := a.program(ctx, d, j.Version)
		if err != nil {
			t.Fatal(err)
		}
		batches := make(chan prefetch, 1)
		pctx, stop := context.WithCancel(ctx)
		go a.prefetch(pctx, prog, j.Cursor, batches)
		for i := 0; i < 2; i++ {
			if more, err := a.recomputeStep(ctx, j, prog, <-batches); err != nil || !more {
				t.Fatalf("step: %v %v", more, err)
			}
		}
		stop()
		// Node a dies here. While its lease runs, b leaves the job alone.
		if err := b.RunRecompute(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := b.LatestJob(ctx)
		if got.Done != 20 || got.Owner != "a" || got.State != "running" {
			t.Fatalf("job while a's lease runs: %+v", got)
		}
		f.clock.set(t0.Add(time.Minute))
		if err := b.RunRecompute(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ = b.LatestJob(ctx)
		if got.State != "done" || got.Done != 45 || got.Total != 45 || got.Owner != "b" || got.Changed != 15 || got.FinishedAt.IsZero() {
			t.Fatalf("job after b resumed: %+v", got)
		}
		for _, s := range []*Service{a, b} {
			if err := s.Tail(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i, p := range people {
			wantColor, wantRule := G, ""
			if i%3 == 1 {
				wantColor, wantRule = R, "close_contact"
			}
			want(t, b, p, wantColor, wantRule)
			want(t, a, p, wantColor, wantRule)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE cause = 'rules'`); n != 15 {
			t.Fatalf("%d changes logged by the recompute, want the 15 that changed", n)
		}
		// A job that finished is not run again.
		if err := a.RunRecompute(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes`); n != 45 {
			t.Fatalf("%d changes", n)
		}
	})
}

// TestConcurrentWritersAgree: Records on two nodes, the scheduler and a
// recompute run at once over the same persons; every final status equals a
// fresh evaluation of the person's facts, and the change log holds every
// step (its last entry per person is the stored decision).
func TestConcurrentWritersAgree(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		a, b := f.svc, f.node(Config{Batch: 5}, nil)
		var people []int64
		for i := 0; i < 12; i++ {
			people = append(people, f.person(""))
		}
		v, err := a.CreateRuleSet(ctx, admin, watchedDrugOff(t))
		if err != nil {
			t.Fatal(err)
		}
		kinds := []func(p int64, i int) NewFact{
			func(p int64, i int) NewFact {
				return NewFact{Person: p, Fact: fact.Fact{Kind: fact.ContactSecondary, At: t0.Add(-time.Duration(i) * time.Hour)}}
			},
			func(p int64, i int) NewFact {
				return NewFact{Person: p, Fact: fact.Fact{Kind: fact.NATResult, At: t0.Add(time.Duration(i) * time.Minute), Attrs: negative}}
			},
			func(p int64, i int) NewFact {
				return NewFact{Person: p, Fact: fact.Fact{Kind: fact.ClinicFever, At: t0.Add(time.Duration(i) * time.Minute), Attrs: map[string]any{"clinic": "h"}}}
			},
			func(p int64, i int) NewFact {
				return NewFact{Person: p, Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0.Add(time.Duration(i) * time.Minute), Attrs: map[string]any{"drug_class": "cough"}}}
			},
		}
		f.clock.set(t0.Add(3 * day))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		fail := func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}
		for w, s := range []*Service{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					var batch []NewFact
					for k := 0; k < 3; k++ {
						p := people[(w*7+i*5+k*3)%len(people)]
						batch = append(batch, kinds[(w+i+k)%len(kinds)](p, i))
					}
					_, err := s.Record(ctx, batch...)
					fail(err)
				}
			}()
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := b.Activate(ctx, admin, v.Version)
			fail(err)
			fail(b.RunRecompute(ctx))
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				fail(a.RunDue(ctx))
			}
		}()
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		fail(a.RunRecompute(ctx)) // in case the recompute lost a race with nothing
		prog, err := a.program(ctx, d, v.Version)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Tail(ctx); err != nil {
			t.Fatal(err)
		}
		for _, p := range people {
			facts, err := a.factRowsOf(ctx, d, []int64{p})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := a.evaluate(prog, []personRef{{num: p}}, facts, f.clock.now())
			if err != nil {
				t.Fatal(err)
			}
			st := want(t, a, p, ds[0].Color, ds[0].RuleID)
			var last int64
			var lastColor int64 = int64(G)
			d.QueryRowContext(ctx, `SELECT seq, new_color FROM status_changes WHERE person_num = $1 ORDER BY seq DESC LIMIT 1`, p).Scan(&last, &lastColor)
			if uint64(last) != st.Version || rules.Color(lastColor) != st.Color {
				t.Fatalf("person %d: last change %d (%v), status v%d %v", p, last, lastColor, st.Version, st.Color)
			}
		}
		// The log has no gaps.
		if n, m := count(t, d, `SELECT COUNT(*) FROM status_changes`), count(t, d, `SELECT COALESCE(MAX(seq), 0) FROM status_changes`); n != m {
			t.Fatalf("%d change-log entries up to seq %d", n, m)
		}
	})
}

// TestRecomputeCoversPersonsWithoutRows: a recompute reaches persons whose
// facts never gave them a status row, and, when a set decides something
// for an empty history, persons with no facts at all.
func TestRecomputeCoversPersonsWithoutRows(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		vaccinated, nobody, tested := f.person(""), f.person(""), f.person("")
		rec(t, f.svc, vaccinated, fact.VaccineDose, t0, map[string]any{"dose": 3})
		rec(t, f.svc, tested, fact.NATResult, t0, negative)
		rule := func(id, cond string) rules.Rule {
			return rules.Rule{ID: id, Color: rules.Yellow, Condition: cond, Reason: rules.Text{ZH: "测试规则", EN: "test rule"}}
		}
		activate := func(rs ...rules.Rule) {
			t.Helper()
			v, err := f.svc.CreateRuleSet(ctx, admin, mustJSON(t, rules.Set{Rules: rs}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Activate(ctx, admin, v.Version); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.RunRecompute(ctx); err != nil {
				t.Fatal(err)
			}
			if j, _ := f.svc.LatestJob(ctx); j.State != "done" || j.Done != 3 || j.Total != 3 {
				t.Fatalf("job %+v", j)
			}
		}
		activate(rule("vaccinated", "facts.any('vaccine.dose')"))
		want(t, f.svc, vaccinated, Y, "vaccinated")
		want(t, f.svc, nobody, G, "")
		want(t, f.svc, tested, G, "")
		activate(rule("untested", "!facts.any('nat.result')"))
		want(t, f.svc, vaccinated, Y, "untested")
		want(t, f.svc, nobody, Y, "untested")
		want(t, f.svc, tested, G, "")
		if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE cause = 'rules'`); n != 3 {
			t.Fatalf("%d changes logged by the recomputes, want 3", n)
		}
	})
}

// TestARunIsNotifiedOnceByTwoNodes: a long run of changes queued as one is
// turned into notifications a slice at a time by whichever node sends, and
// every change is notified exactly once, even with two nodes sending at
// once.
func TestARunIsNotifiedOnceByTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		gw := &flaky{next: f.outbox, failures: map[string]int{}, sent: map[string]int{}}
		a, b := f.node(Config{}, gw), f.node(Config{}, gw)
		people := f.bulk(notifyRunSlice+150, "341881003")
		phones := map[int64]string{people[0]: "13900000011", people[notifyRunSlice]: "13900000012", people[len(people)-1]: "13900000013"}
		for p, phone := range phones {
			f.phone(p, phone)
		}
		facts := coughRun(people)
		if _, err := a.Record(ctx, facts...); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notification_runs`); n == 0 {
			t.Fatal("no run queued")
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.SendNotifications(ctx)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notification_runs`); n != 0 {
			t.Fatalf("%d runs left", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notifications WHERE state = $1`, NoteNoRecipient); n != len(people)-len(phones) {
			t.Fatalf("%d notifications without a recipient, want %d", n, len(people)-len(phones))
		}
		if n := count(t, d, `SELECT COUNT(*) FROM notifications WHERE state = $1`, NoteSent); n != len(phones) {
			t.Fatalf("%d notifications sent, want %d", n, len(phones))
		}
		for _, phone := range phones {
			if gw.sent[phone] != 1 {
				t.Errorf("%s got %d texts, want 1", phone, gw.sent[phone])
			}
		}
	})
}
