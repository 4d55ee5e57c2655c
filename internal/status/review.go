package status

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// Review is what the reviewer of an appeal sees before deciding: so that a
// grant clears what they meant to clear and no more.
type Review struct {
	Appeal *Appeal
	// Named is the decision appealed against: its rule, colour and reason.
	Named rules.Match
	// Current is the person's decision now.
	Current Status
	// Since are the facts recorded since the appeal was filed, newest first.
	Since []Stored
	// After is the decision a grant recorded now would leave.
	After rules.Decision
	// Clears are the rules matching now that a grant would clear; Keeps those
	// that would still match.
	Clears []rules.Match
	Keeps  []Kept
}

// Kept is a rule a grant would not clear.
type Kept struct {
	rules.Match
	// Later: facts recorded since the filing set it off on their own (a
	// contact found while the appeal waited); otherwise it is a rule the
	// appeal did not name, matching on earlier facts.
	Later bool
}

// Review computes the reviewer's card of an appeal in the operator's scope
// (one outside it is a 404), for an operator with appeal.decide. It changes
// nothing: the grant is evaluated as it would be recorded now.
func (s *Service) Review(ctx context.Context, by *auth.Principal, id string) (*Review, error) {
	if err := by.Require(auth.AppealDecide); err != nil {
		return nil, err
	}
	a, err := s.scanAppeal(s.db.QueryRowContext(ctx, `SELECT `+appealCols+` FROM appeals WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(a.Region)) {
		return nil, ErrAppealNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("status: read appeal: %w", err)
	}
	var ver int64
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`).Scan(&ver); err != nil {
		return nil, fmt.Errorf("status: read active rules: %w", err)
	}
	prog, err := s.program(ctx, s.db, ver)
	if err != nil {
		return nil, err
	}
	named := a.RulesVersion
	if named == 0 {
		named = ver
	}
	text, err := s.ruleText(ctx, s.db, named, a.RuleID)
	if err != nil {
		return nil, err
	}
	rv := &Review{Appeal: a, Named: rules.Match{RuleID: a.RuleID, Color: a.Color, Reason: text.reason}}
	if rv.Current, err = s.Status(ctx, a.Person); err != nil {
		return nil, err
	}
	stored, _, err := s.packsOf(ctx, s.db, []int64{a.Person})
	if err != nil {
		return nil, err
	}
	facts := make([]fact.Fact, 0, len(stored)+1)
	for i := range stored {
		f, err := stored[i].fact()
		if err != nil {
			return nil, err
		}
		facts = append(facts, f)
	}
	all, err := s.Facts(ctx, a.Person, 500)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if !f.RecordedAt.Before(a.CreatedAt) {
			rv.Since = append(rv.Since, f)
		}
	}

	now := s.now()
	before := prog.Matching(facts, now)
	later := prog.Matching(recordedSince(facts, a.CreatedAt), now)
	g := fact.Fact{Kind: fact.AppealGranted, At: now, Until: now.Add(s.cfg.AppealTTL), RecordedAt: now,
		Attrs: map[string]any{"appeal": a.ID, "rule": a.RuleID, "filed_at": a.CreatedAt.UTC().Format(time.RFC3339Nano)}}
	granted := append(facts, g)
	rv.After = prog.Eval(granted, now)
	after := prog.Matching(granted, now)
	for _, m := range before {
		if !hasRule(after, m.RuleID) {
			rv.Clears = append(rv.Clears, m)
		}
	}
	for _, m := range after {
		rv.Keeps = append(rv.Keeps, Kept{Match: m, Later: hasRule(later, m.RuleID)})
	}
	return rv, nil
}

func hasRule(ms []rules.Match, id string) bool {
	for _, m := range ms {
		if m.RuleID == id {
			return true
		}
	}
	return false
}

// recordedSince is the facts recorded at or after t.
func recordedSince(facts []fact.Fact, t time.Time) []fact.Fact {
	var out []fact.Fact
	for _, f := range facts {
		if !f.Recorded().Before(t) {
			out = append(out, f)
		}
	}
	return out
}

// Changed reports whether the decision now is not the one appealed against.
func (rv *Review) Changed() bool {
	return rv.Current.Color != rv.Named.Color || rv.Current.RuleID != rv.Named.RuleID
}
