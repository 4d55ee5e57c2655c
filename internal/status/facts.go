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

// check validates facts recorded at now before anything is stored. With
// several facts the message says which one is wrong, keeping the code of
// fact.ValidateAt.
func check(facts []NewFact, now time.Time) error {
	for i := range facts {
		nf := &facts[i]
		err := nf.Fact.ValidateAt(now)
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
//
// A large batch whose facts all have keys (Config.BulkFacts or more: a
// risk area over a city) is stored in transactions of Config.Chunk persons
// (recordBulk): an error then may leave the first chunks stored, with their
// colours, and retrying the call stores the rest.
func (s *Service) Record(ctx context.Context, facts ...NewFact) (created int, err error) {
	if len(facts) == 0 {
		return 0, nil
	}
	if err := check(facts, s.now()); err != nil {
		return 0, err
	}
	if len(facts) >= s.cfg.BulkFacts && keyed(facts) {
		return s.recordBulk(ctx, facts)
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
	all := make([]int64, len(facts))
	for i := range facts {
		all[i] = facts[i].Person
	}
	people, err := s.personRegions(ctx, tx, sortedDistinct(all))
	if err != nil {
		return 0, written{}, err
	}
	var groups auditGroups
	st, err := s.storeFacts(ctx, tx, facts, nil, people, now, &groups, false)
	if err != nil || st.created == 0 {
		return 0, written{}, err
	}
	w, err := s.settle(ctx, tx, ver, prog, st.changed, now, cause, st.added, false)
	if err != nil {
		return 0, written{}, err
	}
	// The audit head is the most contended row of all; take it last.
	if err := groups.append(ctx, tx, s.ids, now); err != nil {
		return 0, written{}, err
	}
	w.facts = st.created
	return st.created, w, nil
}

// stored is what storeFacts inserted: the facts (sorted by person, then
// id) and the persons they concern (sorted).
type stored struct {
	created int
	added   []storedFact
	changed []personRef
}

// storeFacts inserts facts about people (sorted, distinct: every person of
// facts with their region) and counts those inserted into groups. A fact
// whose (person, key) is already stored is skipped; with claim (a bulk
// chunk's first attempt, whose keys are nearly always new) the insert has
// no ON CONFLICT, and a stored key fails it with errClaimLost instead.
// attrs, when not nil, are the facts' attributes as storedAttrs gives them.
func (s *Service) storeFacts(ctx context.Context, tx db.Tx, facts []NewFact, attrs []string, people []personRef, now time.Time,
	groups *auditGroups, claim bool) (stored, error) {
	nowMs := now.UnixMilli()
	region := make(map[int64]string, len(people))
	for _, p := range people {
		region[p.num] = p.region
	}
	last, err := db.NextVal(ctx, tx, "facts", int64(len(facts)))
	if err != nil {
		return stored{}, err
	}
	first := last - int64(len(facts)) + 1
	if attrs == nil {
		if attrs, err = storedAttrs(facts); err != nil {
			return stored{}, err
		}
	}
	args := make([]any, 0, 10*len(facts))
	for i := range facts {
		nf := &facts[i]
		var key any
		if nf.Key != "" {
			key = nf.Key
		}
		args = append(args, nf.Person, first+int64(i), nf.Fact.Kind, db.Millis(nf.Fact.At), db.NullMillis(nf.Fact.Until),
			attrs[i], nf.Fact.Source, key, nowMs, nf.RecordedBy)
	}
	var out stored
	touched := map[int64]bool{}
	const cols = 10
	ins := db.Insert{Head: `INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by) VALUES `,
		Cols: cols, Tail: ` ON CONFLICT DO NOTHING`}
	if claim {
		ins.Tail = ``
	}
	n, err := s.insertRows(ctx, tx, ins, args)
	if err != nil {
		if claim && db.IsUniqueViolation(err) {
			return stored{}, fmt.Errorf("%w: %w", errClaimLost, err)
		}
		return stored{}, fmt.Errorf("status: store facts: %w", err)
	}
	// A (person, key) already stored was skipped. Reading back what went in
	// is needed only then: rows returned one by one cost a bulk Record more
	// than the count.
	var skipped map[int64]bool
	if n != int64(len(facts)) {
		skipped = make(map[int64]bool, len(facts))
		for i := range facts {
			skipped[first+int64(i)] = true
		}
		err := db.Each(ctx, tx, `SELECT id FROM facts WHERE id >= $1 AND id <= $2`, []any{first, last}, func(sc db.Scanner) error {
			var id int64
			if err := sc.Scan(&id); err != nil {
				return err
			}
			delete(skipped, id)
			return nil
		})
		if err != nil {
			return stored{}, fmt.Errorf("status: store facts: %w", err)
		}
	}
	out.added = make([]storedFact, 0, n)
	for i := range facts {
		id := first + int64(i)
		if skipped[id] {
			continue
		}
		nf := &facts[i]
		out.created++
		out.added = append(out.added, storedFact{num: nf.Person, id: id, kind: nf.Fact.Kind, at: db.Millis(nf.Fact.At),
			until: db.Millis(nf.Fact.Until), attrs: attrs[i], source: nf.Fact.Source, recorded: nowMs})
		touched[nf.Person] = true
		groups.add(nf.RecordedBy, region[nf.Person], nf.Person, nf.Fact.Kind)
	}
	for _, p := range people {
		if touched[p.num] {
			out.changed = append(out.changed, p)
		}
	}
	sort.Slice(out.added, func(i, j int) bool {
		if out.added[i].num != out.added[j].num {
			return out.added[i].num < out.added[j].num
		}
		return out.added[i].id < out.added[j].id
	})
	return out, nil
}

// auditGroups are the facts stored, by recorder and region, for one audit
// entry per group rather than per fact.
type auditGroups struct {
	m     map[auditKey]*auditGroup
	order []auditKey
}

type auditKey struct{ by, region string }

type auditGroup struct {
	persons []int64 // the first two
	facts   int
	kinds   []string
}

func (g *auditGroups) add(by, region string, num int64, kind string) {
	e := g.group(auditKey{by, region})
	e.facts++
	e.person(num)
	e.kind(kind)
}

func (g *auditGroups) group(k auditKey) *auditGroup {
	if g.m == nil {
		g.m = map[auditKey]*auditGroup{}
	}
	e := g.m[k]
	if e == nil {
		e = &auditGroup{}
		g.m[k] = e
		g.order = append(g.order, k)
	}
	return e
}

func (e *auditGroup) person(num int64) {
	if !slices.Contains(e.persons, num) && len(e.persons) < 2 {
		e.persons = append(e.persons, num)
	}
}

func (e *auditGroup) kind(kind string) {
	if !slices.Contains(e.kinds, kind) {
		e.kinds = append(e.kinds, kind)
	}
}

// append writes one audit entry per group in tx.
func (g *auditGroups) append(ctx context.Context, tx db.Tx, ids IDs, now time.Time) error {
	for _, k := range g.order {
		e := g.m[k]
		slices.Sort(e.kinds)
		a := audit.Entry{At: now, Actor: k.by, Action: "fact.record", Region: k.region,
			Detail: map[string]any{"facts": e.facts, "kinds": e.kinds}}
		if len(e.persons) == 1 {
			a.Subject = "person:" + ids.ID(e.persons[0])
		} else {
			a.Subject = "persons"
		}
		if _, err := audit.Append(ctx, tx, a); err != nil {
			return err
		}
	}
	return nil
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
	if err := s.rowTexts(ctx, s.db, st.RulesVersion, st.RuleID, &st.Reason, &st.Advice); err != nil {
		return Status{}, err
	}
	if st.RuleID == "" && st.Reason == (rules.Text{}) {
		st.Reason, st.Advice = greenReason, greenAdvice
	}
	return st, nil
}

// postedNegatives reads the window's [$1, $2] negatives posted as facts,
// followed by the region scope of p. The kind and the key's test are
// written as the partial index facts_posted_results has them, so both
// engines read the window through it; CROSS JOIN keeps SQLite from starting
// at the persons in scope, a province's millions.
const postedNegatives = `SELECT f.person_num, f.attrs FROM facts f CROSS JOIN persons p
	WHERE f.kind = '` + fact.NATResult + `' AND (f.idem_key IS NULL OR f.idem_key NOT LIKE 'nat:%') AND f.at >= $1 AND f.at <= $2
		AND p.num = f.person_num AND `

// PostedNegatives are the persons in [lo, hi) (region bounds) with a
// negative nat.result fact sampled in [since, until] (unix ms) that testing
// did not record itself: results posted as facts (another province's lab,
// a hospital's system), which a coverage count must see as tests too.
// Testing's own results are keyed "nat:…" and read from its tubes, where a
// correction is current. For the platform's own callers (testing's
// coverage), which check the operator first.
func (s *Service) PostedNegatives(ctx context.Context, lo, hi string, since, until int64) (map[int64]bool, error) {
	scope, args := db.Scope("p.region_code", lo, hi, []any{since, until})
	out := map[int64]bool{}
	err := db.Each(ctx, s.db, postedNegatives+scope,
		args, func(sc db.Scanner) error {
			var num int64
			var attrs string
			if err := sc.Scan(&num, &attrs); err != nil {
				return err
			}
			var a struct{ Result string }
			if json.Unmarshal([]byte(attrs), &a) == nil && a.Result == fact.ResultNegative {
				out[num] = true
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("status: posted negatives: %w", err)
	}
	return out, nil
}
