package trip

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
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
	if out.Facts, err = s.recordVisits(ctx, a); err != nil {
		return nil, err
	}
	return out, nil
}

// recordVisits appends the facts of an area's visitors, storing each slice
// of persons while the next is read.
func (s *Service) recordVisits(ctx context.Context, a *riskarea.Area) (int, error) {
	v, err := s.findVisits(ctx, a)
	if err != nil {
		return 0, err
	}
	n, err := s.d.Facts.RecordStream(ctx, v.next)
	if err != nil {
		return 0, fmt.Errorf("trip: record risk-area visits: %w", err)
	}
	return n, nil
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
		n, err := s.recordVisits(ctx, a)
		if err != nil {
			return nil, 0, err
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
// carrier's stays of their phone and from their own presence. Sorted by
// person.
func (s *Service) proposed(ctx context.Context, a *riskarea.Area) ([]status.NewFact, error) {
	v, err := s.findVisits(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []status.NewFact
	for {
		facts, err := v.next(ctx)
		if err != nil {
			return nil, err
		}
		if len(facts) == 0 {
			return out, nil
		}
		out = append(out, facts...)
	}
}

// numStay is a person's candidate stay.
type numStay struct {
	num int64
	st  Stay
	i   int // the order found, which decides among equals
}

// phoneStay is a phone's stay in the city.
type phoneStay struct {
	hash []byte
	st   Stay
	i    int // the order read, which decides among equals
}

// visits are the visitors of an area's city, found in two steps: who they
// are (findVisits: the carrier's stays with their phones' persons, and the
// persons present at the city's places), then, persons in ascending
// number a slice at a time (next), their facts, which for those present
// needs their stops. Publishing stores each slice while the next is read.
//
// When the phones with a stay are about as many as the persons, they are
// matched to persons a slice at a time too, walking the persons in number
// order (stays holds each phone's latest stay, walkFrom the next number to
// walk), so that storing begins before every phone is matched; otherwise
// every phone is looked up first (carrier).
type visits struct {
	s        *Service
	a        *riskarea.Area
	key      string
	from, to int64
	carrier  []numStay // each person's latest carrier stay, by person
	present  []int64   // persons seen at the city's places, ascending
	stays    *phoneIndex
	walk     bool // match the stays by walking the persons
	walkFrom int64
	phones   func(ctx context.Context, from int64, limit int, fn func(num int64, hash []byte) error) (int, error)
}

// visitsPerCall is how many persons next covers at most: a slice of
// presence reads, smaller than a chunk of Record so that storing begins
// early.
const visitsPerCall = 2000

// walkRatio is how many persons per phone with a stay the walk over every
// person may read rather than looking each phone up: an index entry read
// in order costs a fraction of a lookup's descent.
const walkRatio = 4

// findVisits finds who visited the area's city. The carrier's stays and
// the presence are read side by side (each on a connection of its own).
func (s *Service) findVisits(ctx context.Context, a *riskarea.Area) (*visits, error) {
	now := s.now().UTC()
	v := &visits{s: s, a: a, key: "risk_area:" + a.ID, from: now.Add(-s.cfg.Window).UnixMilli(), to: now.UnixMilli()}
	var perr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		var set map[int64]bool
		if set, perr = s.visitorsOfCity(ctx, a.City, v.from, v.to); perr != nil {
			return
		}
		v.present = make([]int64, 0, len(set))
		for num := range set {
			v.present = append(v.present, num)
		}
		slices.Sort(v.present)
	}()
	err := s.carrierVisits(ctx, v)
	<-done
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	return v, nil
}

// carrierVisits finds the latest stay in the city of each phone the
// carrier saw there for more than MinStay within the window and either
// keeps them for the walk over the persons (v.stays, by phone) or looks
// their persons up at once (v.carrier, by person). Slices rather than maps
// keyed by phone and person: over a city of a million, the maps cost more
// than the reads.
func (s *Service) carrierVisits(ctx context.Context, v *visits) error {
	latest, err := s.cityStays(ctx, v.a.City, v.from, v.to)
	if err != nil || len(latest) == 0 {
		return err
	}
	most, err := s.d.Persons.MaxNum(ctx)
	if err != nil {
		return err
	}
	if most <= walkRatio*int64(len(latest)) {
		v.stays, v.walk, v.phones = newPhoneIndex(latest), true, s.d.Persons.PhonesFrom
		return nil
	}
	v.carrier, err = lookupPhones(ctx, latest, s.d.Persons.NumsByPhoneHash)
	return err
}

// cityStays is the latest stay in city of each phone the carrier saw there
// for more than MinStay, ending at from or later and begun by to, sorted by
// phone.
func (s *Service) cityStays(ctx context.Context, city string, from, to int64) ([]phoneStay, error) {
	// Two halves of the window's ends read and sorted side by side, each on
	// a read connection of its own: nothing can be stored before they end.
	mid := from + (to-from)/2
	var parts [2][]phoneStay
	var errs [2]error
	var wg sync.WaitGroup
	for k, ends := range [2][2]int64{{from, mid - 1}, {mid, math.MaxInt64}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stays []phoneStay
			errs[k] = db.Each(ctx, s.d.DB, staysInCity, []any{city, ends[0], ends[1], to, s.cfg.MinStay.Milliseconds()}, func(sc db.Scanner) error {
				ps := phoneStay{st: Stay{City: city}, i: k<<40 | len(stays)}
				if err := sc.Scan(&ps.hash, &ps.st.First, &ps.st.Last); err != nil {
					return err
				}
				stays = append(stays, ps)
				return nil
			})
			// A phone's latest stay first (the first read among equals), and
			// the phones in the index's order, so that each list of a lookup
			// reads neighbouring pages of the phone index.
			slices.SortFunc(stays, comparePhoneStays)
			parts[k] = stays
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("trip: stays in %s: %w", city, err)
	}
	latest := make([]phoneStay, 0, len(parts[0])+len(parts[1]))
	keep := func(ps phoneStay) {
		if n := len(latest); n == 0 || !bytes.Equal(latest[n-1].hash, ps.hash) {
			latest = append(latest, ps)
		}
	}
	x, y := parts[0], parts[1]
	for len(x) > 0 && len(y) > 0 {
		if comparePhoneStays(x[0], y[0]) <= 0 {
			keep(x[0])
			x = x[1:]
		} else {
			keep(y[0])
			y = y[1:]
		}
	}
	for _, ps := range x {
		keep(ps)
	}
	for _, ps := range y {
		keep(ps)
	}
	return latest, nil
}

// staysInCity reads the stays of a city whose ends lie in [$2, $3], that
// began by $4 and lasted more than $5 ms, from the city's index alone.
const staysInCity = `SELECT phone_hash, first_seen, last_seen FROM trip_stays
	WHERE city_code = $1 AND last_seen >= $2 AND last_seen <= $3 AND first_seen <= $4 AND last_seen - first_seen > $5`

func comparePhoneStays(x, y phoneStay) int {
	if c := bytes.Compare(x.hash, y.hash); c != 0 {
		return c
	}
	if c := cmp.Compare(y.st.Last, x.st.Last); c != 0 {
		return c
	}
	return cmp.Compare(x.i, y.i)
}

// phoneIndex finds a phone's stay among each phone's latest (sorted by
// phone, one each). Blind indexes are keyed hashes, spread evenly, so their
// first bits say where a phone lies: a table of where each leading-bits
// bucket begins leaves a search of a few neighbouring entries, where a
// binary search over a million would miss the cache at every step.
type phoneIndex struct {
	stays []phoneStay
	keys  []uint64 // the first 8 bytes of each phone, as a number
	start []int32  // start[b]: the first of keys whose top bits are b or more
	shift uint
}

func newPhoneIndex(latest []phoneStay) *phoneIndex {
	x := &phoneIndex{stays: latest, keys: make([]uint64, len(latest))}
	bits := uint(0)
	for 1<<bits < len(latest)/4 && bits < 24 {
		bits++
	}
	x.shift = 64 - bits
	x.start = make([]int32, 1<<bits+1)
	b := 0
	for i, ps := range latest {
		k := phoneKey(ps.hash)
		x.keys[i] = k
		for ; b <= int(k>>x.shift); b++ {
			x.start[b] = int32(i)
		}
	}
	for ; b < len(x.start); b++ {
		x.start[b] = int32(len(latest))
	}
	return x
}

// phoneKey is the first 8 bytes of a phone's blind index (zeros after a
// shorter one), which sort as the bytes do.
func phoneKey(h []byte) uint64 {
	var b [8]byte
	copy(b[:], h)
	return binary.BigEndian.Uint64(b[:])
}

// stayOf is the stay of a phone.
func (x *phoneIndex) stayOf(hash []byte) (Stay, bool) {
	k := phoneKey(hash)
	b := k >> x.shift
	lo, hi := int(x.start[b]), int(x.start[b+1])
	i, _ := slices.BinarySearch(x.keys[lo:hi], k)
	for i += lo; i < hi && x.keys[i] == k; i++ {
		if bytes.Equal(x.stays[i].hash, hash) {
			return x.stays[i].st, true
		}
	}
	return Stay{}, false
}

// lookupPhones is the latest stay of every person registered with one of
// the phones (each phone's latest, sorted by phone), by person.
func lookupPhones(ctx context.Context, latest []phoneStay,
	byPhone func(ctx context.Context, hashes [][]byte) (map[string][]int64, error)) ([]numStay, error) {
	hashes := make([][]byte, len(latest))
	for i, ps := range latest {
		hashes[i] = ps.hash
	}
	// Two halves looked up side by side, each on a read connection of its
	// own: the lookup is most of what a big city costs before anything can
	// be stored.
	half := len(hashes) / 2
	var nums [2]map[string][]int64
	var errs [2]error
	var wg sync.WaitGroup
	for k, part := range [2][][]byte{hashes[:half], hashes[half:]} {
		if len(part) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nums[k], errs[k] = byPhone(ctx, part)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	found := make([]numStay, 0, len(latest))
	for k, ps := range latest {
		m := nums[0]
		if k >= half {
			m = nums[1]
		}
		for _, n := range m[string(ps.hash)] {
			found = append(found, numStay{num: n, st: ps.st, i: len(found)})
		}
	}
	// Each person's latest, the first found among equals.
	slices.SortFunc(found, func(x, y numStay) int {
		if c := cmp.Compare(x.num, y.num); c != 0 {
			return c
		}
		if c := cmp.Compare(y.st.Last, x.st.Last); c != 0 {
			return c
		}
		return cmp.Compare(x.i, y.i)
	})
	out := found[:0]
	for i, f := range found {
		if i == 0 || f.num != found[i-1].num {
			out = append(out, f)
		}
	}
	return out, nil
}

// next returns the facts of the next persons (at most visitsPerCall, in
// ascending number, one fact each), none at the end: each person's latest
// stay, the carrier's before their presence among equals.
func (v *visits) next(ctx context.Context) ([]status.NewFact, error) {
	for v.walk || len(v.carrier) > 0 || len(v.present) > 0 {
		out, err := v.slice(ctx)
		if err != nil || len(out) > 0 {
			return out, err
		}
		// None of these persons stayed long enough: go on to the next.
	}
	return nil, nil
}

// slice is the facts of the persons of the next call.
func (v *visits) slice(ctx context.Context) ([]status.NewFact, error) {
	var carrier []numStay
	var present []int64
	persons := 0
	if v.walk {
		// The next visitsPerCall persons by number, their phones matched to
		// the stays, and those present among them. Once every person is
		// walked, the rest of those present (registered since) follow as
		// without the walk.
		last := v.walkFrom - 1
		n, err := v.phones(ctx, v.walkFrom, visitsPerCall, func(num int64, hash []byte) error {
			last = num
			if hash == nil {
				return nil
			}
			if st, ok := v.stays.stayOf(hash); ok {
				carrier = append(carrier, numStay{num: num, st: st})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		v.walkFrom = last + 1
		if n < visitsPerCall {
			v.walk = false
		}
		pi, _ := slices.BinarySearch(v.present, last+1)
		present, v.present = v.present[:pi], v.present[pi:]
		persons = len(carrier) + len(present)
	} else {
		// The lowest visitsPerCall numbers of both lists.
		ci, pi := 0, 0
		for persons < visitsPerCall && (ci < len(v.carrier) || pi < len(v.present)) {
			var n int64
			switch {
			case pi >= len(v.present) || ci < len(v.carrier) && v.carrier[ci].num <= v.present[pi]:
				n = v.carrier[ci].num
			default:
				n = v.present[pi]
			}
			for ci < len(v.carrier) && v.carrier[ci].num == n {
				ci++
			}
			for pi < len(v.present) && v.present[pi] == n {
				pi++
			}
			persons++
		}
		carrier, present = v.carrier[:ci], v.present[:pi]
		v.carrier, v.present = v.carrier[ci:], v.present[pi:]
	}
	best := make([]numStay, 0, persons)
	j := 0
	// Candidates in the order the carrier's come first.
	take := func(ns numStay) {
		for j < len(carrier) && carrier[j].num < ns.num {
			best = append(best, carrier[j])
			j++
		}
		if j < len(carrier) && carrier[j].num == ns.num {
			best = append(best, carrier[j])
			j++
		}
		if k := len(best) - 1; k >= 0 && best[k].num == ns.num {
			if ns.st.Last > best[k].st.Last {
				best[k] = ns
			}
			return
		}
		best = append(best, ns)
	}
	minStay := v.s.cfg.MinStay.Milliseconds()
	err := v.s.d.Presence.StopsOfMany(ctx, present, v.from, v.to, func(num int64, stops []checkin.Stop) error {
		stays, err := v.s.stopsToStays(ctx, stops)
		if err != nil {
			return err
		}
		for _, st := range stays {
			if st.City == v.a.City && st.Last-st.First > minStay {
				take(numStay{num: num, st: st})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	best = append(best, carrier[j:]...)
	out := make([]status.NewFact, 0, len(best))
	for _, b := range best {
		out = append(out, v.s.visitFact(b.num, v.a, b.st, v.key))
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
		if a == nil || r.last-r.first <= minStay || r.last < from {
			continue
		}
		for _, num := range nums[string(r.hash)] {
			facts = append(facts, s.visitFact(num, a, Stay{City: r.city, First: r.first, Last: r.last},
				"risk_area:"+a.ID+":"+strconv.FormatInt(r.first, 10)))
		}
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
