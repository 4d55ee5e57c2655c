package rules

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/fact"
)

func defaultProgram(t testing.TB) *Program {
	t.Helper()
	return mustCompile(t, Default(), Options{})
}

func TestDefaultCompilesAndEveryRuleHasExamples(t *testing.T) {
	s := Default()
	defaultProgram(t)
	decided := map[string]int{}
	for _, ex := range s.Examples {
		decided[ex.WantRule]++
	}
	for _, r := range s.Rules {
		if decided[r.ID] == 0 {
			t.Errorf("rule %s: no example decided by it", r.ID)
		}
		if r.Advice.ZH == "" || r.Advice.EN == "" {
			t.Errorf("rule %s: no advice", r.ID)
		}
	}
	if decided[AppealRuleID] == 0 || decided[""] == 0 {
		t.Error("the examples must cover appeals and green")
	}
}

// Every default rule is written so that Eval can skip it for people without
// the facts it is about; otherwise recomputing a province gets slow.
func TestDefaultRulesAreGuarded(t *testing.T) {
	p := defaultProgram(t)
	for _, r := range p.rules {
		if r.need == 0 {
			t.Errorf("rule %s has no facts.any/facts.active guard", r.ID)
		}
	}
}

func TestDefaultIsAFreshCopy(t *testing.T) {
	a := Default()
	a.Rules[0].Color = Green
	a.Examples = nil
	if b := Default(); b.Rules[0].Color != Red || len(b.Examples) == 0 {
		t.Fatal("Default shares state between calls")
	}
	if !json.Valid(DefaultJSON()) {
		t.Fatal("DefaultJSON is not JSON")
	}
}

type want struct {
	color Color
	rule  string
	next  time.Time // checked exactly; zero means no re-evaluation is due
}

var green = want{color: Green}

func check(t *testing.T, p *Program, name string, facts []fact.Fact, now time.Time, w want) {
	t.Helper()
	d := p.Eval(facts, now)
	if d.Color != w.color || d.RuleID != w.rule || !d.NextEval.Equal(w.next) || len(d.Errors) > 0 {
		t.Errorf("%s: got %s by %q next %v errors %v; want %s by %q next %v",
			name, d.Color, d.RuleID, d.NextEval, d.Errors, w.color, w.rule, w.next)
	}
}

func TestDefaultRules(t *testing.T) {
	p := defaultProgram(t)
	type step struct {
		name  string
		facts []fact.Fact
		now   time.Time
		want  want
	}
	red := func(rule string) want { return want{color: Red, rule: rule} }
	yellow := func(rule string) want { return want{color: Yellow, rule: rule} }
	redUntil := func(rule string, next time.Time) want { return want{color: Red, rule: rule, next: next} }
	yellowUntil := func(rule string, next time.Time) want { return want{color: Yellow, rule: rule, next: next} }
	released := func(at time.Time) fact.Fact { return mk(fact.CaseReleased, at, "reason", "recovered") }
	confirmed := mk(fact.CaseConfirmed, base)
	asymptomatic := mk(fact.CaseAsymptomatic, base)
	positive := mk(fact.NATResult, base, "result", "positive", "tube_capacity", 1.0)
	mixed := mk(fact.NATResult, base, "result", "mixed_positive", "tube_capacity", 10.0)
	contact := mk(fact.ContactClose, base)
	secondary := mk(fact.ContactSecondary, base)
	iso := during(mk(fact.Isolation, base, "mode", "centralized"), base.Add(14*day))
	arrival := mk(fact.ArrivalInbound, base, "origin", "310115", "origin_risk", "medium")
	visit := during(mk(fact.VisitRiskArea, base.Add(-2*day), "region", "310115", "level", "high"), base)
	clinic := mk(fact.ClinicFever, base, "clinic", "h1")
	drug := mk(fact.PharmacyPurchase, base, "drug_class", "antiviral")
	fever := mk(fact.Temperature, base, "celsius", 37.3, "checkpoint", "cp1")
	exposure := mk(fact.Declaration, local(4, 1, 9, 0), "exposure", true)
	illness := mk(fact.Declaration, local(4, 1, 9, 0), "temperature", 37.5)
	comp := companion(base)

	steps := []step{
		{"confirmed: not yet", []fact.Fact{confirmed}, base.Add(-ms), want{color: Green, next: base}},
		{"confirmed: at", []fact.Fact{confirmed}, base, red("confirmed_case")},
		{"confirmed: released 1 ms later", []fact.Fact{confirmed, released(base.Add(10 * day))}, base.Add(10*day - ms), want{Red, "confirmed_case", base.Add(10 * day)}},
		{"confirmed: released", []fact.Fact{confirmed, released(base.Add(10 * day))}, base.Add(10 * day), green},
		{"confirmed: release before the diagnosis does not count", []fact.Fact{released(base.Add(-day)), confirmed}, base.Add(day), red("confirmed_case")},
		{"asymptomatic", []fact.Fact{asymptomatic}, base.Add(day), red("asymptomatic_case")},
		{"asymptomatic: released", []fact.Fact{asymptomatic, released(base.Add(day))}, base.Add(day), green},

		{"positive", []fact.Fact{positive}, base.Add(hour), red("nat_positive")},
		{"positive: single retest 1 ms before it", []fact.Fact{neg(base.Add(-ms)), positive}, base.Add(hour), red("nat_positive")},
		{"positive: single retest at it", []fact.Fact{positive, neg(base)}, base.Add(hour), green},
		{"positive: mixed negative after it", []fact.Fact{positive, mixedNeg(base.Add(hour))}, base.Add(2 * hour), red("nat_positive")},
		{"positive: excluded", []fact.Fact{positive, released(base.Add(day))}, base.Add(day), green},
		{"mixed positive", []fact.Fact{mixed}, base.Add(hour), red("mixed_tube_positive")},
		{"mixed positive: single retest 1 ms before", []fact.Fact{neg(base.Add(-ms)), mixed}, base.Add(hour), red("mixed_tube_positive")},
		{"mixed positive: single retest at", []fact.Fact{mixed, neg(base)}, base.Add(hour), green},
		{"mixed positive: single retest after", []fact.Fact{mixed, neg(base.Add(ms))}, base.Add(hour), green},
		{"mixed positive: explicit single-tube capacity", []fact.Fact{mixed, mk(fact.NATResult, base.Add(hour), "result", "negative", "tube_capacity", 1)}, base.Add(2 * hour), green},
		{"mixed positive: another mixed negative", []fact.Fact{mixed, mixedNeg(base.Add(6 * hour))}, base.Add(7 * hour), red("mixed_tube_positive")},
		{"mixed positive: a second mixed positive after the retest", []fact.Fact{mixed, neg(base.Add(hour)), mk(fact.NATResult, base.Add(day), "result", "mixed_positive", "tube_capacity", 5.0)}, base.Add(day), red("mixed_tube_positive")},

		{"close contact: day 14 - 1 ms", []fact.Fact{contact}, base.Add(14*day - ms), redUntil("close_contact", base.Add(14*day))},
		{"close contact: day 14", []fact.Fact{contact}, base.Add(14 * day), green},
		{"close contact: day 14 + 1 ms", []fact.Fact{contact}, base.Add(14*day + ms), green},
		{"close contact: first day", []fact.Fact{contact}, base, redUntil("close_contact", base.Add(14*day))},

		{"isolation: end - 1 ms", []fact.Fact{iso}, base.Add(14*day - ms), redUntil("isolation", base.Add(14*day))},
		{"isolation: end", []fact.Fact{iso}, base.Add(14 * day), green},
		{"isolation: end + 1 ms", []fact.Fact{iso}, base.Add(14*day + ms), green},
		{"isolation: released early", []fact.Fact{iso, released(base.Add(3 * day))}, base.Add(3 * day), green},
		{"isolation: extended by a second order", []fact.Fact{iso, during(mk(fact.Isolation, base.Add(14*day), "mode", "home"), base.Add(21*day))}, base.Add(14 * day), redUntil("isolation", base.Add(21*day))},

		{"declared exposure: 13 normal days", join(exposure, normalDecls(local(4, 2, 9, 0), 13)), local(4, 14, 23, 0), red("declared_exposure")},
		{"declared exposure: 14 normal days", join(exposure, normalDecls(local(4, 2, 9, 0), 14)), local(4, 15, 9, 0), green},
		{"declared exposure: 14 days but one missed", join(exposure, normalDecls(local(4, 2, 9, 0), 6), normalDecls(local(4, 9, 9, 0), 8)), local(4, 17, 9, 0), red("declared_exposure")},
		{"declared illness: 6 normal days", join(illness, normalDecls(local(4, 2, 9, 0), 6)), local(4, 7, 23, 0), yellow("declared_illness")},
		{"declared illness: 7 normal days", join(illness, normalDecls(local(4, 2, 9, 0), 7)), local(4, 8, 9, 0), green},
		{"declared illness: the 7th at local midnight", join(illness, normalDecls(local(4, 2, 9, 0), 6), mk(fact.Declaration, local(4, 8, 0, 0), "temperature", 36.2)), local(4, 8, 0, 0), green},
		{"declared illness: the 7th 1 ms before local midnight is day 6 again", join(illness, normalDecls(local(4, 2, 9, 0), 6), mk(fact.Declaration, local(4, 8, 0, 0).Add(-ms), "temperature", 36.2)), local(4, 8, 9, 0), yellow("declared_illness")},
		{"declared exposure and illness: red wins", join(exposure, illness), local(4, 2, 9, 0), red("declared_exposure")},

		{"companion", []fact.Fact{comp}, base.Add(hour), yellow("companion")},
		{"companion: 2 negatives 24 h - 1 ms apart", []fact.Fact{comp, neg(base.Add(day)), neg(base.Add(2*day - ms))}, base.Add(3 * day), yellow("companion")},
		{"companion: 2 negatives 24 h apart", []fact.Fact{comp, neg(base.Add(day)), neg(base.Add(2 * day))}, base.Add(3 * day), green},
		{"companion: 2 negatives 24 h + 1 ms apart", []fact.Fact{comp, neg(base.Add(day)), neg(base.Add(2*day + ms))}, base.Add(3 * day), green},
		{"companion: 2 negatives 3 days apart", []fact.Fact{comp, neg(base), neg(base.Add(3 * day))}, base.Add(3 * day), green},
		{"companion: 2 negatives 3 days + 1 ms apart", []fact.Fact{comp, neg(base), neg(base.Add(3*day + ms))}, base.Add(4 * day), yellow("companion")},
		{"companion: a third test 24 h later fixes it", []fact.Fact{comp, neg(base), neg(base.Add(3*day + ms)), neg(base.Add(4*day + ms))}, base.Add(5 * day), green},
		{"companion: a close pair and a far one", []fact.Fact{comp, mixedNeg(base.Add(hour)), mixedNeg(base.Add(2 * hour)), mixedNeg(base.Add(26 * hour))}, base.Add(2 * day), green},
		{"companion: a negative 1 ms before the exposure", []fact.Fact{neg(base.Add(-ms)), comp, neg(base.Add(2 * day))}, base.Add(3 * day), yellow("companion")},

		{"secondary contact: day 7 - 1 ms", []fact.Fact{secondary}, base.Add(7*day - ms), yellowUntil("secondary_contact", base.Add(7*day))},
		{"secondary contact: day 7", []fact.Fact{secondary}, base.Add(7 * day), green},

		{"arrival", []fact.Fact{arrival}, base.Add(hour), yellow("risk_area_arrival")},
		{"arrival: negative 48 h + 1 ms before", []fact.Fact{neg(base.Add(-48*hour - ms)), arrival}, base.Add(hour), yellow("risk_area_arrival")},
		{"arrival: negative 48 h before", []fact.Fact{neg(base.Add(-48 * hour)), arrival}, base.Add(hour), green},
		{"arrival: negative 48 h - 1 ms before", []fact.Fact{neg(base.Add(-48*hour + ms)), arrival}, base.Add(hour), green},
		{"arrival: from a low-risk origin", []fact.Fact{mk(fact.ArrivalInbound, base, "origin", "340000", "origin_risk", "low")}, base.Add(hour), green},
		{"arrival: origin risk unknown", []fact.Fact{mk(fact.ArrivalInbound, base, "origin", "USA", "international", true)}, base.Add(hour), green},
		{"visit", []fact.Fact{visit}, base.Add(hour), yellow("risk_area_visit")},
		{"visit: negative 48 h + 1 ms before leaving", []fact.Fact{neg(base.Add(-48*hour - ms)), visit}, base.Add(hour), yellow("risk_area_visit")},
		{"visit: negative 48 h before leaving", []fact.Fact{neg(base.Add(-48 * hour)), visit}, base.Add(hour), green},
		{"visit: open stay is anchored on its start", []fact.Fact{neg(base.Add(-4 * day)), during(visit, time.Time{})}, base.Add(hour), green},

		{"fever clinic", []fact.Fact{clinic}, base.Add(hour), yellow("fever_clinic")},
		{"fever clinic: negative 1 ms before", []fact.Fact{neg(base.Add(-ms)), clinic}, base.Add(hour), yellow("fever_clinic")},
		{"fever clinic: negative at the visit", []fact.Fact{clinic, neg(base)}, base.Add(hour), green},
		{"watched drug", []fact.Fact{drug}, base.Add(hour), yellow("watched_drug")},
		{"watched drug: negative 1 ms before", []fact.Fact{neg(base.Add(-ms)), drug}, base.Add(hour), yellow("watched_drug")},
		{"watched drug: negative after", []fact.Fact{drug, mixedNeg(base.Add(ms))}, base.Add(hour), green},
		{"checkpoint fever", []fact.Fact{fever}, base.Add(hour), yellow("checkpoint_fever")},
		{"checkpoint fever: negative 1 ms before", []fact.Fact{neg(base.Add(-ms)), fever}, base.Add(hour), yellow("checkpoint_fever")},
		{"checkpoint fever: negative at", []fact.Fact{fever, neg(base)}, base.Add(hour), green},

		{"worst colour wins", []fact.Fact{comp, clinic, contact}, base.Add(hour), redUntil("close_contact", base.Add(14*day))},
		{"ties go to the first rule in order", []fact.Fact{fever, clinic, comp}, base.Add(hour), yellow("companion")},
		{"vaccination alone", []fact.Fact{mk(fact.VaccineDose, base, "dose", 1)}, base.Add(hour), green},
		{"no facts", nil, base, green},
	}
	for _, s := range steps {
		check(t, p, s.name, s.facts, s.now, s.want)
	}
}

func TestAppeal(t *testing.T) {
	p := defaultProgram(t)
	contact := mk(fact.ContactClose, base)
	grant := during(mk(fact.AppealGranted, base.Add(day), "appeal", "a1"), base.Add(4*day))
	appeal := func(next time.Time) want { return want{Green, AppealRuleID, next} }
	steps := []struct {
		name  string
		facts []fact.Fact
		now   time.Time
		want  want
	}{
		{"before the grant", []fact.Fact{contact, grant}, base.Add(day - ms), want{Red, "close_contact", base.Add(day)}},
		{"granted", []fact.Fact{contact, grant}, base.Add(day), appeal(base.Add(4 * day))},
		{"1 ms before expiry", []fact.Fact{contact, grant}, base.Add(4*day - ms), appeal(base.Add(4 * day))},
		{"at expiry the old facts count again", []fact.Fact{contact, grant}, base.Add(4 * day), want{Red, "close_contact", base.Add(14 * day)}},
		{"1 ms after expiry", []fact.Fact{contact, grant}, base.Add(4*day + ms), want{Red, "close_contact", base.Add(14 * day)}},
		{"after expiry, once the contact has lapsed", []fact.Fact{contact, grant}, base.Add(15 * day), green},
		{"a fact recorded after the grant counts", []fact.Fact{contact, grant, companion(base.Add(2 * day))}, base.Add(3 * day), want{Yellow, "companion", base.Add(4 * day)}},
		{"a fact dated before the grant but recorded after it counts",
			[]fact.Fact{contact, grant, recorded(mixedNeg(base.Add(-day)), base.Add(2*day)), recorded(mk(fact.ClinicFever, base.Add(-12*hour), "clinic", "h1"), base.Add(2*day))},
			base.Add(3 * day), want{Yellow, "fever_clinic", base.Add(4 * day)}},
		{"a fact dated after the grant but recorded before it is hidden",
			[]fact.Fact{contact, recorded(mk(fact.Temperature, base.Add(day+hour), "celsius", 38.0, "checkpoint", "c"), base.Add(day-hour)), recorded(grant, base.Add(day))},
			base.Add(2 * day), appeal(base.Add(4 * day))},
		{"a red fact after the grant wins over it", []fact.Fact{contact, grant, mk(fact.CaseConfirmed, base.Add(2*day))}, base.Add(2 * day), want{Red, "confirmed_case", base.Add(4 * day)}},
		{"the grant with the latest record wins",
			[]fact.Fact{contact, recorded(grant, base.Add(day)), companion(base.Add(day + hour)), recorded(during(mk(fact.AppealGranted, base.Add(day+2*hour), "appeal", "a2"), base.Add(3*day)), base.Add(day+2*hour))},
			base.Add(2 * day), appeal(base.Add(3 * day))},
		{"a grant with nothing to hide still says so", []fact.Fact{grant}, base.Add(2 * day), appeal(base.Add(4 * day))},
	}
	for _, s := range steps {
		check(t, p, s.name, s.facts, s.now, s.want)
	}
}

// TestAppealAnswersTheDecisionItNamed: a grant names the rule its appeal was
// filed against and when it was filed. It overrides that rule over the facts
// known at filing; what is recorded after the filing decides as if there were
// no grant, and other rules are not the appeal's business.
func TestAppealAnswersTheDecisionItNamed(t *testing.T) {
	p := defaultProgram(t)
	filed, granted, expires := base.Add(day), base.Add(3*day), base.Add(9*day)
	fever := recorded(mk(fact.Declaration, base, "temperature", 38.5), base)
	grant := func(rule string) fact.Fact {
		return recorded(during(mk(fact.AppealGranted, granted, "appeal", "a1", "rule", rule, "filed_at", filed.Format(time.RFC3339Nano)), expires), granted)
	}
	clinic := func(at, rec time.Time) fact.Fact { return recorded(mk(fact.ClinicFever, at, "clinic", "h1"), rec) }
	appeal := want{Green, AppealRuleID, expires}
	steps := []struct {
		name  string
		facts []fact.Fact
		now   time.Time
		want  want
	}{
		{"the named rule is cleared", []fact.Fact{fever, grant("declared_illness")}, granted, appeal},
		{"a contact recorded between filing and grant still counts (issue 13)",
			[]fact.Fact{fever, recorded(companion(base.Add(2*day)), base.Add(2*day)), grant("declared_illness")},
			granted, want{Yellow, "companion", expires}},
		{"a red recorded between filing and grant wins",
			[]fact.Fact{fever, recorded(mk(fact.ContactClose, base.Add(2*day)), base.Add(2*day)), grant("declared_illness")},
			granted, want{Red, "close_contact", expires}},
		{"another rule matching at filing is not cleared",
			[]fact.Fact{fever, clinic(base, base), grant("fever_clinic")}, granted, want{Yellow, "declared_illness", expires}},
		{"the named rule set off again by a later fact counts",
			[]fact.Fact{clinic(base, base), clinic(base.Add(2*day), base.Add(2*day)), grant("fever_clinic")},
			granted, want{Yellow, "fever_clinic", expires}},
		{"a later fact the reviewed ones answer does not count",
			[]fact.Fact{clinic(base, base), recorded(neg(base.Add(hour)), base.Add(hour)), clinic(base.Add(-hour), base.Add(2*day)), grant("fever_clinic")},
			granted, appeal},
		{"a fact recorded at filing is not hidden", []fact.Fact{clinic(filed, filed), grant("fever_clinic")}, granted, want{Yellow, "fever_clinic", expires}},
		{"at expiry the named rule counts again", []fact.Fact{fever, grant("declared_illness")}, expires, want{Yellow, "declared_illness", time.Time{}}},
	}
	for _, s := range steps {
		check(t, p, s.name, s.facts, s.now, s.want)
	}
}

// TestNextEvalProperty evaluates random histories with the default set and
// checks the contract the scheduler relies on: the decision does not change
// between now and NextEval, and with no NextEval it never changes by time
// alone.
func TestNextEvalProperty(t *testing.T) {
	// Without the examples, so that this test judges Eval on its own.
	p := mustCompile(t, Set{Rules: Default().Rules}, Options{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		facts := randomFacts(r)
		now := base.Add(time.Duration(r.Int64N(int64(40*day))) - 10*day)
		d := p.Eval(facts, now)
		if len(d.Errors) > 0 {
			t.Fatalf("errors %v for %v", d.Errors, facts)
		}
		later := []time.Time{now.Add(ms), now.Add(time.Duration(r.Int64N(int64(30 * day))))}
		if d.NextEval.IsZero() {
			later = append(later, now.Add(400*day))
		} else {
			if !d.NextEval.After(now) {
				t.Fatalf("NextEval %v not after now %v", d.NextEval, now)
			}
			later = append(later, d.NextEval.Add(-ms))
		}
		for _, at := range later {
			if !d.NextEval.IsZero() && !at.Before(d.NextEval) {
				continue
			}
			if e := p.Eval(facts, at); e.Color != d.Color || e.RuleID != d.RuleID {
				t.Fatalf("history %s\nat %v: %s by %s (next %v); at %v: %s by %s",
					describe(facts), now, d.Color, d.RuleID, d.NextEval, at, e.Color, e.RuleID)
			}
		}
	}
}

func randomFacts(r *rand.Rand) []fact.Fact {
	at := func() time.Time {
		return base.Add(time.Duration(r.Int64N(int64(20*day))) - 5*day).Truncate(time.Minute)
	}
	gen := []func() fact.Fact{
		func() fact.Fact { return mk(fact.CaseConfirmed, at()) },
		func() fact.Fact { return mk(fact.CaseAsymptomatic, at()) },
		func() fact.Fact { return mk(fact.CaseReleased, at(), "reason", "recovered") },
		func() fact.Fact { return mk(fact.ContactClose, at()) },
		func() fact.Fact { return mk(fact.ContactSecondary, at()) },
		func() fact.Fact { return companion(at()) },
		func() fact.Fact { return neg(at()) },
		func() fact.Fact { return mixedNeg(at()) },
		func() fact.Fact { return mk(fact.NATResult, at(), "result", "positive") },
		func() fact.Fact { return mk(fact.NATResult, at(), "result", "mixed_positive", "tube_capacity", 10.0) },
		func() fact.Fact { return mk(fact.ClinicFever, at(), "clinic", "h") },
		func() fact.Fact { return mk(fact.PharmacyPurchase, at(), "drug_class", "cough") },
		func() fact.Fact { return mk(fact.Temperature, at(), "celsius", 38.0, "checkpoint", "c") },
		func() fact.Fact {
			a := at()
			return during(mk(fact.Isolation, a, "mode", "home"), a.Add(time.Duration(1+r.IntN(14))*day))
		},
		func() fact.Fact { return mk(fact.ArrivalInbound, at(), "origin", "310115", "origin_risk", "high") },
		func() fact.Fact {
			a := at()
			return during(mk(fact.VisitRiskArea, a, "region", "310115", "level", "medium"), a.Add(5*hour))
		},
		func() fact.Fact { return mk(fact.Declaration, at(), "temperature", 36.0+float64(r.IntN(30))/10) },
		func() fact.Fact { return mk(fact.Declaration, at(), "exposure", r.IntN(4) == 0) },
		func() fact.Fact {
			a := at()
			return recorded(during(mk(fact.AppealGranted, a, "appeal", "a"), a.Add(time.Duration(1+r.IntN(5))*day)), a)
		},
	}
	facts := make([]fact.Fact, r.IntN(8))
	for i := range facts {
		facts[i] = gen[r.IntN(len(gen))]()
		if err := facts[i].Validate(); err != nil {
			panic(err)
		}
	}
	return facts
}

func describe(facts []fact.Fact) string {
	var b strings.Builder
	for _, f := range facts {
		b.WriteString("\n  " + f.Kind + " " + f.At.Format(time.RFC3339))
		if !f.Until.IsZero() {
			b.WriteString(" until " + f.Until.Format(time.RFC3339))
		}
		if len(f.Attrs) > 0 {
			a, _ := json.Marshal(f.Attrs)
			b.Write(a)
		}
	}
	return b.String()
}

// The examples shipped in the JSON agree with Eval when run directly, so a
// bug in the example checker cannot hide a wrong default.
func TestDefaultExamplesDirectly(t *testing.T) {
	p := defaultProgram(t)
	for _, ex := range Default().Examples {
		d := p.Eval(ex.Facts, ex.Now)
		if d.Color != ex.WantColor || d.RuleID != ex.WantRule {
			t.Errorf("%s: %s by %q", ex.Name, d.Color, d.RuleID)
		}
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	s := Default()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSet(b)
	if err != nil {
		t.Fatal(err)
	}
	// Times decode in the zone they were written in; compare re-encoded.
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) || len(back.Rules) != len(s.Rules) {
		t.Fatal("a set does not survive JSON")
	}
	if !reflect.DeepEqual(back.Rules, s.Rules) {
		t.Fatal("rules differ after a round trip")
	}
}
