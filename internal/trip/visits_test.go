package trip

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/status"
)

// stopsOf is a Presence that knows persons' stops and nothing else.
type stopsOf struct {
	Presence
	stops map[int64][]checkin.Stop
	calls int
}

func (p *stopsOf) StopsOfMany(_ context.Context, persons []int64, _, _ int64, fn func(int64, []checkin.Stop) error) error {
	p.calls++
	for _, n := range persons {
		if st := p.stops[n]; len(st) > 0 {
			if err := fn(n, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestVisitsSliceAsOne: the facts handed out a slice of persons at a time
// are those of every person at once: each person's latest stay of more
// than MinStay in the city, the carrier's before the presence among equal
// ends, in ascending number, no person in two slices.
func TestVisitsSliceAsOne(t *testing.T) {
	const city, elsewhere, place, away = "3418", "3401", 7, 8
	hour := time.Hour.Milliseconds()
	pres := &stopsOf{stops: map[int64][]checkin.Stop{}}
	s := New(Deps{Presence: pres}, Config{})
	s.placeCity.Store(int64(place), city)
	s.placeCity.Store(int64(away), elsewhere)
	a := &riskarea.Area{ID: "a1", Region: "341802", City: city, Level: "high"}
	v := &visits{s: s, a: a, key: "risk_area:a1", from: 0, to: 1000 * hour}
	var all []numStay // every candidate, the carrier's first
	n := int64(0)
	for i := range 3*visitsPerCall + 17 {
		n += int64(1 + i%3)
		base := int64(i%50) * hour
		switch i % 6 {
		case 0: // the carrier's alone
			st := numStay{num: n, st: Stay{City: city, First: base, Last: base + 6*hour}}
			v.carrier = append(v.carrier, st)
			all = append(all, st)
		case 1: // present alone, two stays: the later counts
			pres.stops[n] = []checkin.Stop{{Place: place, At: base}, {Place: place, At: base + 5*hour},
				{Place: away, At: base + 6*hour}, {Place: place, At: base + 7*hour}, {Place: place, At: base + 12*hour}}
			v.present = append(v.present, n)
			all = append(all, numStay{num: n, st: Stay{City: city, First: base, Last: base + 5*hour}},
				numStay{num: n, st: Stay{City: city, First: base + 7*hour, Last: base + 12*hour}})
		case 2: // both, ending together: the carrier's
			st := numStay{num: n, st: Stay{City: city, First: base, Last: base + 6*hour}}
			v.carrier = append(v.carrier, st)
			pres.stops[n] = []checkin.Stop{{Place: place, At: base + hour}, {Place: place, At: base + 6*hour}}
			v.present = append(v.present, n)
			all = append(all, st, numStay{num: n, st: Stay{City: city, First: base + hour, Last: base + 6*hour}})
		case 3: // both, the presence later
			st := numStay{num: n, st: Stay{City: city, First: base, Last: base + 6*hour}}
			v.carrier = append(v.carrier, st)
			pres.stops[n] = []checkin.Stop{{Place: place, At: base + 2*hour}, {Place: place, At: base + 9*hour}}
			v.present = append(v.present, n)
			all = append(all, st, numStay{num: n, st: Stay{City: city, First: base + 2*hour, Last: base + 9*hour}})
		case 4: // present, but too short a stay: nothing
			pres.stops[n] = []checkin.Stop{{Place: place, At: base}, {Place: place, At: base + hour}}
			v.present = append(v.present, n)
		case 5: // present elsewhere only: nothing
			pres.stops[n] = []checkin.Stop{{Place: away, At: base}, {Place: away, At: base + 9*hour}}
			v.present = append(v.present, n)
		}
	}
	// What publishing found before it handed facts out in slices: every
	// candidate, sorted stably by person and latest end, the first of each.
	slices.SortStableFunc(all, func(x, y numStay) int {
		if c := cmp.Compare(x.num, y.num); c != 0 {
			return c
		}
		return cmp.Compare(y.st.Last, x.st.Last)
	})
	var want []numStay
	for i, f := range all {
		if i == 0 || f.num != all[i-1].num {
			want = append(want, f)
		}
	}
	ctx := context.Background()
	var got []numStay
	calls := 0
	for {
		facts, err := v.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(facts) == 0 {
			break
		}
		calls++
		if len(facts) > visitsPerCall {
			t.Fatalf("a slice of %d persons, at most %d", len(facts), visitsPerCall)
		}
		for _, f := range facts {
			if len(got) > 0 && f.Person <= got[len(got)-1].num {
				t.Fatalf("person %d after %d", f.Person, got[len(got)-1].num)
			}
			if f.Key != "risk_area:a1" || f.Fact.Source != "risk_area:a1" {
				t.Fatalf("fact of %d keyed %q from %q", f.Person, f.Key, f.Fact.Source)
			}
			got = append(got, numStay{num: f.Person, st: Stay{City: city, First: f.Fact.At.UnixMilli(), Last: f.Fact.Until.UnixMilli()}})
		}
	}
	if calls < 3 {
		t.Fatalf("%d slices, want several", calls)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d facts in slices, %d at once; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

func firstDiff(a, b []numStay) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestVisitsWalkAsLookup: matching the carrier's stays by walking every
// person in number order gives the facts that looking each phone up gives,
// every person of a phone shared by a family among them, with the persons
// present at the city's places (also those numbered after the last person
// walked) merged alike.
func TestVisitsWalkAsLookup(t *testing.T) {
	const city, place = "3418", 7
	hour := time.Hour.Milliseconds()
	ctx := context.Background()
	pres := &stopsOf{stops: map[int64][]checkin.Stop{}}
	s := New(Deps{Presence: pres}, Config{})
	s.placeCity.Store(int64(place), city)
	a := &riskarea.Area{ID: "a1", Region: "341802", City: city, Level: "high"}

	type registered struct {
		num  int64
		hash []byte
	}
	var persons []registered // ascending number, with gaps
	byPhone := map[string][]int64{}
	var latest []phoneStay
	var present []int64
	n := int64(10)
	for i := range 3*visitsPerCall + 31 {
		n += int64(1 + i%4)
		// Every seventh phone is shared by the next two persons as well.
		ph := []byte(fmt.Sprintf("phone-%06d", i-i%7/5*(i%7-4)))
		if i%11 == 3 {
			ph = nil // a dependent without a phone
		}
		persons = append(persons, registered{num: n, hash: ph})
		if ph != nil {
			byPhone[string(ph)] = append(byPhone[string(ph)], n)
		}
		if ph != nil && i%5 != 4 && (len(latest) == 0 || string(latest[len(latest)-1].hash) != string(ph)) {
			base := int64(i%40) * hour
			latest = append(latest, phoneStay{hash: ph, st: Stay{City: city, First: base, Last: base + 6*hour}})
		}
		if i%3 == 0 {
			base := int64(i%30) * hour
			pres.stops[n] = []checkin.Stop{{Place: place, At: base + 2*hour}, {Place: place, At: base + 3*hour + int64(i%9)*hour}}
			present = append(present, n)
		}
	}
	// Present, registered after the walk began.
	for range 5 {
		n += 3
		pres.stops[n] = []checkin.Stop{{Place: place, At: 0}, {Place: place, At: 8 * hour}}
		present = append(present, n)
	}
	slices.SortFunc(latest, comparePhoneStays)
	for i := range latest {
		latest[i].i = i
	}

	collect := func(v *visits) []status.NewFact {
		t.Helper()
		var all []status.NewFact
		for {
			facts, err := v.next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(facts) == 0 {
				return all
			}
			if len(facts) > visitsPerCall {
				t.Fatalf("a slice of %d persons, at most %d", len(facts), visitsPerCall)
			}
			all = append(all, facts...)
		}
	}
	newVisits := func() *visits {
		return &visits{s: s, a: a, key: "risk_area:a1", from: 0, to: 1000 * hour, present: slices.Clone(present)}
	}

	looked := newVisits()
	var err error
	looked.carrier, err = lookupPhones(ctx, latest, func(_ context.Context, hashes [][]byte) (map[string][]int64, error) {
		out := map[string][]int64{}
		for _, h := range hashes {
			if nums := byPhone[string(h)]; len(nums) > 0 {
				out[string(h)] = nums
			}
		}
		return out, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := collect(looked)

	walked := newVisits()
	walked.stays, walked.walk = newPhoneIndex(latest), true
	walked.phones = func(_ context.Context, from int64, limit int, fn func(int64, []byte) error) (int, error) {
		k, _ := slices.BinarySearchFunc(persons, from, func(r registered, n int64) int { return cmp.Compare(r.num, n) })
		given := 0
		for ; k < len(persons) && given < limit; k++ {
			if err := fn(persons[k].num, persons[k].hash); err != nil {
				return given, err
			}
			given++
		}
		return given, nil
	}
	got := collect(walked)

	shared := 0
	for _, nums := range byPhone {
		if len(nums) > 1 {
			shared += len(nums)
		}
	}
	if len(want) < 2*visitsPerCall || shared == 0 {
		t.Fatalf("%d facts, %d persons sharing a phone: the test sets up too few", len(want), shared)
	}
	if len(got) != len(want) {
		t.Fatalf("the walk gave %d facts, the lookup %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Person != want[i].Person || !got[i].Fact.At.Equal(want[i].Fact.At) || !got[i].Fact.Until.Equal(want[i].Fact.Until) {
			t.Fatalf("fact %d: the walk gave person %d %v-%v, the lookup person %d %v-%v", i, got[i].Person, got[i].Fact.At,
				got[i].Fact.Until, want[i].Person, want[i].Fact.At, want[i].Fact.Until)
		}
	}
	// Every person of a phone with a stay got a fact.
	facts := map[int64]bool{}
	for _, f := range got {
		facts[f.Person] = true
	}
	for _, ps := range latest {
		for _, num := range byPhone[string(ps.hash)] {
			if !facts[num] {
				t.Fatalf("person %d of a phone with a stay got no fact", num)
			}
		}
	}
	if !facts[n] {
		t.Fatalf("person %d, present after the last walked, got no fact", n)
	}
}

// TestPhoneIndexFindsEveryPhone: the index by leading bits finds each
// phone's stay and no other, for blind indexes as they are (random) and
// for phones that share their first bytes, at every size of table.
func TestPhoneIndexFindsEveryPhone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 3, 17, 1000, 20000} {
		var latest []phoneStay
		for i := range n {
			h := make([]byte, 32)
			for k := range h {
				h[k] = byte(rng.Uint32())
			}
			if i%5 == 1 {
				copy(h, latest[i-1].hash[:8+i%9]) // the same first bytes as another
			}
			latest = append(latest, phoneStay{hash: h, st: Stay{First: int64(i)}})
		}
		slices.SortFunc(latest, comparePhoneStays)
		latest = slices.CompactFunc(latest, func(x, y phoneStay) bool { return bytes.Equal(x.hash, y.hash) })
		x := newPhoneIndex(latest)
		for _, ps := range latest {
			if st, ok := x.stayOf(ps.hash); !ok || st != ps.st {
				t.Fatalf("n=%d: phone %x: %v %v, want %v", n, ps.hash, st, ok, ps.st)
			}
			miss := slices.Clone(ps.hash)
			miss[31]++
			if _, found := slices.BinarySearchFunc(latest, miss, func(p phoneStay, h []byte) int { return bytes.Compare(p.hash, h) }); !found {
				if st, ok := x.stayOf(miss); ok {
					t.Fatalf("n=%d: phone %x without a stay found %v", n, miss, st)
				}
			}
		}
		if _, ok := x.stayOf([]byte{0xff, 0xff}); ok && n > 0 && !bytes.Equal(latest[len(latest)-1].hash, []byte{0xff, 0xff}) {
			t.Fatalf("n=%d: a short phone found", n)
		}
	}
}

// TestStaysInCityReadTheIndexAlone: publishing reads a city's stays, a
// million at a city's size, before anything is stored; they come from the
// city's index alone, not a row visit each.
func TestStaysInCityReadTheIndexAlone(t *testing.T) {
	d := dbtest.New(t, db.SQLite)
	hour := time.Hour.Milliseconds()
	plan := dbtest.Plan(t, d, staysInCity, "3418", 0, 500*hour, 1000*hour, 4*hour)
	if !strings.Contains(plan, "COVERING INDEX trip_stays_city") {
		t.Fatalf("the city's stays are not read from its index alone:\n%s", plan)
	}
}

// TestCityStaysAsOneRead: the city's stays read in two halves of the
// window are those one read gives: every stay that ended at the window's
// start or later (also after its end) and began by its end, lasted more
// than MinStay and lies in the city, a phone's latest, at either side of
// the halves' boundary.
func TestCityStaysAsOneRead(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(Deps{DB: d}, Config{})
		hour := time.Hour.Milliseconds()
		from, to := 100*hour, 400*hour
		mid := from + (to-from)/2
		type stay struct {
			phone, city string
			first, last int64
		}
		stays := []stay{
			{"a", "3418", mid - 1 - 6*hour, mid - 1}, // the first half's last end
			{"a", "3418", mid - 6*hour, mid},         // the second half's first: a's latest
			{"b", "3418", from - 6*hour, from},       // ended at the start
			{"c", "3418", from - 7*hour, from - 1},   // ended before it
			{"d", "3418", to - hour, to + 5*hour},    // began before the end, ended after
			{"e", "3418", to + 1, to + 6*hour},       // began after the end
			{"f", "3418", mid, mid + 4*hour},         // not long enough
			{"g", "3401", mid, mid + 6*hour},         // another city
			{"h", "3418", to - 6*hour, to},           // ended at the end
			{"h", "3418", from, from + 6*hour},       // h's earlier
		}
		for _, st := range stays {
			if _, err := d.ExecContext(ctx, `INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at)
				VALUES ($1, $2, $3, $4, 'carrier', 0)`, []byte(st.phone), st.city, st.first, st.last); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.cityStays(ctx, "3418", from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := []stay{{"a", "3418", mid - 6*hour, mid}, {"b", "3418", from - 6*hour, from}, {"d", "3418", to - hour, to + 5*hour},
			{"h", "3418", to - 6*hour, to}}
		if len(got) != len(want) {
			t.Fatalf("%d phones' stays, want %d: %+v", len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if string(g.hash) != w.phone || g.st != (Stay{City: w.city, First: w.first, Last: w.last}) {
				t.Fatalf("stay %d: %s %+v, want %+v", i, g.hash, g.st, w)
			}
		}
	})
}
