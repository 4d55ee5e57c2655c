package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/venue"
)

// A synthetic city for tracing at scale: venues of different kinds, sizes
// and opening hours; people with daily routines (a commute, a workplace,
// lunch, shopping near home, markets and malls at weekends). About two
// check-ins per person per day, as in a city where every shop has a code.

type venueKind struct {
	kind        string
	share       float64 // of all venues
	open, close int     // opening hours
}

var cityKinds = []venueKind{
	{"restaurant", 0.32, 10, 22}, {"supermarket", 0.06, 8, 22}, {"market", 0.02, 6, 18}, {"mall", 0.005, 10, 22},
	{"office", 0.18, 8, 19}, {"factory", 0.08, 7, 20}, {"school", 0.03, 7, 18}, {"government", 0.02, 8, 18},
	{"hospital", 0.01, 0, 24}, {"pharmacy", 0.05, 8, 21}, {"hotel", 0.02, 0, 24}, {"transport", 0.04, 5, 23},
	{"entertainment", 0.04, 12, 24}, {"other", 0.125, 9, 18},
}

type synthVenue struct {
	place       int64
	kind        string
	open, close int
}

type resident struct {
	num                     int64
	home                    int
	work                    int // venue index, -1 for people without a workplace
	start                   int // minutes after midnight they arrive at work
	station                 int
	lunch                   [2]int
	grocer, market, leisure int
}

type city struct {
	persons []resident
	venues  []synthVenue
	rows    int
	days    int
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
var given = []rune("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕")

// buildCity creates the people and venues through their services and imports
// days of check-ins ending at now, about rows in all.
func buildCity(tb testing.TB, st *stack, rows, days int, seed uint64, now time.Time) *city {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	nPersons := max(rows*100/(days*205), 50) // the routines below make about 2.05 check-ins a day
	nVenues := max(nPersons/30, len(cityKinds))
	streets := region.Default().Children("341881")
	c := &city{days: days}

	// Venues, by region and kind, so people shop near home.
	byKind := map[string][]int{}
	near := make([]map[string][]int, len(streets))
	for i := range near {
		near[i] = map[string][]int{}
	}
	for i := range nVenues {
		k := pickKind(rng, i)
		home := rng.IntN(len(streets))
		v, err := st.venues.Create(ctx, st.admin, venue.Input{Name: fmt.Sprintf("%s%d", k.kind, i), Kind: k.kind, Region: streets[home].Code})
		if err != nil {
			tb.Fatal(err)
		}
		place, err := st.checkins.PlaceOf(ctx, checkin.PlaceVenue, v.ID)
		if err != nil {
			tb.Fatal(err)
		}
		c.venues = append(c.venues, synthVenue{place: place, kind: k.kind, open: k.open, close: k.close})
		byKind[k.kind] = append(byKind[k.kind], i)
		near[home][k.kind] = append(near[home][k.kind], i)
	}
	pick := func(home int, kind string) int {
		if l := near[home][kind]; len(l) > 0 && rng.IntN(4) > 0 {
			return l[rng.IntN(len(l))]
		}
		l := byKind[kind]
		return l[rng.IntN(len(l))]
	}
	// Workplaces differ in size: log-normal, most a few dozen people, the
	// largest factories and offices a few hundred.
	var workplaces []int
	var cumulative []float64
	total := 0.0
	for _, k := range []string{"office", "factory", "school", "government", "hospital"} {
		for _, v := range byKind[k] {
			total += min(math.Exp(rng.NormFloat64()), 20)
			workplaces = append(workplaces, v)
			cumulative = append(cumulative, total)
		}
	}
	workplace := func() int {
		i, _ := slices.BinarySearch(cumulative, rng.Float64()*total)
		return workplaces[min(i, len(workplaces)-1)]
	}

	// People.
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range nPersons {
		first17 := "341881" + birth.AddDate(0, 0, i/900).Format("20060102") + fmt.Sprintf("%03d", i%900+1)
		check, err := idnum.ResidentCheckChar(first17)
		if err != nil {
			tb.Fatal(err)
		}
		home := rng.IntN(len(streets))
		name := string([]rune{surnames[rng.IntN(len(surnames))], given[rng.IntN(len(given))], given[rng.IntN(len(given))]})
		p, err := st.persons.Create(ctx, st.admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(check),
			Region: streets[home].Code})
		if err != nil {
			tb.Fatal(err)
		}
		r := resident{num: p.Num, home: home, work: -1, station: -1}
		if rng.Float64() < 0.7 {
			r.work = workplace()
			r.start = 7*60 + 30 + rng.IntN(90)
			if rng.Float64() < 0.43 { // three in ten people commute by bus or rail
				r.station = pick(home, "transport")
			}
		}
		r.lunch = [2]int{pick(home, "restaurant"), pick(home, "restaurant")}
		r.grocer, r.market = pick(home, "supermarket"), pick(home, "market")
		r.leisure = pick(home, []string{"mall", "entertainment", "restaurant"}[rng.IntN(3)])
		c.persons = append(c.persons, r)
	}

	// Days of routines.
	loc := time.FixedZone("CST", 8*3600)
	first := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -days+1)
	if err := st.checkins.EnsureDays(ctx, first, now); err != nil {
		tb.Fatal(err)
	}
	var day []checkin.ImportRow
	err := st.checkins.BulkImport(ctx, func(add func([]checkin.ImportRow) error) error {
		for d := range days {
			midnight := first.AddDate(0, 0, d)
			weekend := midnight.Weekday() == time.Saturday || midnight.Weekday() == time.Sunday
			day = day[:0]
			visit := func(r *resident, v, minute int) {
				sv := c.venues[v]
				if minute < sv.open*60 {
					minute = sv.open*60 + rng.IntN(30)
				}
				if minute >= sv.close*60 || minute >= 24*60 {
					return
				}
				at := midnight.Add(time.Duration(minute)*time.Minute + time.Duration(rng.IntN(60000))*time.Millisecond)
				if at.After(now) {
					return
				}
				day = append(day, checkin.ImportRow{Place: sv.place, At: at.UnixMilli(), Person: r.num})
			}
			for i := range c.persons {
				r := &c.persons[i]
				if !weekend && r.work >= 0 {
					if r.station >= 0 {
						visit(r, r.station, r.start-25+rng.IntN(10))
					}
					visit(r, r.work, r.start+rng.IntN(10))
					if rng.Float64() < 0.4 {
						visit(r, r.lunch[rng.IntN(2)], 12*60+rng.IntN(50))
					}
					if r.station >= 0 {
						visit(r, r.station, 17*60+30+rng.IntN(60))
					}
					if rng.Float64() < 0.3 {
						visit(r, r.grocer, 18*60+rng.IntN(120))
					}
					if rng.Float64() < 0.15 {
						visit(r, r.lunch[rng.IntN(2)], 18*60+30+rng.IntN(90))
					}
					continue
				}
				if rng.Float64() < 0.45 {
					visit(r, r.market, 6*60+30+rng.IntN(180))
				}
				if rng.Float64() < 0.35 {
					visit(r, r.grocer, 9*60+rng.IntN(600))
				}
				if rng.Float64() < 0.35 {
					visit(r, r.lunch[rng.IntN(2)], 11*60+30+rng.IntN(90))
				}
				if rng.Float64() < 0.3 {
					visit(r, r.leisure, 14*60+rng.IntN(360))
				}
				if rng.Float64() < 0.03 {
					visit(r, pick(r.home, "pharmacy"), 9*60+rng.IntN(600))
				}
				if rng.Float64() < 0.01 {
					visit(r, pick(r.home, "hospital"), 8*60+rng.IntN(480))
				}
			}
			if err := add(day); err != nil {
				return err
			}
			c.rows += len(day)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func pickKind(rng *rand.Rand, i int) venueKind {
	if i < len(cityKinds) { // every kind at least once
		return cityKinds[i]
	}
	u := rng.Float64()
	for _, k := range cityKinds {
		if u < k.share {
			return k
		}
		u -= k.share
	}
	return cityKinds[len(cityKinds)-1]
}

// cases picks n people at random (the same ones for the same seed).
func (c *city) cases(st *stack, n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 7))
	perm := rng.Perm(len(c.persons))
	out := make([]string, 0, n)
	for _, i := range perm[:min(n, len(perm))] {
		out = append(out, st.persons.Handles().ID(c.persons[i].num))
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestSyntheticCity builds a small city and traces it: companions are found
// at the places the cases went, the run is idempotent, and everyone found
// really was at one of those places within the window.
func TestSyntheticCity(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		st := newStack(t, d)
		now := time.Now()
		c := buildCity(t, st, 12000, 10, 1, now)
		if c.rows < 9000 || c.rows > 18000 {
			t.Fatalf("the city has %d check-ins, want about 12,000", c.rows)
		}
		tr := st.tracer(t, Config{})
		cases := c.cases(st, 5, 1)
		run, err := tr.Submit(context.Background(), st.admin, Request{PersonIDs: cases})
		if err != nil {
			t.Fatal(err)
		}
		if ran, err := tr.RunNext(context.Background()); !ran || err != nil {
			t.Fatalf("run: %v %v", ran, err)
		}
		got, err := tr.Get(context.Background(), st.admin, run.ID, 0, MaxReportPage)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusDone || got.Companions == 0 || got.Facts != got.Companions || int(got.Companions) != len(got.Report) && len(got.Report) != MaxReportPage {
			t.Fatalf("run over the city: %+v", got)
		}
		caseSet := map[string]bool{}
		for _, id := range cases {
			caseSet[id] = true
		}
		for _, row := range got.Report {
			gap := row.PersonAt.Sub(row.CaseAt)
			if caseSet[row.Person.ID] || row.Case == nil || !caseSet[row.Case.ID] || gap > DefaultWindow || gap < -DefaultWindow ||
				row.OverlapMinutes != int64((DefaultWindow-max(gap, -gap))/time.Minute) {
				t.Fatalf("report row: %+v", row)
			}
		}
		t.Logf("%d check-ins, %d people, %d venues: %d companions of %d cases", c.rows, len(c.persons), len(c.venues), got.Companions, len(cases))

		again, err := tr.Submit(context.Background(), st.admin, Request{PersonIDs: cases})
		if err != nil {
			t.Fatal(err)
		}
		tr.RunNext(context.Background())
		if again, _ = tr.Get(context.Background(), st.admin, again.ID, 0, 0); again.Companions != got.Companions || again.Facts != 0 || again.Tasks != 0 {
			t.Fatalf("re-run: %+v", again)
		}
	})
}

// BenchmarkTracing measures one tracing run of many cases over a synthetic
// city on each engine (the target in docs/PERFORMANCE.md, on the embedded
// engine: 1,000 cases against 50M check-ins in under 30 s; /sqlite or
// /postgres runs one). HEALTHCODE_TRACING_ROWS sets the check-ins
// (default 200,000, so it stays quick); HEALTHCODE_TRACING_CASES the cases
// (default 1,000 scaled to the rows, i.e. the same share of the population
// as 1,000 in a city with 50M check-ins; at least 10). Only the run is
// timed: submitting, walking, the report, the tasks and the facts (handed
// to a status engine stand-in that validates them). Use -benchtime=1x.
func BenchmarkTracing(b *testing.B) {
	rows := envInt("HEALTHCODE_TRACING_ROWS", 200000)
	cases := envInt("HEALTHCODE_TRACING_CASES", max(10, int(int64(1000)*int64(rows)/50_000_000)))
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) { benchTracing(b, dbtest.New(b, e), rows, cases) })
	}
}

func benchTracing(b *testing.B, d *db.DB, rows, cases int) {
	st := newStack(b, d)
	start := time.Now()
	c := buildCity(b, st, rows, 28, 1, start)
	if d.Engine() == db.Postgres {
		// As autovacuum would after the load.
		if _, err := d.ExecContext(context.Background(), `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: generated %d check-ins, %d people, %d venues in %v (%s/%s, %d CPUs)", d.Engine(), c.rows, len(c.persons), len(c.venues),
		time.Since(start).Round(time.Second), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	tr := st.tracer(b, Config{Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	ids := c.cases(st, cases, 2)
	ctx := context.Background()
	var companions int64
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		cpu0 := cpuTime()
		run, err := tr.Submit(ctx, st.admin, Request{PersonIDs: ids})
		if err != nil {
			b.Fatal(err)
		}
		if ran, err := tr.RunNext(ctx); !ran || err != nil {
			b.Fatalf("run: %v %v", ran, err)
		}
		b.StopTimer()
		cpu += cpuTime() - cpu0
		got, err := tr.Get(ctx, st.admin, run.ID, 0, 0)
		if err != nil || got.Status != StatusDone {
			b.Fatalf("run %+v: %v", got, err)
		}
		companions = got.Companions
		// Every iteration opens the same tasks afresh.
		if _, err := d.ExecContext(ctx, `DELETE FROM followup_tasks`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	perRun := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(c.rows), "checkins")
	b.ReportMetric(float64(len(ids)), "cases")
	b.ReportMetric(float64(companions), "companions")
	b.ReportMetric(perRun.Seconds(), "s/run")
	b.ReportMetric(float64(perRun.Milliseconds())/float64(len(ids)), "ms/case")
	// The machine is shared: CPU time is what the run itself cost.
	b.ReportMetric((cpu / time.Duration(b.N)).Seconds(), "cpu-s/run")
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
