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
// Facts dated after now are not yet true and are hidden. While an
// appeal.granted is active (at <= now < until) the facts recorded before the
// grant are hidden too, so the appeal clears what the operator reviewed but
// not what arrives later; when it expires they count again. A nat.result
// that a lab corrected (a later nat.result of the same tube with correction
// true) is hidden for good.
func (p *Program) Eval(facts []fact.Fact, now time.Time) Decision {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && t.Before(never) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}

	var grant *fact.Fact
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
			if f.ActiveAt(now) && (grant == nil || f.Recorded().After(grant.Recorded())) {
				grant = f
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
	if future || grant != nil || corrections != nil {
		visible = make([]fact.Fact, 0, len(facts))
		for i := range facts {
			f := &facts[i]
			if f.At.After(now) || (grant != nil && f.Recorded().Before(grant.Recorded())) ||
				superseded(facts, i, corrections) {
				continue
			}
			visible = append(visible, *f)
		}
	}
	if grant != nil {
		consider(grant.Until)
	}

	var present uint64
	if len(p.kindBits) > 0 {
		for i := range visible {
			present |= p.kindBits[visible[i].Kind]
		}
	}

	act := &activation{list: factList{facts: visible, now: now}, now: types.Timestamp{Time: now}}
	var d Decision
	best := -1
	for i := range p.rules {
		r := &p.rules[i]
		if !r.ValidFrom.IsZero() && now.Before(r.ValidFrom) {
			consider(r.ValidFrom)
			continue
		}
		if (!r.ValidTo.IsZero() && !now.Before(r.ValidTo)) || r.need&present != r.need {
			continue
		}
		out, _, err := r.cond.Eval(act)
		if err != nil || types.IsError(out) {
			d.Errors = append(d.Errors, RuleError{RuleID: r.ID, Field: "condition", Message: errText(out, err)})
			continue
		}
		if out != types.True {
			continue
		}
		if r.until != nil {
			out, _, err := r.until.Eval(act)
			if t, ok := out.(types.Timestamp); ok && err == nil {
				if !now.Before(t.Time) {
					continue
				}
				consider(t.Time)
			} else {
				d.Errors = append(d.Errors, RuleError{RuleID: r.ID, Field: "until", Message: errText(out, err)})
			}
		}
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
	case grant != nil:
		d.Color, d.RuleID, d.Reason, d.Advice = Green, AppealRuleID, appealReason, appealAdvice
	default:
		d.Color = Green
	}
	return d
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
