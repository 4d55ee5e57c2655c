package trip

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/riskarea"
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
