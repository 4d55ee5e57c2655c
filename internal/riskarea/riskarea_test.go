package riskarea_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/riskarea"
)

var t0 = time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)

func at(t time.Time) *time.Time { return &t }

func count(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM risk_areas`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Who may publish, and what is a valid area: each refusal is its own case
// and stores nothing.
func TestPublishRefusesAndStoresNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := riskarea.New(d, region.Default())
		s.SetClock(func() time.Time { return t0 })
		officer := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.HealthOfficer, Region: "341881"}
		viewer := &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer, Region: "341881"}
		key := &auth.Principal{Kind: auth.APIKey, ID: "k", Scopes: []string{"verify"}}
		good := riskarea.Input{Region: "341881001", Level: "medium", From: at(t0), Until: at(t0.Add(7 * 24 * time.Hour))}
		with := func(f func(*riskarea.Input)) riskarea.Input { in := good; f(&in); return in }
		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   riskarea.Input
			want error
		}{
			{"a viewer", viewer, good, auth.ErrForbidden},
			{"an API key", key, good, auth.ErrForbidden},
			{"nobody", nil, good, auth.ErrForbidden},
			{"outside the scope", officer, with(func(in *riskarea.Input) { in.Region = "320102" }), auth.ErrOutOfScope},
			{"an unknown region", officer, with(func(in *riskarea.Input) { in.Region = "341899" }), region.ErrUnknown},
			{"a province", officer, with(func(in *riskarea.Input) { in.Region = "34" }), riskarea.ErrRegionLevel},
			{"an unknown level", officer, with(func(in *riskarea.Input) { in.Level = "severe" }), riskarea.ErrLevelInvalid},
			{"open-ended", officer, with(func(in *riskarea.Input) { in.Until = nil }), riskarea.ErrValidityMissing},
			{"no start", officer, with(func(in *riskarea.Input) { in.From = nil }), riskarea.ErrValidityMissing},
			{"inverted", officer, with(func(in *riskarea.Input) { in.Until = at(t0.Add(-time.Hour)) }), riskarea.ErrValidityInverted},
			{"empty validity", officer, with(func(in *riskarea.Input) { in.Until = at(t0) }), riskarea.ErrValidityInverted},
		} {
			if _, err := s.Publish(ctx, c.by, c.in); !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			}
		}
		if n := count(t, d); n != 0 {
			t.Fatalf("%d areas stored after refusals", n)
		}
		a, err := s.Publish(ctx, officer, good)
		if err != nil {
			t.Fatal(err)
		}
		if a.City != "3418" || !a.ActiveAt(t0) || a.ActiveAt(t0.Add(8*24*time.Hour)) {
			t.Fatalf("area: %+v", a)
		}
		starred, err := s.StarredCities(ctx, t0.Add(time.Hour))
		if err != nil || !starred["3418"] || len(starred) != 1 {
			t.Fatalf("starred: %v %v", starred, err)
		}
		// Withdrawal: outside the scope it is not found; twice is a conflict.
		other := &auth.Principal{Kind: auth.Operator, ID: "x", Role: auth.HealthOfficer, Region: "341802"}
		if _, err := s.Withdraw(ctx, other, a.ID); !errors.Is(err, riskarea.ErrNotFound) {
			t.Fatalf("withdraw out of scope: %v", err)
		}
		if _, err := s.Withdraw(ctx, officer, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Withdraw(ctx, officer, a.ID); !errors.Is(err, riskarea.ErrWithdrawn) {
			t.Fatalf("withdraw twice: %v", err)
		}
		if starred, _ := s.StarredCities(ctx, t0.Add(time.Hour)); len(starred) != 0 {
			t.Fatalf("a withdrawn area still stars: %v", starred)
		}
	})
}

func TestCityOf(t *testing.T) {
	for in, want := range map[string]string{"34": "", "3418": "3418", "341881": "3418", "341881001": "3418", "x": "", "34188a": ""} {
		if got := riskarea.CityOf(in); got != want {
			t.Errorf("CityOf(%q) = %q, want %q", in, got, want)
		}
	}
}

const xuanwu = `{"type":"Polygon","coordinates":[[[118.78,32.03],[118.86,32.03],[118.86,32.1],[118.78,32.1],[118.78,32.03]]]}`

// An area may carry its shape: stored as given (compact), read back by the
// registry and the open data, refused with its own code when it is not a
// valid geometry, and then nothing is stored. A file gives it in an
// optional sixth column.
func TestGeometryIsStoredValidatedAndImported(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := riskarea.New(d, region.Default())
		s.SetClock(func() time.Time { return t0 })
		officer := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.HealthOfficer, Region: "341881"}
		in := riskarea.Input{Region: "341881001", Name: "西津小区", Level: "medium", From: at(t0), Until: at(t0.Add(7 * 24 * time.Hour))}
		for _, c := range []struct {
			name, shape string
			want        error
		}{
			{"an open ring", `{"type":"Polygon","coordinates":[[[118,30],[119,30],[119,31],[118,31]]]}`, geo.ErrGeometryRing},
			{"latitude first", `{"type":"Point","coordinates":[30.6,118.9]}`, geo.ErrGeometryRange},
			{"a line", `{"type":"LineString","coordinates":[[118,30],[119,30]]}`, geo.ErrGeometryType},
			{"not a geometry", `"118.9,30.6"`, geo.ErrGeometryInvalid},
		} {
			bad := in
			bad.Geometry = []byte(c.shape)
			if _, err := s.Publish(ctx, officer, bad); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if n := count(t, d); n != 0 {
			t.Fatalf("%d areas stored after refused geometries", n)
		}

		shaped := in
		shaped.Geometry = []byte(" {\"coordinates\": [[[118.78, 32.03], [118.86, 32.03], [118.86, 32.10], [118.78, 32.10], [118.78, 32.03]]], \"type\": \"Polygon\"}\n")
		a, err := s.Publish(ctx, officer, shaped)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.Publish(ctx, officer, in)
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.List(ctx, riskarea.Query{})
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %v %v", list, err)
		}
		shapes := map[string]string{}
		for _, x := range list {
			shapes[x.ID] = ""
			if x.Geometry != nil {
				shapes[x.ID] = x.Geometry.String()
			}
		}
		if shapes[a.ID] != xuanwu || shapes[plain.ID] != "" {
			t.Fatalf("shapes read back: %v", shapes)
		}

		// A file: the shape is a quoted GeoJSON cell; a bad one refuses its
		// line alone.
		cell := func(g string) string { return `"` + strings.ReplaceAll(g, `"`, `""`) + `"` }
		file := "region,name,level,from,until,geometry\n" +
			"341881002,,high,2022-04-01 08:00,2022-04-08 08:00," + cell(`{"type":"Point","coordinates":[118.98,30.63]}`) + "\n" +
			"341881003,,medium,2022-04-01 08:00,2022-04-08 08:00," + cell(`{"type":"Polygon","coordinates":[[[118,30],[119,30],[118,30]]]}`) + "\n" +
			"341881004,,low,2022-04-01 08:00,2022-04-08 08:00,\n" +
			"341881005,,low,2022-04-01 08:00,2022-04-08 08:00\n"
		rep, err := s.Import(ctx, officer, []byte(file))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accepted != 3 || len(rep.Refused) != 1 || rep.Refused[0].Line != 3 || rep.Refused[0].Code != "geometry_ring" {
			t.Fatalf("import: %+v", rep)
		}
		if g := rep.Areas[0].Geometry; g == nil || g.String() != `{"type":"Point","coordinates":[118.98,30.63]}` || rep.Areas[1].Geometry != nil {
			t.Fatalf("imported shapes: %+v", rep.Areas)
		}
		if n := count(t, d); n != 5 {
			t.Fatalf("%d areas stored, want 5", n)
		}
	})
}
