package trip

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/status"
)

// Published is a published area and the facts it appended.
type Published struct {
	Area  *riskarea.Area
	Facts int
}

// Publish publishes a risk area (riskarea.Service.Publish: permission,
// scope, audit) and, for a medium or high one, appends a visit.risk_area
// fact for every person whose stays in the window touch its city, also
// stays before the area began: the star and the rule look back over the
// window. The facts are keyed by the area: recording them again for the
// same area adds none twice, but publishing again makes a new area (a new
// id, new keys), so a publish that failed part way is not simply retried.
func (s *Service) Publish(ctx context.Context, by *auth.Principal, in riskarea.Input) (*Published, error) {
	a, err := s.d.Areas.Publish(ctx, by, in)
	if err != nil {
		return nil, err
	}
	out := &Published{Area: a}
	if !riskarea.Starring(a.Level) || !a.Until.After(s.now()) {
		return out, nil
	}
	facts, err := s.proposed(ctx, a)
	if err != nil {
		return nil, err
	}
	if out.Facts, err = s.d.Facts.Record(ctx, facts...); err != nil {
		return nil, fmt.Errorf("trip: record risk-area visits: %w", err)
	}
	return out, nil
}

// Import publishes the areas of a CSV file (riskarea.Service.Import) and
// appends their facts like Publish.
func (s *Service) Import(ctx context.Context, by *auth.Principal, data []byte) (*riskarea.ImportReport, int, error) {
	rep, err := s.d.Areas.Import(ctx, by, data)
	if err != nil {
		return nil, 0, err
	}
	total := 0
	for _, a := range rep.Areas {
		if !riskarea.Starring(a.Level) || !a.Until.After(s.now()) {
			continue
		}
		facts, err := s.proposed(ctx, a)
		if err != nil {
			return nil, 0, err
		}
		n, err := s.d.Facts.Record(ctx, facts...)
		if err != nil {
			return nil, 0, fmt.Errorf("trip: record risk-area visits: %w", err)
		}
		total += n
	}
	return rep, total, nil
}

// DryRun is who an area would change, before it is published.
type DryRun struct {
	Area     *riskarea.Area
	Visitors int // persons whose stays touch the city in the window
	Changes  []status.WhatIfChange
}

// DryRun checks an area as Publish would and evaluates the facts it would
// append against the active rules, changing nothing. The changes are those
// of persons in the operator's scope. by needs riskarea.write.
//
// It is a lookup of people (whose colour would change), so it is audited
// like one: who asked, about which area, and how many; never whom.
func (s *Service) DryRun(ctx context.Context, by *auth.Principal, in riskarea.Input) (*DryRun, error) {
	out, err := s.dryRun(ctx, by, in)
	if err != nil {
		return nil, err
	}
	a := out.Area
	err = audit.Record(ctx, s.d.DB, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "risk_area.dry_run", Subject: "risk_areas",
		Region: a.Region, Detail: map[string]any{"level": a.Level, "name": a.Name, "from": a.From.UnixMilli(), "until": a.Until.UnixMilli(),
			"visitors": out.Visitors, "changed": len(out.Changes)}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) dryRun(ctx context.Context, by *auth.Principal, in riskarea.Input) (*DryRun, error) {
	if err := by.Require(auth.RiskAreaWrite); err != nil {
		return nil, err
	}
	a, err := s.d.Areas.Check(in)
	if err != nil {
		return nil, err
	}
	if !by.InScope(a.Region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope", a.Region)
	}
	out := &DryRun{Area: a, Changes: []status.WhatIfChange{}}
	if !riskarea.Starring(a.Level) {
		return out, nil
	}
	facts, err := s.proposed(ctx, a)
	if err != nil {
		return nil, err
	}
	out.Visitors = len(facts)
	changes, err := s.d.Facts.WhatIf(ctx, facts)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if by.InScope(c.Region) {
			out.Changes = append(out.Changes, c)
		}
	}
	return out, nil
}

// proposed is the visit.risk_area fact of each person whose latest stay of
// more than MinStay in the area's city ended within the window: from the
// carrier's stays of their phone and from their own presence.
func (s *Service) proposed(ctx context.Context, a *riskarea.Area) ([]status.NewFact, error) {
	now := s.now().UTC()
	from, to := now.Add(-s.cfg.Window).UnixMilli(), now.UnixMilli()
	// Every candidate stay, by person: sorted and cut to each person's
	// latest below. Slices rather than maps keyed by phone and person: over a
	// city of a million, the maps cost more than the reads.
	type numStay struct {
		num int64
		st  Stay
	}
	var found []numStay
	// The carrier's stays, by phone.
	type phoneStay struct {
		hash []byte
		st   Stay
	}
	var stays []phoneStay
	err := db.Each(ctx, s.d.DB, `SELECT phone_hash, first_seen, last_seen FROM trip_stays
		WHERE city_code = $1 AND last_seen >= $2 AND first_seen <= $3 AND last_seen - first_seen > $4`,
		[]any{a.City, from, to, s.cfg.MinStay.Milliseconds()}, func(sc db.Scanner) error {
			ps := phoneStay{st: Stay{City: a.City}}
			if err := sc.Scan(&ps.hash, &ps.st.First, &ps.st.Last); err != nil {
				return err
			}
			stays = append(stays, ps)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("trip: stays in %s: %w", a.City, err)
	}
	if len(stays) > 0 {
		// A phone's latest stay first (the first read among equals), and the
		// phones in the index's order, so that each list of the lookup reads
		// neighbouring pages of the phone index instead of a page per phone.
		slices.SortStableFunc(stays, func(x, y phoneStay) int {
			if c := bytes.Compare(x.hash, y.hash); c != 0 {
				return c
			}
			return cmp.Compare(y.st.Last, x.st.Last)
		})
		latestOf := stays[:0:0]
		hashes := make([][]byte, 0, len(stays))
		for i, ps := range stays {
			if i > 0 && bytes.Equal(ps.hash, stays[i-1].hash) {
				continue
			}
			latestOf = append(latestOf, ps)
			hashes = append(hashes, ps.hash)
		}
		nums, err := s.d.Persons.NumsByPhoneHash(ctx, hashes)
		if err != nil {
			return nil, err
		}
		for _, ps := range latestOf {
			if n, ok := nums[string(ps.hash)]; ok {
				found = append(found, numStay{n, ps.st})
			}
		}
	}
	// Presence: everyone seen at a venue or checkpoint of the city, whose
	// own stays then say how long they stayed.
	visitors, err := s.visitorsOfCity(ctx, a.City, from, to)
	if err != nil {
		return nil, err
	}
	nums := make([]int64, 0, len(visitors))
	for num := range visitors {
		nums = append(nums, num)
	}
	slices.Sort(nums)
	err = s.d.Presence.StopsOfMany(ctx, nums, from, to, func(num int64, stops []checkin.Stop) error {
		stays, err := s.stopsToStays(ctx, stops)
		if err != nil {
			return err
		}
		for _, st := range stays {
			if st.City == a.City && st.Last-st.First > s.cfg.MinStay.Milliseconds() {
				found = append(found, numStay{num, st})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Each person's latest stay, the first found among equals (the carrier's
	// before their presence).
	slices.SortStableFunc(found, func(x, y numStay) int {
		if c := cmp.Compare(x.num, y.num); c != 0 {
			return c
		}
		return cmp.Compare(y.st.Last, x.st.Last)
	})
	out := make([]status.NewFact, 0, len(found))
	key := "risk_area:" + a.ID
	for i, f := range found {
		if i == 0 || f.num != found[i-1].num {
			out = append(out, s.visitFact(f.num, a, f.st, key))
		}
	}
	return out, nil
}

func (s *Service) visitFact(num int64, a *riskarea.Area, st Stay, key string) status.NewFact {
	hours := math.Round(float64(st.Last-st.First)/float64(time.Hour.Milliseconds())*10) / 10
	if hours > 24*14 {
		hours = 24 * 14
	}
	// The fact names the county: a street's area is in it.
	county := a.Region
	switch {
	case len(county) > 6:
		county = county[:6]
	case len(county) == 4:
		county += "00" // a whole city, written as GB/T 2260 writes cities
	}
	return status.NewFact{Person: num, RecordedBy: "system", Key: key, Fact: fact.Fact{
		Kind: fact.VisitRiskArea, At: time.UnixMilli(st.First).UTC(), Until: time.UnixMilli(st.Last).UTC(),
		Attrs:  map[string]any{"region": county, "level": a.Level, "stay_hours": hours},
		Source: "risk_area:" + a.ID,
	}}
}

// visitorsOfCity is everyone present at a venue or checkpoint of the city
// in [from, to].
func (s *Service) visitorsOfCity(ctx context.Context, city string, from, to int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	venues, err := s.d.Venues.IDsInRegion(ctx, city)
	if err != nil {
		return nil, err
	}
	cps, err := s.d.Checkpoints.IDsInRegion(ctx, city)
	if err != nil {
		return nil, err
	}
	var places []int64
	for _, id := range venues {
		n, err := s.d.Presence.VenuePlace(ctx, id)
		if err != nil {
			return nil, err
		}
		if n != 0 {
			places = append(places, n)
		}
	}
	for _, id := range cps {
		n, err := s.d.Presence.CheckpointPlace(ctx, id)
		if err != nil {
			return nil, err
		}
		if n != 0 {
			places = append(places, n)
		}
	}
	for _, p := range places {
		if err := s.d.Presence.Visitors(ctx, p, from, to, func(v checkin.Presence) { out[v.Person] = true }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// markNewStays appends the facts of newly fed stays in cities that have a
// medium- or high-risk area in force now.
func (s *Service) markNewStays(ctx context.Context, rows []feedRow, now time.Time) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	areas, err := s.d.Areas.List(ctx, riskarea.Query{})
	if err != nil {
		return 0, err
	}
	byCity := map[string]*riskarea.Area{}
	for _, a := range areas {
		if riskarea.Starring(a.Level) && a.ActiveAt(now) {
			if cur := byCity[a.City]; cur == nil || a.Level == "high" && cur.Level != "high" {
				byCity[a.City] = a
			}
		}
	}
	var hashes [][]byte
	minStay := s.cfg.MinStay.Milliseconds()
	from := now.Add(-s.cfg.Window).UnixMilli()
	for _, r := range rows {
		if byCity[r.city] != nil && r.last-r.first > minStay && r.last >= from {
			hashes = append(hashes, r.hash)
		}
	}
	if len(hashes) == 0 {
		return 0, nil
	}
	nums, err := s.d.Persons.NumsByPhoneHash(ctx, hashes)
	if err != nil {
		return 0, err
	}
	var facts []status.NewFact
	for _, r := range rows {
		a := byCity[r.city]
		num, ok := nums[string(r.hash)]
		if a == nil || !ok || r.last-r.first <= minStay || r.last < from {
			continue
		}
		facts = append(facts, s.visitFact(num, a, Stay{City: r.city, First: r.first, Last: r.last},
			"risk_area:"+a.ID+":"+strconv.FormatInt(r.first, 10)))
	}
	if len(facts) == 0 {
		return 0, nil
	}
	n, err := s.d.Facts.Record(ctx, facts...)
	if err != nil {
		return 0, fmt.Errorf("trip: record risk-area visits: %w", err)
	}
	return n, nil
}
