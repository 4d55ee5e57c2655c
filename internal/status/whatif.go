package status

import (
	"context"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// WhatIfChange is a person whose colour some facts would change.
type WhatIfChange struct {
	Person int64
	ID     string
	Region string
	From   rules.Color
	To     rules.Color
	RuleID string
	Reason rules.Text
}

// WhatIf evaluates the active rules over each person's facts plus the
// facts proposed for them, changing nothing, and returns the persons whose
// colour would change (by number). It is the platform's own dry run (a
// risk area about to be published); the caller decided who may see it and
// narrows the answer to the reader's scope.
func (s *Service) WhatIf(ctx context.Context, proposed []NewFact) ([]WhatIfChange, error) {
	if len(proposed) == 0 {
		return []WhatIfChange{}, nil
	}
	extra := map[int64][]fact.Fact{}
	for _, nf := range proposed {
		extra[nf.Person] = append(extra[nf.Person], nf.Fact)
	}
	ns := make([]int64, 0, len(extra))
	for n := range extra {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`).Scan(&v); err != nil {
		return nil, fmt.Errorf("status: read active rules: %w", err)
	}
	prog, err := s.program(ctx, s.db, v)
	if err != nil {
		return nil, err
	}
	regions := make(map[int64]string, len(ns))
	err = db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT num, region_code FROM persons WHERE num IN `, nil, ns, ``, func(sc db.Scanner) error {
		var n int64
		var r string
		if err := sc.Scan(&n, &r); err != nil {
			return err
		}
		regions[n] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("status: what if: %w", err)
	}
	stored, _, err := s.packsOf(ctx, s.db, ns)
	if err != nil {
		return nil, err
	}
	have := map[int64][]fact.Fact{}
	for i := range stored {
		f, err := stored[i].fact()
		if err != nil {
			return nil, err
		}
		have[stored[i].num] = append(have[stored[i].num], f)
	}
	now := s.now()
	out := []WhatIfChange{}
	for _, n := range ns {
		r, ok := regions[n]
		if !ok {
			continue
		}
		before := prog.Eval(have[n], now)
		after := prog.Eval(append(have[n], extra[n]...), now)
		if before.Color == after.Color {
			continue
		}
		out = append(out, WhatIfChange{Person: n, ID: s.ids.ID(n), Region: r, From: before.Color, To: after.Color, RuleID: after.RuleID, Reason: after.Reason})
	}
	return out, nil
}
