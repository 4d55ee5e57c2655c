package status

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// maxKey bounds an idempotency key.
const maxKey = 128

// check validates facts before anything is stored. With several facts the
// message says which one is wrong, keeping the code of fact.Validate.
func check(facts []NewFact) error {
	for i := range facts {
		nf := &facts[i]
		err := nf.Fact.Validate()
		if err == nil && nf.Person <= 0 {
			err = person.ErrNotFound
		}
		if err == nil && len(nf.Key) > maxKey {
			err = ErrFactKeyInvalid.Withf("a fact's key is at most %d bytes", maxKey)
		}
		if err == nil && len(nf.Fact.Source) > 256 {
			err = ErrFactSourceInvalid
		}
		if err != nil {
			if e, ok := apierr.As(err); ok && len(facts) > 1 {
				return e.Withf("facts[%d]: %s", i, e.Message)
			}
			return err
		}
	}
	return nil
}

// Record stores facts about persons and recomputes their colours before
// returning, all in one transaction: a caller's next read (Status, Colour on
// this node) sees the new colour. Invalid facts are a 400 (fact.Validate's
// codes) and a number without a person a 404, and then nothing is stored. A
// fact whose (Person, Key) is already stored is skipped, so re-posting a
// batch is harmless; created counts the facts actually stored. Each call is
// audited (one entry per recorder and region, not per fact, so that a lab
// file of 100,000 results stays one transaction of reasonable size).
func (s *Service) Record(ctx context.Context, facts ...NewFact) (created int, err error) {
	if len(facts) == 0 {
		return 0, nil
	}
	if err := check(facts); err != nil {
		return 0, err
	}
	var w written
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		created, w, err = s.recordTx(ctx, tx, facts, CauseFact)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.applyLocal(w)
	return created, nil
}

// recordTx is Record inside a caller's transaction (appeals grant in the
// same transaction as the decision). facts must be checked.
func (s *Service) recordTx(ctx context.Context, tx db.Tx, facts []NewFact, cause string) (int, written, error) {
	ver, prog, err := s.activeProgram(ctx, tx)
	if err != nil {
		return 0, written{}, err
	}
	now := s.now()
	nowMs := now.UnixMilli()
	all := make([]int64, len(facts))
	for i := range facts {
		all[i] = facts[i].Person
	}
	people, err := s.personRegions(ctx, tx, sortedDistinct(all))
	if err != nil {
		return 0, written{}, err
	}
	region := make(map[int64]string, len(people))
	for _, p := range people {
		region[p.num] = p.region
	}
	last, err := db.NextVal(ctx, tx, "facts", int64(len(facts)))
	if err != nil {
		return 0, written{}, err
	}
	first := last - int64(len(facts)) + 1
	args := make([]any, 0, 10*len(facts))
	for i := range facts {
		nf := &facts[i]
		attrs, err := json.Marshal(nf.Fact.Attrs)
		if err != nil {
			return 0, written{}, fact.ErrAttrType.Withf("%s: attributes cannot be stored: %v", nf.Fact.Kind, err)
		}
		if len(nf.Fact.Attrs) == 0 {
			attrs = []byte("{}")
		}
		var key any
		if nf.Key != "" {
			key = nf.Key
		}
		args = append(args, nf.Person, first+int64(i), nf.Fact.Kind, db.Millis(nf.Fact.At), db.NullMillis(nf.Fact.Until),
			string(attrs), nf.Fact.Source, key, nowMs, nf.RecordedBy)
	}
	var added []storedFact
	// Inserted rows come back; a (person, key) already stored does not.
	type groupKey struct{ by, region string }
	type group struct {
		persons []int64
		facts   int
		kinds   []string
	}
	groups := map[groupKey]*group{}
	var order []groupKey
	touched := map[int64]bool{}
	created := 0
	const cols = 10
	ins := db.Insert{Head: `INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by) VALUES `,
		Cols: cols, Tail: ` ON CONFLICT DO NOTHING RETURNING id`}
	err = ins.Query(ctx, tx, s.db.Engine(), args, func(sc db.Scanner) error {
		var id int64
		if err := sc.Scan(&id); err != nil {
			return err
		}
		nf := &facts[id-first]
		created++
		added = append(added, storedFact{num: nf.Person, id: id, kind: nf.Fact.Kind, at: db.Millis(nf.Fact.At),
			until: db.Millis(nf.Fact.Until), attrs: args[(id-first)*cols+5].(string), source: nf.Fact.Source, recorded: nowMs})
		touched[nf.Person] = true
		k := groupKey{nf.RecordedBy, region[nf.Person]}
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		g.facts++
		if !slices.Contains(g.persons, nf.Person) && len(g.persons) < 2 {
			g.persons = append(g.persons, nf.Person)
		}
		if !slices.Contains(g.kinds, nf.Fact.Kind) {
			g.kinds = append(g.kinds, nf.Fact.Kind)
		}
		return nil
	})
	if err != nil {
		return 0, written{}, fmt.Errorf("status: store facts: %w", err)
	}
	if created == 0 {
		return 0, written{}, nil
	}
	var changed []personRef
	for _, p := range people {
		if touched[p.num] {
			changed = append(changed, p)
		}
	}
	sort.Slice(added, func(i, j int) bool {
		if added[i].num != added[j].num {
			return added[i].num < added[j].num
		}
		return added[i].id < added[j].id
	})
	w, err := s.settle(ctx, tx, ver, prog, changed, now, cause, added)
	if err != nil {
		return 0, written{}, err
	}
	// The audit head is the most contended row of all; take it last.
	for _, k := range order {
		g := groups[k]
		slices.Sort(g.kinds)
		e := audit.Entry{At: now, Actor: k.by, Action: "fact.record", Region: k.region,
			Detail: map[string]any{"facts": g.facts, "kinds": g.kinds}}
		if len(g.persons) == 1 {
			e.Subject = "person:" + s.ids.ID(g.persons[0])
		} else {
			e.Subject = "persons"
		}
		if _, err := audit.Append(ctx, tx, e); err != nil {
			return 0, written{}, err
		}
	}
	w.facts = created
	return created, w, nil
}

// Stored is a fact as the store keeps it.
type Stored struct {
	ID         string
	Kind       string
	At         time.Time
	Until      time.Time
	Attrs      map[string]any
	Source     string
	RecordedAt time.Time
	RecordedBy string
}

// Facts returns a person's facts, newest recorded first, at most limit
// (default and maximum 500): the timeline of why someone is yellow.
func (s *Service) Facts(ctx context.Context, num int64, limit int) ([]Stored, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	out, err := db.Collect(ctx, s.db, `SELECT id, kind, at, COALESCE(until_at, 0), attrs, source, recorded_at, recorded_by
		FROM facts WHERE person_num = $1 ORDER BY id DESC LIMIT $2`, []any{num, limit}, scanStored)
	if err != nil {
		return nil, fmt.Errorf("status: list facts: %w", err)
	}
	if out == nil {
		out = []Stored{}
	}
	return out, nil
}

func scanStored(sc scanner) (Stored, error) {
	var f Stored
	var id, at, until, rec int64
	var attrs string
	if err := sc.Scan(&id, &f.Kind, &at, &until, &attrs, &f.Source, &rec, &f.RecordedBy); err != nil {
		return f, err
	}
	f.ID, f.At, f.Until, f.RecordedAt = strconv.FormatInt(id, 10), db.Time(at), db.Time(until), db.Time(rec)
	if err := json.Unmarshal([]byte(attrs), &f.Attrs); err != nil {
		return f, fmt.Errorf("fact %d: attrs: %w", id, err)
	}
	if f.Attrs == nil {
		f.Attrs = map[string]any{}
	}
	return f, nil
}

// Status is a person's current decision.
type Status struct {
	Color  rules.Color
	RuleID string
	Reason rules.Text
	Advice rules.Text
	// NextEval is when the scheduler looks again (zero: only a new fact can
	// change the colour).
	NextEval time.Time
	// Version is the seq of the person's last change (0: never changed);
	// Colour returns the same number.
	Version uint64
	// UpdatedAt is when the colour or deciding rule last changed.
	UpdatedAt    time.Time
	RulesVersion int64
}

// What a green person without a deciding rule is told.
var (
	greenReason = rules.Text{ZH: "未发现风险信息，您的健康码为绿码。", EN: "No risk records were found: your code is green."}
	greenAdvice = rules.Text{ZH: "请继续做好个人防护，按要求参加核酸检测。", EN: "Keep protecting yourself and take part in testing as required."}
)

// Status returns a person's current decision from the database: colour,
// deciding rule, reason and advice (zh-CN and English), next evaluation,
// version. A person never evaluated is green with no rule.
func (s *Service) Status(ctx context.Context, num int64) (Status, error) {
	var st Status
	var color, next, version, updated int64
	err := s.db.QueryRowContext(ctx, `SELECT color, rule_id, reason_zh, reason_en, advice_zh, advice_en, COALESCE(next_eval_at, 0),
		version, rules_version, updated_at FROM status WHERE person_num = $1`, num).
		Scan(&color, &st.RuleID, &st.Reason.ZH, &st.Reason.EN, &st.Advice.ZH, &st.Advice.EN, &next, &version, &st.RulesVersion, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		color = int64(rules.Green)
	case err != nil:
		return Status{}, fmt.Errorf("status: read status: %w", err)
	}
	st.Color, st.NextEval, st.Version, st.UpdatedAt = rules.Color(color), db.Time(next), uint64(version), db.Time(updated)
	if st.RuleID == "" && st.Reason == (rules.Text{}) {
		st.Reason, st.Advice = greenReason, greenAdvice
	}
	return st, nil
}
