package riskarea_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
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
