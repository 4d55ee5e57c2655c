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
	type withRow struct {
		Change
		reasonEN, changeRule string
		changeVersion        int64
		rule                 string
		version              int64
		reason, advice       rules.Text
	}
	rows, err := db.Collect(ctx, q, `SELECT c.seq, c.person_num, c.region_code, c.old_color, c.new_color, c.reason_zh,
			c.reason_en, c.rule_id, c.rules_version,
			COALESCE(st.rule_id, ''), COALESCE(st.rules_version, 0), COALESCE(st.reason_zh, ''), COALESCE(st.reason_en, ''),
			COALESCE(st.advice_zh, ''), COALESCE(st.advice_en, '')
		FROM status_changes c LEFT JOIN status st ON st.person_num = c.person_num
		WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`, []any{after, limit}, func(sc db.Scanner) (withRow, error) {
		var c withRow
		err := sc.Scan(&c.Seq, &c.Person, &c.Region, &c.Old, &c.New, &c.ReasonZH, &c.reasonEN, &c.changeRule, &c.changeVersion,
			&c.rule, &c.version, &c.reason.ZH, &c.reason.EN, &c.advice.ZH, &c.advice.EN)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("status: read changes: %w", err)
	}
	out := make([]Change, len(rows))
	for i := range rows {
		r := &rows[i]
		if err := s.rowTexts(ctx, q, r.version, r.rule, &r.reason, &r.advice); err != nil {
			return nil, err
		}
		r.AdviceZH = r.advice.ZH
		// The change's reason, like the row's, is its rule's unless written.
		reason := rules.Text{ZH: r.ReasonZH, EN: r.reasonEN}
		if err := s.rowTexts(ctx, q, r.changeVersion, r.changeRule, &reason, &rules.Text{}); err != nil {
			return nil, err
		}
		r.ReasonZH = reason.ZH
		out[i] = r.Change
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
	cols := `SELECT person_num, color, rule_id, reason_zh, reason_en, advice_zh, advice_en, rules_version, updated_at FROM status WHERE `
	args := []any{int64(q.Color), q.Rule, q.After}
	cond := `($1 = 0 AND color >= 2 OR color = $1) AND ($2 = '' OR rule_id = $2) AND person_num > $3`
	var versions []int64
	var adviceEN []string
	scan := func(sc db.Scanner) (ColourRow, error) {
		var r ColourRow
		var version int64
		var en string
		err := sc.Scan(&r.Person, &r.Color, &r.RuleID, &r.ReasonZH, &r.ReasonEN, &r.AdviceZH, &en, &version, &r.Updated)
		versions, adviceEN = append(versions, version), append(adviceEN, en)
		return r, err
	}
	var out []ColourRow
	if q.Among != nil {
		err := db.QueryIn(ctx, s.db, s.db.Engine(), cols+cond+` AND person_num IN `, args, q.Among, ``, func(sc db.Scanner) error {
			r, err := scan(sc)
			out = append(out, r)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("status: by colour: %w", err)
		}
	} else {
		scope, args := db.Scope("region_code", q.Lo, q.Hi, args)
		var err error
		out, err = db.Collect(ctx, s.db, cols+cond+` AND `+scope+fmt.Sprintf(` ORDER BY person_num LIMIT %d`, max(q.Limit, 1)), args, scan)
		if err != nil {
			return nil, fmt.Errorf("status: by colour: %w", err)
		}
	}
	for i := range out {
		r := &out[i]
		reason, advice := rules.Text{ZH: r.ReasonZH, EN: r.ReasonEN}, rules.Text{ZH: r.AdviceZH, EN: adviceEN[i]}
		if err := s.rowTexts(ctx, s.db, versions[i], r.RuleID, &reason, &advice); err != nil {
			return nil, err
		}
		r.ReasonZH, r.ReasonEN, r.AdviceZH = reason.ZH, reason.EN, advice.ZH
	}
	if q.Among != nil {
		sortRows(out)
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	return out, nil
}

func sortRows(rs []ColourRow) {
	slices.SortFunc(rs, func(a, b ColourRow) int { return cmp.Compare(a.Person, b.Person) })
}
