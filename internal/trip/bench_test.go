package trip_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/venue"
)

// venues answers venue "v<n>" in benchCities[n%len] (the card benchmark)
// and "c<n>" in the published city (the publish benchmark).
type venues struct{ inCity []string }

func (venues) Get(_ context.Context, _ *auth.Principal, id string) (*venue.Venue, error) {
	var n int
	if _, err := fmt.Sscanf(id[1:], "%d", &n); err != nil {
		return nil, err
	}
	if id[0] == 'c' {
		return &venue.Venue{ID: id, Region: publishStreet}, nil
	}
	return &venue.Venue{ID: id, Region: benchCities[n%len(benchCities)]}, nil
}

func (v venues) IDsInRegion(_ context.Context, code string) ([]string, error) {
	if len(code) <= len(publishStreet) && publishStreet[:len(code)] == code {
		return v.inCity, nil
	}
	return nil, nil
}

type checkpoints struct{}

func (checkpoints) ByID(context.Context, string) (*checkpoint.Checkpoint, error) {
	return &checkpoint.Checkpoint{}, nil
}
func (checkpoints) IDsInRegion(context.Context, string) ([]string, error) { return nil, nil }

// benchEngines are the sub-benchmarks: each builds its own data.
var benchEngines = []db.Engine{db.SQLite, db.Postgres}

// BenchmarkTripCard is one resident's 14-day card (the carrier's stays of
// the phone and the person's own check-ins) among everyone else's, for
// residents picked at random, on each engine. It reports the median and
// the 99th percentile of the cards' latencies (the target: p99 < 10 ms at
// 50M check-ins and 10M carrier stays). HEALTHCODE_BENCH_TRIP_CHECKINS and
// HEALTHCODE_BENCH_TRIP_STAYS set the sizes (default 400,000 and 80,000,
// so it stays quick); residents are one per 60 check-ins (two a day over
// 30 days), places one per 2,500 (docs/PERFORMANCE.md "Trip card").
func BenchmarkTripCard(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(string(e), func(b *testing.B) { benchTripCard(b, e) })
	}
}

func benchTripCard(b *testing.B, e db.Engine) {
	ctx := context.Background()
	d := dbtest.New(b, e)
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	c := newTripCity(envInt("HEALTHCODE_BENCH_TRIP_CHECKINS", 400_000), envInt("HEALTHCODE_BENCH_TRIP_STAYS", 80_000), now, keys)
	ci := checkin.New(d, nil, nil, nil, checkin.Config{})
	defer ci.Close()
	c.load(ctx, b, d, ci)
	areas := riskarea.New(d, region.Default())
	svc := trip.New(trip.Deps{DB: d, Keys: keys, Regions: region.Default(), Areas: areas, Presence: ci, Venues: venues{}, Checkpoints: checkpoints{}}, trip.Config{})
	svc.SetClock(func() time.Time { return now })
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	empty := 0
	for b.Loop() {
		r := rng.IntN(c.residents)
		h := c.phone(r)
		t0 := time.Now()
		card, err := svc.CardOf(ctx, h, int64(r+1))
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatalf("card of %d: %v", r+1, err)
		}
		if len(card.Cities) == 0 {
			empty++
		}
	}
	b.StopTimer()
	if empty > len(lat)/10 {
		b.Fatalf("%d of %d cards list no city", empty, len(lat))
	}
	slices.Sort(lat)
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(c.checkins), "checkins")
	b.ReportMetric(float64(c.stays), "stays")
	b.Logf("%d cards (%d empty): p50 %.2f ms, p99 %.2f ms, max %.2f ms; %s/%s, %d CPUs", len(lat), empty, ms(0.50), ms(0.99),
		float64(lat[len(lat)-1].Microseconds())/1000, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
}

// publishStreet is where the published area lies (a street of Ningguo, so
// the city is 3418).
const publishStreet = "341881001"

// BenchmarkPublishRiskArea publishes a high-risk area over a city whose
// residents all stayed there in the window: each has a carrier stay of six
// hours there; half of them also checked in at two of its venues five
// hours apart (the card's own presence). Timed: trip.Service.Publish, from
// the operator's request until every affected person's visit.risk_area
// fact is stored and their colour recomputed (Record does both before it
// returns). HEALTHCODE_BENCH_TRIP_PUBLISH_PERSONS sets the city (default
// 20,000; the target is 1,000,000 in under 20 s). Use -benchtime=1x: a
// second publish of the same city would find the same people.
func BenchmarkPublishRiskArea(b *testing.B) {
	for _, e := range benchEngines {
		b.Run(string(e), func(b *testing.B) { benchPublish(b, e) })
	}
}

func benchPublish(b *testing.B, e db.Engine) {
	ctx := context.Background()
	n := envInt("HEALTHCODE_BENCH_TRIP_PUBLISH_PERSONS", 20_000)
	d := dbtest.New(b, e)
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := status.New(ctx, status.Deps{DB: d, People: persons, IDs: persons.Handles(), SMS: sms.NewOutbox(d, keys), Hasher: keys, Log: quiet}, status.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ci := checkin.New(d, nil, nil, nil, checkin.Config{})
	defer ci.Close()
	start := time.Now()
	vs := venues{}
	var places []int64
	for i := range max(n/500, 10) {
		id := fmt.Sprintf("c%d", i)
		p, err := ci.PlaceOf(ctx, checkin.PlaceVenue, id)
		if err != nil {
			b.Fatal(err)
		}
		vs.inCity, places = append(vs.inCity, id), append(places, p)
	}
	phone := func(i int) string { return fmt.Sprintf("138%08d", i) }
	// Persons and their stays, straight into the tables.
	var first int64
	err = d.InTx(ctx, func(tx db.Tx) error {
		last, err := db.NextVal(ctx, tx, "persons", int64(n))
		if err != nil {
			return err
		}
		first = last - int64(n) + 1
		h := persons.Handles()
		const per = 1000
		var pargs, sargs []any
		flush := func() error {
			if len(pargs) > 0 {
				if _, err := tx.ExecContext(ctx, d.Engine().Positional(`INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc,
					phone_hash, phone_enc, region_code, birth_year, created_at, created_by) VALUES `+db.Rows(0, len(pargs)/13, 13)), pargs...); err != nil {
					return err
				}
			}
			if len(sargs) > 0 {
				if _, err := tx.ExecContext(ctx, d.Engine().Positional(`INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source,
					recorded_at) VALUES `+db.Rows(0, len(sargs)/6, 6)), sargs...); err != nil {
					return err
				}
			}
			pargs, sargs = pargs[:0], sargs[:0]
			return nil
		}
		for i := range n {
			num := first + int64(i)
			id, number, name := h.ID(num), fmt.Sprintf("B%017d", num), fmt.Sprintf("批量%d", num)
			ph := keys.BlindIndex("phone", phone(i))
			pargs = append(pargs, num, id, "passport", keys.BlindIndex("id", "passport:"+number), keys.SealString(number, "persons.id_number:"+id),
				keys.BlindIndex("name", name), keys.SealString(name, "persons.name:"+id), ph, keys.SealString(phone(i), "persons.phone:"+id),
				publishStreet, 1980, 0, "bench")
			// A stay of six hours that ended one to ten days ago.
			end := now.Add(-time.Duration(24+i%(9*24)) * time.Hour).UnixMilli()
			sargs = append(sargs, ph, "3418", end-6*3600_000, end, "carrier", end)
			if len(pargs) >= 13*per {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := ci.EnsureDays(ctx, now.Add(-15*24*time.Hour), now); err != nil {
		b.Fatal(err)
	}
	var rows []checkin.ImportRow
	for i := 0; i < n; i += 2 {
		at := now.Add(-time.Duration(30+i%(10*24)) * time.Hour).UnixMilli()
		p := places[i%len(places)]
		rows = append(rows, checkin.ImportRow{Place: p, At: at, Person: first + int64(i)}, checkin.ImportRow{Place: p, At: at + 5*3600_000, Person: first + int64(i)})
	}
	if err := ci.BulkImport(ctx, func(add func([]checkin.ImportRow) error) error { return add(rows) }); err != nil {
		b.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d persons, %d stays, %d check-ins at %d venues set up in %v", n, n, len(rows), len(places), time.Since(start).Round(time.Second))

	areas := riskarea.New(d, region.Default())
	svc := trip.New(trip.Deps{DB: d, Keys: keys, Regions: region.Default(), Areas: areas, Persons: persons, Presence: ci, Venues: vs,
		Checkpoints: checkpoints{}, Facts: st}, trip.Config{})
	admin := &auth.Principal{Kind: auth.Operator, ID: "op-admin", Name: "admin", Role: auth.Admin}
	from, until := now.Add(-time.Hour), now.Add(7*24*time.Hour)
	var pub *trip.Published
	stop := profilePublish(b)
	cpu0 := cpuTime()
	for b.Loop() {
		if pub, err = svc.Publish(ctx, admin, riskarea.Input{Region: publishStreet, Level: "high", From: &from, Until: &until}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stop()
	// The machine is shared: CPU time is what publishing itself cost (on
	// PostgreSQL the server's share is not in it).
	cpu := cpuTime() - cpu0
	var yellow int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM status WHERE color = 2`).Scan(&yellow); err != nil {
		b.Fatal(err)
	}
	if pub.Facts != n || yellow != n {
		b.Fatalf("published to %d persons: %d facts, %d yellow", n, pub.Facts, yellow)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/publish")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/publish")
	b.ReportMetric(float64(n), "persons")
}

// profilePublish writes a CPU profile of the publishing alone, without the
// set-up's minutes, to HEALTHCODE_BENCH_TRIP_PUBLISH_PROFILE when it is set,
// and an execution trace to HEALTHCODE_BENCH_TRIP_PUBLISH_TRACE (who waited
// for whom); it returns the function that stops them.
func profilePublish(b *testing.B) func() {
	var stops []func()
	if path := os.Getenv("HEALTHCODE_BENCH_TRIP_PUBLISH_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if path := os.Getenv("HEALTHCODE_BENCH_TRIP_PUBLISH_TRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			b.Fatal(err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
