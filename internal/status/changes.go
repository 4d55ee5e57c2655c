package status

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// Change is one entry of the change log with the advice the person is
// given now, for the follow-up of every change to red or yellow.
type Change struct {
	Seq      int64
	Person   int64
	Region   string
	Old, New rules.Color
	ReasonZH string
	AdviceZH string
}

// Changes reads the change log after seq, in order, at most limit entries,
// in q (the follower's transaction). The platform's own follower calls it;
// it names no one to a caller.
func (s *Service) Changes(ctx context.Context, q db.Querier, after int64, limit int) ([]Change, error) {
	out, err := db.Collect(ctx, q, `SELECT c.seq, c.person_num, c.region_code, c.old_color, c.new_color, c.reason_zh,
			COALESCE(st.advice_zh, '')
		FROM status_changes c LEFT JOIN status st ON st.person_num = c.person_num
		WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`, []any{after, limit}, func(sc db.Scanner) (Change, error) {
		var c Change
		err := sc.Scan(&c.Seq, &c.Person, &c.Region, &c.Old, &c.New, &c.ReasonZH, &c.AdviceZH)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("status: read changes: %w", err)
	}
	return out, nil
}

// ColourRow is a person's current decision, for lists by colour.
type ColourRow struct {
	Person   int64
	Color    rules.Color
	RuleID   string
	ReasonZH string
	ReasonEN string
	AdviceZH string
	Updated  int64
}

// ColourQuery selects persons by colour: within region bounds [Lo, Hi)
// or, when Among is not nil, among those persons only. Rule narrows to one
// deciding rule. Green persons without a decision have no row and are not
// listed: a list by colour is of yellow and red.
type ColourQuery struct {
	Lo, Hi string
	Among  []int64
	Color  rules.Color // 0: yellow and red
	Rule   string
	After  int64
	Limit  int
}

// ByColour lists current decisions by colour, in person order. The
// platform's feature services call it after deciding who may see whom.
func (s *Service) ByColour(ctx context.Context, q ColourQuery) ([]ColourRow, error) {
	cols := `SELECT person_num, color, rule_id, reason_zh, reason_en, advice_zh, updated_at FROM status WHERE `
	args := []any{int64(q.Color), q.Rule, q.After}
	cond := `($1 = 0 AND color >= 2 OR color = $1) AND ($2 = '' OR rule_id = $2) AND person_num > $3`
	scan := func(sc db.Scanner) (ColourRow, error) {
		var r ColourRow
		err := sc.Scan(&r.Person, &r.Color, &r.RuleID, &r.ReasonZH, &r.ReasonEN, &r.AdviceZH, &r.Updated)
		return r, err
	}
	if q.Among != nil {
		var out []ColourRow
		err := db.QueryIn(ctx, s.db, s.db.Engine(), cols+cond+` AND person_num IN `, args, q.Among, ``, func(sc db.Scanner) error {
			r, err := scan(sc)
			out = append(out, r)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("status: by colour: %w", err)
		}
		sortRows(out)
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
		return out, nil
	}
	scope, args := db.Scope("region_code", q.Lo, q.Hi, args)
	out, err := db.Collect(ctx, s.db, cols+cond+` AND `+scope+fmt.Sprintf(` ORDER BY person_num LIMIT %d`, max(q.Limit, 1)), args, scan)
	if err != nil {
		return nil, fmt.Errorf("status: by colour: %w", err)
	}
	return out, nil
}

func sortRows(rs []ColourRow) {
	slices.SortFunc(rs, func(a, b ColourRow) int { return cmp.Compare(a.Person, b.Person) })
}
