package status

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/rules"
)

// Transition counts persons who would go from one colour to another.
type Transition struct {
	From  rules.Color
	To    rules.Color
	Count int64
}

// Sample is one person who would change colour, masked.
type Sample struct {
	PersonID   string
	MaskedName string
	Region     string
	From       rules.Color
	To         rules.Color
	RuleID     string
	Reason     rules.Text
}

// DryRun is what activating a version would do to the persons in scope now.
type DryRun struct {
	Version     int64
	Scope       string
	At          time.Time
	Evaluated   int64
	Unchanged   int64 // same colour
	RuleChanged int64 // same colour, another deciding rule
	Transitions []Transition
	Sample      []Sample
}

// samplePerTransition bounds the sample, so that a big move does not hide
// the small ones.
const samplePerTransition = 5

// DryRunRules evaluates a version against everyone in the operator's scope
// and compares with their current colours, changing nothing. The sample of
// persons who would change is masked, and its ids are audited like any
// operator view of persons. by needs rules.write.
func (s *Service) DryRunRules(ctx context.Context, by *auth.Principal, version int64) (*DryRun, error) {
	if err := by.Require(auth.RulesWrite); err != nil {
		return nil, err
	}
	prog, err := s.program(ctx, s.db, version)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &DryRun{Version: version, Scope: by.Region, At: now.UTC().Truncate(time.Millisecond), Transitions: []Transition{}, Sample: []Sample{}}
	counts := map[[2]rules.Color]int64{}
	type pick struct {
		num int64
		s   Sample
	}
	var picks []pick
	lo, hi := by.Bounds()
	var after int64
	for {
		scope, args := db.Scope("region_code", lo, hi, []any{after})
		people, err := db.Collect(ctx, s.db, `SELECT num, region_code FROM persons WHERE num > $1 AND `+scope+` ORDER BY num LIMIT $4`,
			append(args, s.cfg.Batch), scanPersonRef)
		if err != nil {
			return nil, fmt.Errorf("status: dry run: %w", err)
		}
		if len(people) == 0 {
			break
		}
		after = people[len(people)-1].num
		cur, facts, err := s.readBatch(ctx, s.db, people, lo == "")
		if err != nil {
			return nil, err
		}
		ds, err := s.evaluate(prog, people, facts, now)
		if err != nil {
			return nil, err
		}
		for i, p := range people {
			old, ok := cur[p.num]
			if !ok {
				old = defaultRow(p)
			}
			d := &ds[i]
			out.Evaluated++
			if old.color == d.Color {
				out.Unchanged++
				if old.ruleID != d.RuleID {
					out.RuleChanged++
				}
				continue
			}
			k := [2]rules.Color{old.color, d.Color}
			counts[k]++
			if counts[k] <= samplePerTransition {
				picks = append(picks, pick{p.num, Sample{PersonID: s.ids.ID(p.num), Region: p.region, From: old.color, To: d.Color,
					RuleID: d.RuleID, Reason: d.Reason}})
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	for k, n := range counts {
		out.Transitions = append(out.Transitions, Transition{From: k[0], To: k[1], Count: n})
	}
	sort.Slice(out.Transitions, func(i, j int) bool {
		a, b := out.Transitions[i], out.Transitions[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	sampled := make([]string, 0, len(picks))
	for _, p := range picks {
		per, err := s.people.Get(ctx, p.num)
		if err != nil {
			return nil, err
		}
		p.s.MaskedName = idnum.MaskName(per.Name)
		out.Sample = append(out.Sample, p.s)
		sampled = append(sampled, p.s.PersonID)
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: now, Actor: by.Actor(), Action: "rules.dry_run", Subject: fmt.Sprintf("rules:%d", version),
		Region: by.Region, Detail: map[string]any{"evaluated": out.Evaluated, "sample": sampled}})
	return out, err
}

// readBatch reads the status rows and facts of people (sorted). A batch of
// a whole deployment is contiguous in numbers and is read by range; a
// scoped one by lists.
func (s *Service) readBatch(ctx context.Context, q db.Querier, people []personRef, contiguous bool) (map[int64]row, []storedFact, error) {
	cur := make(map[int64]row, len(people))
	lo, hi := people[0].num, people[len(people)-1].num+1
	var facts []storedFact
	var err error
	if contiguous {
		facts, err = packsInRange(ctx, q, lo, hi, math.MaxInt64)
	} else {
		facts, _, err = s.packsOf(ctx, q, nums(people))
	}
	if err != nil {
		return nil, nil, err
	}
	err = db.Each(ctx, q, `SELECT `+rowCols+` FROM status WHERE person_num >= $1 AND person_num < $2`, []any{lo, hi}, func(sc db.Scanner) error {
		r, err := scanRow(sc)
		if err != nil {
			return err
		}
		cur[r.num] = r
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("status: read status: %w", err)
	}
	return cur, facts, nil
}

// TownCount is the colour count of one town (or of the persons registered
// directly at a county).
type TownCount struct {
	Region     string
	Registered int64
	Green      int64
	Yellow     int64
	Red        int64
}

// Stats counts colours per town (the first 9 digits of the region code)
// within the reader's scope, for a reader with stats.read: yellow and red
// from the status table, green as the rest of the registered persons (a
// person never evaluated is green).
func (s *Service) Stats(ctx context.Context, reader *auth.Principal) ([]TownCount, error) {
	if err := reader.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	lo, hi := reader.Bounds()
	by := map[string]*TownCount{}
	get := func(r string) *TownCount {
		t := by[r]
		if t == nil {
			t = &TownCount{Region: r}
			by[r] = t
		}
		return t
	}
	registered, err := s.people.CountByRegion(ctx, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("status: stats: %w", err)
	}
	for code, n := range registered {
		get(code[:min(len(code), 9)]).Registered += n
	}
	colours, err := s.colourCounts(ctx, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("status: stats: %w", err)
	}
	for k, n := range colours {
		if n == 0 {
			continue
		}
		switch k.color {
		case rules.Yellow:
			get(k.region[:min(len(k.region), 9)]).Yellow += n
		case rules.Red:
			get(k.region[:min(len(k.region), 9)]).Red += n
		}
	}
	out := make([]TownCount, 0, len(by))
	for _, t := range by {
		t.Green = max(t.Registered-t.Yellow-t.Red, 0)
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	return out, nil
}

// WithColor lists the persons whose current colour is color (yellow or
// red: green is everyone else) in the reader's scope, narrowed to region if
// given, by person number after after, at most limit: the persons list's
// colour filter.
func (s *Service) WithColor(ctx context.Context, reader *auth.Principal, color rules.Color, region string, after int64, limit int) ([]int64, error) {
	if err := reader.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	if color == rules.Green {
		return nil, ErrColorFilter
	}
	lo, hi := reader.Bounds()
	if region != "" {
		if !reader.InScope(region) {
			return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", region, reader.Region)
		}
		lo, hi = auth.Bounds(region)
	}
	scope, args := db.Scope("region_code", lo, hi, []any{int64(color), after, limit})
	nums, err := db.Collect(ctx, s.db, `SELECT person_num FROM status WHERE color = $1 AND person_num > $2 AND `+scope+
		` ORDER BY person_num LIMIT $3`, args, func(sc db.Scanner) (int64, error) {
		var n int64
		err := sc.Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("status: persons by colour: %w", err)
	}
	return nums, nil
}
