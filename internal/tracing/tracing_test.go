package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// pair of people who met: a case and a companion, 10 minutes apart at a
// restaurant an hour ago. It returns the case's public id.
func (st *stack) pair(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	v, err := st.venues.Create(ctx, st.admin, venue.Input{Name: "饭店", Kind: "restaurant", Region: "341881001"})
	if err != nil {
		t.Fatal(err)
	}
	place, err := st.checkins.PlaceOf(ctx, checkin.PlaceVenue, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int64
	var caseID string
	for i := range 2 {
		first17 := fmt.Sprintf("34188119800101%03d", 700+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := st.persons.Create(ctx, st.admin, person.Input{Name: "测试人", IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881001"})
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, p.Num)
		if i == 0 {
			caseID = p.ID
		}
	}
	at := time.Now().Add(-time.Hour).UnixMilli()
	if err := st.checkins.EnsureDays(ctx, time.UnixMilli(at), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.checkins.Import(ctx, []checkin.ImportRow{{Place: place, At: at, Person: nums[0]}, {Place: place, At: at + 600000, Person: nums[1]}}); err != nil {
		t.Fatal(err)
	}
	return caseID
}

func runStatus(t *testing.T, d *db.DB, id string) (status, node string) {
	t.Helper()
	var n *string
	if err := d.QueryRowContext(context.Background(), `SELECT status, node FROM tracing_runs WHERE id = $1`, id).Scan(&status, &n); err != nil {
		t.Fatal(err)
	}
	if n != nil {
		node = *n
	}
	return
}

func TestAnotherNodeResumesARunWhoseNodeDied(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		st := newStack(t, d)
		caseID := st.pair(t)
		ctx := context.Background()
		a := st.tracer(t, Config{Node: "a", Lease: time.Minute})
		reg := prometheus.NewRegistry()
		b := st.tracer(t, Config{Node: "b", Lease: time.Minute, Metrics: reg})
		run, err := a.Submit(ctx, st.admin, Request{PersonIDs: []string{caseID}})
		if err != nil {
			t.Fatal(err)
		}
		// Node a claims the run and dies before finishing it.
		if id, err := a.claim(ctx); err != nil || id != run.ID {
			t.Fatalf("claim: %q %v", id, err)
		}
		if ran, err := b.RunNext(ctx); ran || err != nil {
			t.Fatalf("node b took a run under a live lease: %v %v", ran, err)
		}
		b.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
		if ran, err := b.RunNext(ctx); !ran || err != nil {
			t.Fatalf("node b did not resume the run: %v %v", ran, err)
		}
		if s, node := runStatus(t, d, run.ID); s != StatusDone || node != "b" {
			t.Fatalf("after node b: %s on %s", s, node)
		}
		// Node a coming back to life cannot overwrite it.
		if err := a.execute(ctx, run.ID); !errors.Is(err, errLeaseLost) {
			t.Fatalf("the old node went on: %v", err)
		}
		if s, _ := runStatus(t, d, run.ID); s != StatusDone {
			t.Fatalf("status after the old node: %s", s)
		}
		got, err := b.Get(ctx, st.admin, run.ID, 0, 10)
		if err != nil || got.Companions != 1 || got.Facts != 1 || len(got.Report) != 1 {
			t.Fatalf("resumed run: %+v %v", got, err)
		}
		for name, want := range map[string]float64{"healthcode_tracing_runs_total": 1, "healthcode_tracing_run_duration_seconds": 1,
			"healthcode_tracing_companions_total": 1} {
			if got := metricstest.Value(t, reg, name); got != want {
				t.Errorf("node b's %s = %v, want %v", name, got, want)
			}
		}
		if got := metricstest.Value(t, reg, "healthcode_tracing_runs_total", "outcome", "done"); got != 1 {
			t.Errorf("node b finished %v runs, want 1", got)
		}
	})
}

func TestCloseHandsTheRunBack(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		st := newStack(t, d)
		caseID := st.pair(t)
		ctx := context.Background()
		st.facts.block = make(chan struct{})
		st.facts.entered = make(chan struct{}, 1)
		reg := prometheus.NewRegistry()
		a := st.tracer(t, Config{Node: "a", Poll: 10 * time.Millisecond, Metrics: reg})
		a.Start()
		run, err := a.Submit(ctx, st.admin, Request{PersonIDs: []string{caseID}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-st.facts.entered:
		case <-time.After(20 * time.Second):
			t.Fatal("the run never reached the facts")
		}
		a.Close()
		if s, node := runStatus(t, d, run.ID); s != StatusQueued || node != "" {
			t.Fatalf("after Close the run is %s on %q, want queued for anyone", s, node)
		}
		if got := metricstest.Value(t, reg, "healthcode_tracing_runs_total", "outcome", "handed_back"); got != 1 {
			t.Errorf("%v runs handed back, want 1", got)
		}
		st.facts.block = nil
		b := st.tracer(t, Config{Node: "b"})
		if ran, err := b.RunNext(ctx); !ran || err != nil {
			t.Fatalf("node b: %v %v", ran, err)
		}
		if got, _ := b.Get(ctx, st.admin, run.ID, 0, 0); got.Status != StatusDone || got.Facts != 1 {
			t.Fatalf("run after hand-back: %+v", got)
		}
	})
}

func TestRunFailsWithAReason(t *testing.T) {
	d := dbtest.NewSQLite(t)
	st := newStack(t, d)
	caseID := st.pair(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	tr, err := New(d, st.checkins, st.persons, st.venues, st.cps, st.auth, refusingFacts{}, Config{Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	run, err := tr.Submit(ctx, st.admin, Request{PersonIDs: []string{caseID}})
	if err != nil {
		t.Fatal(err)
	}
	if ran, err := tr.RunNext(ctx); !ran || err == nil {
		t.Fatalf("run: %v %v", ran, err)
	}
	got, _ := tr.Get(ctx, st.admin, run.ID, 0, 10)
	if got.Status != StatusFailed || !strings.Contains(got.Error, "refused") || got.FinishedAt == nil || len(got.Report) != 1 {
		t.Fatalf("failed run: %+v", got)
	}
	if got := metricstest.Value(t, reg, "healthcode_tracing_runs_total", "outcome", "failed"); got != 1 {
		t.Errorf("%v runs failed, want 1", got)
	}
}

type refusingFacts struct{}

var errRefused = apierr.Unprocessable("facts_refused", "the status engine refused the facts")

func (refusingFacts) Record(context.Context, ...status.NewFact) (int, error) {
	return 0, errRefused
}

func TestParseWindows(t *testing.T) {
	w, err := ParseWindows(" restaurant=60m, transport=15m,checkpoint=5m ,")
	if err != nil || w["restaurant"] != time.Hour || w["transport"] != 15*time.Minute || w[CheckpointKind] != 5*time.Minute || len(w) != 3 {
		t.Fatalf("%v %v", w, err)
	}
	for _, bad := range []string{"castle=30m", "restaurant", "restaurant=soon", "restaurant=30s", "restaurant=25h"} {
		if _, err := ParseWindows(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if w, err := ParseWindows(""); err != nil || len(w) != 0 {
		t.Fatalf("empty: %v %v", w, err)
	}
}

// A vehicle is traced with its own window: a case boards bus X at 08:10; a
// passenger who boarded X at 08:50 shared the ride (the hour of a vehicle)
// where the same 40 minutes at a restaurant is no contact (the 30 minutes
// of other venues); a passenger of bus Y at 08:15 and one who boarded X 70
// minutes later are not contacts. A configured vehicle window replaces the
// default.
func TestVehiclesAreTracedWithTheirOwnWindow(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		st := newStack(t, d)
		ctx := context.Background()
		place := func(name, kind string) int64 {
			t.Helper()
			v, err := st.venues.Create(ctx, st.admin, venue.Input{Name: name, Kind: kind, Region: "341881001"})
			if err != nil {
				t.Fatal(err)
			}
			pl, err := st.checkins.PlaceOf(ctx, checkin.PlaceVenue, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			return pl
		}
		busX, busY, restaurant := place("1路 皖P·A0001", "vehicle"), place("2路 皖P·A0002", "vehicle"), place("饭店", "restaurant")
		people := map[string]int64{}
		ids := map[int64]string{}
		for i, name := range []string{"case", "rider40", "rider70", "otherBus", "diner40"} {
			first17 := fmt.Sprintf("34188119800101%03d", 800+i)
			c, _ := idnum.ResidentCheckChar(first17)
			p, err := st.persons.Create(ctx, st.admin, person.Input{Name: "测试人", IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881001"})
			if err != nil {
				t.Fatal(err)
			}
			people[name], ids[p.Num] = p.Num, name
		}
		ride := time.Now().Add(-5 * time.Hour).Truncate(time.Minute) // 08:10
		meal := ride.Add(2 * time.Hour)
		if err := st.checkins.EnsureDays(ctx, ride, time.Now()); err != nil {
			t.Fatal(err)
		}
		at := func(t time.Time) int64 { return t.UnixMilli() }
		if err := st.checkins.Import(ctx, []checkin.ImportRow{
			{Place: busX, At: at(ride), Person: people["case"]},
			{Place: busX, At: at(ride.Add(40 * time.Minute)), Person: people["rider40"]},
			{Place: busX, At: at(ride.Add(70 * time.Minute)), Person: people["rider70"]},
			{Place: busY, At: at(ride.Add(5 * time.Minute)), Person: people["otherBus"]},
			{Place: restaurant, At: at(meal), Person: people["case"]},
			{Place: restaurant, At: at(meal.Add(40 * time.Minute)), Person: people["diner40"]},
		}); err != nil {
			t.Fatal(err)
		}
		caseP, err := st.persons.Get(ctx, people["case"])
		if err != nil {
			t.Fatal(err)
		}
		contacts := func(tr *Service) map[string]Contact {
			t.Helper()
			run, err := tr.Submit(ctx, st.admin, Request{PersonIDs: []string{caseP.ID}})
			if err != nil {
				t.Fatal(err)
			}
			if ran, err := tr.RunNext(ctx); !ran || err != nil {
				t.Fatalf("run: %v %v", ran, err)
			}
			got, err := tr.Get(ctx, st.admin, run.ID, 0, 100)
			if err != nil || got.Status != StatusDone {
				t.Fatalf("run: %+v %v", got, err)
			}
			out := map[string]Contact{}
			for _, c := range got.Report {
				p, err := st.persons.GetByID(ctx, c.Person.ID)
				if err != nil {
					t.Fatal(err)
				}
				out[ids[p.Num]] = c
			}
			return out
		}

		// The presence query is as wide as the places a person went to need:
		// an hour around the case, who rode a bus; 30 minutes around the
		// diner, who did not.
		def := st.tracer(t, Config{Node: "default"})
		p := &params{From: at(ride.Add(-time.Hour)), To: at(time.Now()), DefaultWindow: def.cfg.Window.Milliseconds(), Windows: def.windowsMs()}
		for who, want := range map[string]time.Duration{"case": DefaultVehicleWindow, "diner40": DefaultWindow, "otherBus": DefaultVehicleWindow} {
			if w, err := def.caseWindow(ctx, p, &shared{kinds: map[int64]string{}}, people[who]); err != nil || w != want.Milliseconds() {
				t.Errorf("the query's window around %s: %v ms %v, want %v", who, w, err, want)
			}
		}

		got := contacts(def)
		r, ok := got["rider40"]
		if len(got) != 1 || !ok || r.Venue.Kind != VehicleKind || r.OverlapMinutes != 20 {
			t.Fatalf("contacts under the default windows: %+v, want only the passenger who boarded bus X 40 minutes later (20 minutes together)", got)
		}

		got = contacts(st.tracer(t, Config{Node: "narrow", Windows: map[string]time.Duration{VehicleKind: 30 * time.Minute}}))
		if len(got) != 0 {
			t.Fatalf("contacts with vehicles at 30 minutes: %+v, want none", got)
		}
		got = contacts(st.tracer(t, Config{Node: "wide", Window: 45 * time.Minute}))
		if _, ok := got["rider70"]; len(got) != 2 || ok {
			t.Fatalf("contacts with every window at 45 minutes: %+v, want the passenger 40 minutes later and the diner", got)
		}
	})
}

func TestVehicleWindowDefaults(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want time.Duration
	}{
		{"default", Config{}, DefaultVehicleWindow},
		{"configured", Config{Windows: map[string]time.Duration{VehicleKind: 10 * time.Minute}}, 10 * time.Minute},
		{"every window wider", Config{Window: 90 * time.Minute}, 90 * time.Minute},
		{"every window narrower", Config{Window: 10 * time.Minute}, DefaultVehicleWindow},
		{"other kinds kept", Config{Windows: map[string]time.Duration{"restaurant": 15 * time.Minute}}, DefaultVehicleWindow},
	} {
		t.Run(c.name, func(t *testing.T) {
			given := c.cfg.Windows
			c.cfg.defaults()
			if got := c.cfg.Windows[VehicleKind]; got != c.want {
				t.Fatalf("vehicle window %v, want %v", got, c.want)
			}
			if given != nil && given["restaurant"] != c.cfg.Windows["restaurant"] {
				t.Fatalf("restaurant window lost: %v", c.cfg.Windows)
			}
			if _, ok := given[VehicleKind]; c.name != "configured" && ok {
				t.Fatal("the caller's map was changed")
			}
		})
	}
}
