package rules

import (
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/healthcode/healthcode/internal/fact"
)

// AppealRuleID is the rule id a decision carries when an active appeal left
// no rule matching. Rule sets may not use it.
const AppealRuleID = "appeal.granted"

var (
	appealReason = Text{
		ZH: "您的申诉已通过，申诉有效期内此前记录的风险信息暂不计入健康码。",
		EN: "Your appeal was granted: while it is in effect, risk records from before it do not count.",
	}
	appealAdvice = Text{
		ZH: "申诉有效期届满后将按全部记录重新评估；其间新增的风险信息仍会使健康码变色。",
		EN: "When the appeal expires all records count again; new risk records change your code even while it is in effect.",
	}
)

// Decision is the outcome of evaluating a person's facts.
type Decision struct {
	Color Color `json:"color"`
	// RuleID is the rule that decided; "" when no rule matched.
	RuleID string `json:"rule_id,omitempty"`
	Reason Text   `json:"reason,omitzero"`
	Advice Text   `json:"advice,omitzero"`
	// NextEval is when the decision may change by time alone: the earliest
	// until of the matching rules, a rule window opening or (for a matching
	// rule) closing, an appeal expiring, or a fact dated in the future
	// becoming current. Zero means nothing changes until a new fact arrives.
	NextEval time.Time `json:"next_eval,omitzero"`
	// Errors lists rules that failed at run time (a missing attribute, an
	// overflow). A failing condition counts as not matching; a failing until
	// as matching with no end, so a broken rule cannot silently clear anyone.
	Errors []RuleError `json:"errors,omitempty"`
}

// RuleError is a rule that could not be evaluated for one person.
type RuleError struct {
	RuleID  string `json:"rule_id"`
	Field   string `json:"field"` // condition or until
	Message string `json:"message"`
}

// Eval decides a colour for one person at now. The worst colour among the
// matching rules wins, the first in order among equals; no match is green.
//
// Facts dated after now are not yet true and are hidden. A nat.result that a
// lab corrected (a later nat.result of the same tube with correction true) is
// hidden for good. While an appeal.granted is active (at <= now < until) it
// overrides the decision its appeal named: the rule it names (every rule, for
// a grant that names none) matches only if it also matches over the facts
// recorded since the appeal was filed. So what the reviewer saw is cleared,
// and a fact recorded after the filing decides as if there were no grant.
func (p *Program) Eval(facts []fact.Fact, now time.Time) Decision {
	return p.eval(facts, now, nil)
}

// Match is one rule that matches a person.
type Match struct {
	RuleID string `json:"rule_id"`
	Color  Color  `json:"color"`
	Reason Text   `json:"reason"`
}

// Matching lists every rule that matches at now, in the set's order, under
// the same visibility as Eval (an appeal's reviewer asks which risks a grant
// would clear, and the decision names only the winner).
func (p *Program) Matching(facts []fact.Fact, now time.Time) []Match {
	var out []Match
	p.eval(facts, now, &out)
	return out
}

func (p *Program) eval(facts []fact.Fact, now time.Time, matched *[]Match) Decision {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && t.Before(never) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}

	var grants []grant
	var corrections map[string]int // tube -> index of the correction that applies
	future := false
	for i := range facts {
		f := &facts[i]
		if f.At.After(now) {
			future = true
			consider(f.At)
			continue
		}
		switch f.Kind {
		case fact.AppealGranted:
			if f.ActiveAt(now) {
				grants = append(grants, grantOf(f))
				consider(f.Until)
			}
		case fact.NATResult:
			if tube, ok := correctedTube(f); ok {
				if corrections == nil {
					corrections = map[string]int{}
				}
				if j, seen := corrections[tube]; !seen || !f.Recorded().Before(facts[j].Recorded()) {
					corrections[tube] = i
				}
			}
		}
	}
	visible := facts
	if future || corrections != nil {
		visible = make([]fact.Fact, 0, len(facts))
		for i := range facts {
			if facts[i].At.After(now) || superseded(facts, i, corrections) {
				continue
			}
			visible = append(visible, facts[i])
		}
	}

	all := p.scope(visible, now)
	var since map[time.Time]*scope // facts recorded since a filing, by filing
	var d Decision
	best := -1
	for i := range p.rules {
		r := &p.rules[i]
		if !r.ValidFrom.IsZero() && now.Before(r.ValidFrom) {
			consider(r.ValidFrom)
			continue
		}
		if !r.ValidTo.IsZero() && !now.Before(r.ValidTo) {
			continue
		}
		ok, until := r.match(all, &d)
		if ok && len(grants) > 0 {
			if filed, overridden := overriddenSince(grants, r.ID); overridden {
				sc := since[filed]
				if sc == nil {
					sc = p.scope(recordedSince(visible, filed), now)
					if since == nil {
						since = map[time.Time]*scope{}
					}
					since[filed] = sc
				}
				var later time.Time
				ok, later = r.match(sc, &d)
				if !later.IsZero() && (until.IsZero() || later.Before(until)) {
					until = later
				}
			}
		}
		if !ok {
			continue
		}
		if matched != nil {
			*matched = append(*matched, Match{RuleID: r.ID, Color: r.Color, Reason: r.Reason})
		}
		consider(until)
		if !r.ValidTo.IsZero() {
			consider(r.ValidTo)
		}
		if best < 0 || r.Color > p.rules[best].Color {
			best = i
		}
	}
	if !next.IsZero() {
		d.NextEval = next.UTC()
	}
	switch {
	case best >= 0:
		r := &p.rules[best]
		d.Color, d.RuleID, d.Reason, d.Advice = r.Color, r.ID, r.Reason, r.Advice
	case len(grants) > 0:
		d.Color, d.RuleID, d.Reason, d.Advice = Green, AppealRuleID, appealReason, appealAdvice
	default:
		d.Color = Green
	}
	return d
}

// scope is one list of facts as the rules see it.
type scope struct {
	act     activation
	present uint64 // kind bits of the facts in the list
}

func (p *Program) scope(facts []fact.Fact, now time.Time) *scope {
	sc := &scope{act: activation{list: factList{facts: facts, now: now}, now: types.Timestamp{Time: now}}}
	if len(p.kindBits) > 0 {
		for i := range facts {
			sc.present |= p.kindBits[facts[i].Kind]
		}
	}
	return sc
}

// match evaluates one rule over a scope: whether it matches, and the until
// it names (zero: none). Run-time failures go to d.Errors; a failing
// condition does not match, a failing until matches with no end.
func (r *compiledRule) match(sc *scope, d *Decision) (bool, time.Time) {
	if r.need&sc.present != r.need {
		return false, time.Time{}
	}
	out, _, err := r.cond.Eval(&sc.act)
	if err != nil || types.IsError(out) {
		d.Errors = append(d.Errors, RuleError{RuleID: r.ID, Field: "condition", Message: errText(out, err)})
		return false, time.Time{}
	}
	if out != types.True {
		return false, time.Time{}
	}
	if r.until == nil {
		return true, time.Time{}
	}
	out, _, err = r.until.Eval(&sc.act)
	t, ok := out.(types.Timestamp)
	if !ok || err != nil {
		d.Errors = append(d.Errors, RuleError{RuleID: r.ID, Field: "until", Message: errText(out, err)})
		return true, time.Time{}
	}
	return sc.act.list.now.Before(t.Time), t.Time
}

// grant is an active appeal.granted: the rule its appeal named ("" for a
// grant that names none, which overrides every rule) and when the appeal was
// filed (the grant's own recording time for a grant that does not say).
type grant struct {
	rule  string
	filed time.Time
}

func grantOf(f *fact.Fact) grant {
	g := grant{filed: f.Recorded()}
	g.rule, _ = f.Attrs["rule"].(string)
	switch v := f.Attrs["filed_at"].(type) {
	case time.Time:
		g.filed = v
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			g.filed = t
		}
	}
	return g
}

// overriddenSince reports whether an active grant overrides the rule, and
// the latest filing among those that do: the latest appeal reviewed the most.
func overriddenSince(grants []grant, rule string) (time.Time, bool) {
	var filed time.Time
	found := false
	for _, g := range grants {
		if (g.rule == "" || g.rule == rule) && (!found || g.filed.After(filed)) {
			filed, found = g.filed, true
		}
	}
	return filed, found
}

// recordedSince is the facts recorded at or after t.
func recordedSince(facts []fact.Fact, t time.Time) []fact.Fact {
	out := make([]fact.Fact, 0, len(facts))
	for i := range facts {
		if !facts[i].Recorded().Before(t) {
			out = append(out, facts[i])
		}
	}
	return out
}

// correctedTube returns the tube a correcting nat.result corrects.
func correctedTube(f *fact.Fact) (string, bool) {
	if f.Attrs["correction"] != true {
		return "", false
	}
	tube, ok := f.Attrs["tube"].(string)
	return tube, ok && tube != ""
}

// superseded reports whether facts[i] is a result of a tube whose result a
// lab corrected after it was recorded. Facts are append-only, so a
// correction cannot edit the result it replaces; it hides it instead, the
// way an appeal hides what it reviewed. The correction recorded last
// applies (the later in the list on a tie), and hides earlier corrections
// of the same tube too.
func superseded(facts []fact.Fact, i int, corrections map[string]int) bool {
	f := &facts[i]
	if corrections == nil || f.Kind != fact.NATResult {
		return false
	}
	tube, _ := f.Attrs["tube"].(string)
	j, ok := corrections[tube]
	if !ok || j == i {
		return false
	}
	c := &facts[j]
	return f.Recorded().Before(c.Recorded()) || (f.Recorded().Equal(c.Recorded()) && i < j)
}

func errText(out ref.Val, err error) string {
	if err != nil {
		return err.Error()
	}
	if e, ok := out.(*types.Err); ok {
		return e.Error()
	}
	return "unexpected result " + out.Type().TypeName()
}
