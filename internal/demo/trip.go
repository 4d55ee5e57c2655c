package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/trip"
)

// riskListLoader publishes the national list of risk areas, as the State
// Council's list reached every city: it needs the whole country in scope.
var riskListLoader = &auth.Principal{Kind: auth.Operator, ID: "demo-loader", Name: "demo", Role: auth.Admin, Region: ""}

// loadTrip gives the demo a risk area and a resident with a starred trip:
// 周丽 (13800000008) spent a day in Nanjing three days ago, where a compound
// in 玄武区 is now medium-risk; her negative test of this morning keeps her
// green, and her trip card shows the star. The carrier's stays of the first
// residents in Xuancheng fill their cards too. Entertainment venues refuse
// starred and untested people.
func loadTrip(ctx context.Context, s *server.Server) error {
	now := time.Now().UTC().Truncate(time.Minute)
	stays := []trip.FeedLine{
		{Phone: "13800000008", City: "3201", FirstSeen: now.Add(-80 * time.Hour), LastSeen: now.Add(-70 * time.Hour)},
		{Phone: "13800000008", City: "3418", FirstSeen: now.Add(-69 * time.Hour), LastSeen: now.Add(-time.Hour)},
	}
	for i := 1; i <= 3; i++ {
		stays = append(stays, trip.FeedLine{Phone: fmt.Sprintf("138000000%02d", i), City: "3418",
			FirstSeen: now.Add(-13 * 24 * time.Hour), LastSeen: now.Add(-time.Hour)})
	}
	if _, err := s.Trip.Feed(ctx, riskListLoader, stays); err != nil {
		return fmt.Errorf("stays: %w", err)
	}
	from, until := now.Add(-48*time.Hour), now.Add(5*24*time.Hour)
	if _, err := s.Trip.Publish(ctx, riskListLoader, riskarea.Input{Region: "320102", Name: "玄武区某小区", Level: "medium",
		From: &from, Until: &until, Geometry: []byte(xuanwuCompound)}); err != nil {
		return fmt.Errorf("risk area: %w", err)
	}
	// Entertainment venues (and checkpoints set to that kind) keep starred
	// and untested people out, as cultural venues did: the console's policy
	// page has a row to show.
	if _, err := s.Trip.SetPolicy(ctx, riskListLoader, trip.Policy{Scope: "kind", Ref: "entertainment", RefuseStarred: true, TestHours: 72}); err != nil {
		return fmt.Errorf("venue policy: %w", err)
	}
	acct, err := s.Auth.EnsureAccount(ctx, "13800000008")
	if err != nil {
		return err
	}
	p, err := s.Persons.ForAccount(ctx, acct)
	if err != nil {
		return err
	}
	_, err = s.Status.Record(ctx, status.NewFact{Person: p.Num, RecordedBy: loader.Actor(), Fact: fact.Fact{
		Kind: fact.NATResult, At: now.Add(-12 * time.Hour), Attrs: map[string]any{"result": "negative"}, Source: "demo"}})
	return err
}

// xuanwuCompound is the shape of the demo's risk area: a block east of
// Xuanwu Lake, Nanjing (WGS 84), so the open data's GeoJSON and the public
// page's map have something to draw.
const xuanwuCompound = `{"type":"Polygon","coordinates":[[[118.8012,32.0561],[118.8098,32.0552],[118.8126,32.0489],[118.8071,32.0442],[118.7996,32.0467],[118.7981,32.0523],[118.8012,32.0561]]]}`

func tripLoaded(ctx context.Context, s *server.Server) (bool, error) {
	n, err := db.Counter(ctx, s.DB, "demo_trip_loaded")
	return n > 0, err
}

func markTripLoaded(ctx context.Context, s *server.Server) error {
	return s.DB.InTx(ctx, func(tx db.Tx) error { _, err := db.NextVal(ctx, tx, "demo_trip_loaded", 1); return err })
}
