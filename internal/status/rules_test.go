package status

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/rules"
)

// step is one moment of a scenario: at now (offset from t0) a fact is
// recorded (kind != ""), or else the scheduler runs; then the person must be
// color by rule, with the next evaluation at next when next is set.
type step struct {
	now   time.Duration
	kind  string
	at    time.Duration
	until time.Duration
	attrs map[string]any
	color rules.Color
	rule  string
	next  time.Duration // 0: not checked; -1: none
}

const (
	G = rules.Green
	Y = rules.Yellow
	R = rules.Red
)

var companion = map[string]any{"case_person": "p1", "venue": "v1", "case_at": "2022-04-01T09:00:00+08:00", "person_at": "2022-04-01T09:30:00+08:00"}

func normalDays(from, n int, last step) []step {
	var out []step
	for i := from; i < from+n; i++ {
		out = append(out, step{now: time.Duration(i) * day, kind: "declaration", at: time.Duration(i) * day,
			attrs: map[string]any{"temperature": 36.5}, color: last.color, rule: last.rule})
	}
	return out
}

func join(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestDefaultRulesThroughTheStore drives each default rule through the
// engine: facts recorded through Record (which must recompute at once), and
// time passing through the scheduler alone, at the boundary and 1 ms before
// it. The change log and the notification queue must hold exactly the
// changes the steps went through.
func TestDefaultRulesThroughTheStore(t *testing.T) {
	ms := time.Millisecond
	scenarios := map[string][]step{
		"confirmed_case": {
			{now: 0, kind: "case.confirmed", color: R, rule: "confirmed_case", next: -1},
			{now: 10 * day, kind: "case.released", at: 10 * day, attrs: map[string]any{"reason": "recovered"}, color: G},
		},
		"asymptomatic_case": {
			{now: 0, kind: "case.asymptomatic", color: R, rule: "asymptomatic_case"},
			{now: 10 * day, kind: "case.released", at: 10 * day, attrs: map[string]any{"reason": "isolation_ended"}, color: G},
		},
		"nat_positive": {
			{now: time.Hour, kind: "nat.result", attrs: map[string]any{"result": "positive"}, color: R, rule: "nat_positive"},
			{now: 5 * time.Hour, kind: "nat.result", at: time.Hour, attrs: mixedNegative, color: R, rule: "nat_positive"},
			{now: 5 * time.Hour, kind: "nat.result", at: 2 * time.Hour, attrs: negative, color: G},
		},
		"mixed_tube_positive": {
			{now: time.Hour, kind: "nat.result", attrs: map[string]any{"result": "mixed_positive", "tube_capacity": 10}, color: R, rule: "mixed_tube_positive"},
			{now: 5 * time.Hour, kind: "nat.result", at: time.Hour, attrs: mixedNegative, color: R, rule: "mixed_tube_positive"},
			{now: 5 * time.Hour, kind: "nat.result", at: 2 * time.Hour, attrs: negative, color: G},
		},
		"close_contact": {
			{now: time.Hour, kind: "contact.close", color: R, rule: "close_contact", next: 14 * day},
			{now: 14*day - ms, color: R, rule: "close_contact", next: 14 * day},
			{now: 14 * day, color: G, next: -1},
		},
		"isolation": {
			{now: 0, kind: "isolation", until: 7 * day, attrs: map[string]any{"mode": "home"}, color: R, rule: "isolation", next: 7 * day},
			{now: 7*day - ms, color: R, rule: "isolation"},
			{now: 7 * day, color: G, next: -1},
		},
		"isolation ordered for later": {
			{now: 0, kind: "isolation", at: 2 * day, until: 9 * day, attrs: map[string]any{"mode": "centralized"}, color: G, next: 2 * day},
			{now: 2*day - ms, color: G, next: 2 * day},
			{now: 2 * day, color: R, rule: "isolation", next: 9 * day},
			{now: 9 * day, color: G, next: -1},
		},
		"declared_exposure": join(
			[]step{{now: 0, kind: "declaration", attrs: map[string]any{"exposure": true}, color: R, rule: "declared_exposure", next: -1}},
			normalDays(1, 13, step{color: R, rule: "declared_exposure"}),
			normalDays(14, 1, step{color: G}),
		),
		"companion": {
			{now: 0, kind: "contact.companion", attrs: companion, color: Y, rule: "companion"},
			{now: 2 * day, kind: "nat.result", at: time.Hour, attrs: mixedNegative, color: Y, rule: "companion"},
			{now: 2 * day, kind: "nat.result", at: 25*time.Hour - ms, attrs: mixedNegative, color: Y, rule: "companion"},
			{now: 2 * day, kind: "nat.result", at: 25 * time.Hour, attrs: mixedNegative, color: G},
		},
		"secondary_contact": {
			{now: time.Hour, kind: "contact.secondary", color: Y, rule: "secondary_contact", next: 7 * day},
			{now: 7*day - ms, color: Y, rule: "secondary_contact"},
			{now: 7 * day, color: G, next: -1},
		},
		"risk_area_arrival": {
			{now: 0, kind: "arrival.inbound", attrs: map[string]any{"origin": "310000", "origin_risk": "high"}, color: Y, rule: "risk_area_arrival"},
			{now: time.Hour, kind: "nat.result", at: -48*time.Hour - ms, attrs: negative, color: Y, rule: "risk_area_arrival"},
			{now: time.Hour, kind: "nat.result", at: -48 * time.Hour, attrs: negative, color: G},
		},
		"risk_area_visit": {
			{now: 0, kind: "visit.risk_area", at: -10 * time.Hour, until: -4 * time.Hour, attrs: map[string]any{"region": "310115", "level": "medium"},
				color: Y, rule: "risk_area_visit"},
			{now: time.Hour, kind: "nat.result", at: -52*time.Hour - ms, attrs: negative, color: Y, rule: "risk_area_visit"},
			{now: time.Hour, kind: "nat.result", at: -52 * time.Hour, attrs: negative, color: G},
		},
		"fever_clinic": {
			{now: 0, kind: "clinic.fever", attrs: map[string]any{"clinic": "h1", "temperature": 38.4}, color: Y, rule: "fever_clinic"},
			{now: time.Hour, kind: "nat.result", at: -ms, attrs: negative, color: Y, rule: "fever_clinic"},
			{now: time.Hour, kind: "nat.result", at: 0, attrs: mixedNegative, color: G},
		},
		"watched_drug": {
			{now: 0, kind: "pharmacy.purchase", attrs: map[string]any{"drug_class": "fever"}, color: Y, rule: "watched_drug"},
			{now: time.Hour, kind: "nat.result", at: time.Hour, attrs: negative, color: G},
		},
		"checkpoint_fever": {
			{now: 0, kind: "temperature", attrs: map[string]any{"celsius": 37.3, "checkpoint": "cp1"}, color: Y, rule: "checkpoint_fever"},
			{now: 0, kind: "nat.result", at: 0, attrs: negative, color: G},
		},
		"declared_illness": join(
			[]step{{now: 0, kind: "declaration", attrs: map[string]any{"temperature": 38.2, "symptoms": []any{"fever"}}, color: Y, rule: "declared_illness"}},
			normalDays(1, 6, step{color: Y, rule: "declared_illness"}),
			normalDays(7, 1, step{color: G}),
		),
		"cold_chain": {
			{now: 0, kind: "cold_chain.exposure", attrs: map[string]any{"batch": "b1", "holder": "o1", "handled_at": t0.Add(-2 * day)},
				color: Y, rule: "cold_chain"},
			{now: time.Hour, kind: "nat.result", at: -ms, attrs: negative, color: Y, rule: "cold_chain"},
			{now: time.Hour, kind: "nat.result", at: time.Hour, attrs: mixedNegative, color: G},
		},
		"appeal over a close contact": {
			{now: time.Hour, kind: "contact.close", color: R, rule: "close_contact", next: 14 * day},
			{now: day, kind: "appeal.granted", at: day, until: 3 * day, attrs: map[string]any{"appeal": "a1"}, color: G, rule: rules.AppealRuleID, next: 3 * day},
			{now: 3*day - ms, color: G, rule: rules.AppealRuleID},
			{now: 3 * day, color: R, rule: "close_contact", next: 14 * day},
			{now: 14 * day, color: G, next: -1},
		},
		"appeal does not hide a later fact": {
			{now: time.Hour, kind: "clinic.fever", attrs: map[string]any{"clinic": "h1"}, color: Y, rule: "fever_clinic"},
			{now: day, kind: "appeal.granted", at: day, until: 3 * day, attrs: map[string]any{"appeal": "a1"}, color: G, rule: rules.AppealRuleID},
			{now: 2 * day, kind: "contact.close", at: 2 * day, color: R, rule: "close_contact", next: 3 * day},
			{now: 3 * day, color: R, rule: "close_contact", next: 16 * day},
		},
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for name, steps := range scenarios {
			t.Run(name, func(t *testing.T) {
				num := f.person("")
				prevColor, prevRule := G, ""
				changes, colours := 0, 0
				for i, st := range steps {
					f.clock.set(t0.Add(st.now))
					if st.kind != "" {
						var until time.Time
						if st.until != 0 {
							until = t0.Add(st.until)
						}
						recUntil(t, f.svc, num, st.kind, t0.Add(st.at), until, st.attrs)
					} else if err := f.svc.RunDue(context.Background()); err != nil {
						t.Fatal(err)
					}
					t.Run(fmt.Sprintf("step %d", i), func(t *testing.T) {
						got := want(t, f.svc, num, st.color, st.rule)
						switch {
						case st.next < 0 && !got.NextEval.IsZero():
							t.Errorf("next evaluation %v, want none", got.NextEval)
						case st.next > 0 && !got.NextEval.Equal(t0.Add(st.next)):
							t.Errorf("next evaluation %v, want %v", got.NextEval, t0.Add(st.next))
						}
						if got.Reason.ZH == "" || got.Reason.EN == "" {
							t.Errorf("no reason: %+v", got)
						}
					})
					if st.color != prevColor || st.rule != prevRule {
						changes++
					}
					if st.color != prevColor {
						colours++
					}
					prevColor, prevRule = st.color, st.rule
				}
				if n := count(t, d, `SELECT COUNT(*) FROM status_changes WHERE person_num = $1`, num); n != changes {
					t.Errorf("%d change-log entries, want %d", n, changes)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM notifications WHERE person_num = $1`, num); n != colours {
					t.Errorf("%d notifications queued, want %d", n, colours)
				}
			})
		}
	})
}
