package status

import (
	"context"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// TestRuleTextsReachEveryReader: status rows and change-log entries do not
// copy their rule's texts, so each reader must give them back: the status,
// lists by colour and the change log the follow-up reads, for a single fact
// and for a batch.
func TestRuleTextsReachEveryReader(t *testing.T) {
	var rule rules.Rule
	for _, r := range rules.Default().Rules {
		if r.ID == "watched_drug" {
			rule = r
		}
	}
	if rule.ID == "" || rule.Reason.ZH == "" || rule.Advice.EN == "" {
		t.Fatalf("default rule watched_drug has no texts: %+v", rule)
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		one := f.person("341881001")
		people := append([]int64{one}, f.bulk(600, "341881003")...)
		if _, err := f.svc.Record(ctx, NewFact{Person: one, Key: "k", Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0,
			Attrs: map[string]any{"drug_class": "cough"}}}); err != nil {
			t.Fatal(err)
		}
		var big []NewFact
		for _, p := range people[1:] {
			big = append(big, NewFact{Person: p, Key: "k", Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: t0,
				Attrs: map[string]any{"drug_class": "cough"}}})
		}
		if _, err := f.svc.Record(ctx, big...); err != nil {
			t.Fatal(err)
		}
		for _, p := range []int64{one, people[1], people[600]} {
			st := want(t, f.svc, p, Y, "watched_drug")
			if st.Reason != rule.Reason || st.Advice != rule.Advice {
				t.Fatalf("person %d: status texts %+v / %+v, want the rule's %+v / %+v", p, st.Reason, st.Advice, rule.Reason, rule.Advice)
			}
		}
		rows, err := f.svc.ByColour(ctx, ColourQuery{Among: people, Limit: 1000})
		if err != nil || len(rows) != len(people) {
			t.Fatalf("ByColour = %d rows, %v; want %d", len(rows), err, len(people))
		}
		rows2, err := f.svc.ByColour(ctx, ColourQuery{Lo: "341881", Hi: "341882", Limit: 1000})
		if err != nil || len(rows2) != len(people) {
			t.Fatalf("ByColour by region = %d rows, %v; want %d", len(rows2), err, len(people))
		}
		for _, r := range append(rows, rows2...) {
			if r.ReasonZH != rule.Reason.ZH || r.ReasonEN != rule.Reason.EN || r.AdviceZH != rule.Advice.ZH {
				t.Fatalf("ByColour row %+v lacks the rule's texts", r)
			}
		}
		changes, err := f.svc.Changes(ctx, d, 0, 1000)
		if err != nil || len(changes) != len(people) {
			t.Fatalf("Changes = %d, %v; want %d", len(changes), err, len(people))
		}
		for _, c := range changes {
			if c.ReasonZH != rule.Reason.ZH || c.AdviceZH != rule.Advice.ZH {
				t.Fatalf("change %+v lacks the rule's texts", c)
			}
		}
	})
}
