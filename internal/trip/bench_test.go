package trip_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/venue"
)

// venues answers every venue in one of a few cities.
type venues struct{}

func (venues) Get(_ context.Context, _ *auth.Principal, id string) (*venue.Venue, error) {
	var n int
	fmt.Sscanf(id, "v%d", &n)
	return &venue.Venue{ID: id, Region: []string{"341881001", "320102", "310115"}[n%3]}, nil
}
func (venues) IDsInRegion(context.Context, string) ([]string, error) { return nil, nil }

type checkpoints struct{}

func (checkpoints) ByID(context.Context, string) (*checkpoint.Checkpoint, error) {
	return &checkpoint.Checkpoint{}, nil
}
func (checkpoints) IDsInRegion(context.Context, string) ([]string, error) { return nil, nil }

// BenchmarkTripCard is one resident's 14-day card: the carrier's stays of
// the phone and the person's check-ins, among those of many others
// (20,000 phones with 10 stays and 20 check-ins each: 200,000 stays and
// 400,000 check-ins). HEALTHCODE_BENCH_TRIP_PHONES and
// HEALTHCODE_BENCH_TRIP_CHECKINS (per phone) run it larger
// (docs/PERFORMANCE.md).
func BenchmarkTripCard(b *testing.B) {
	ctx := context.Background()
	d := dbtest.NewSQLite(b)
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	phones, staysEach, checkinsEach := envInt("HEALTHCODE_BENCH_TRIP_PHONES", 20000), 10, envInt("HEALTHCODE_BENCH_TRIP_CHECKINS", 20)
	now := time.Now().UTC()
	ci := checkin.New(d, nil, nil, nil, checkin.Config{})
	defer ci.Close()
	places := make([]int64, 30)
	for i := range places {
		if places[i], err = ci.PlaceOf(ctx, checkin.PlaceVenue, fmt.Sprintf("v%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	hash := func(i int) []byte { return keys.BlindIndex("phone", fmt.Sprintf("139%08d", i)) }
	err = d.InTx(ctx, func(tx db.Tx) error {
		ins := db.Insert{Head: `INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at) VALUES `, Cols: 6}
		var args []any
		for p := 0; p < phones; p++ {
			h := hash(p)
			for k := 0; k < staysEach; k++ {
				first := now.Add(-time.Duration(k*40+5) * time.Hour).UnixMilli()
				args = append(args, h, []string{"3418", "3201", "3101"}[k%3], first, first+6*3600_000, "carrier", first)
			}
			if len(args) > 60000 {
				if _, err := ins.Exec(ctx, tx, d.Engine(), args); err != nil {
					return err
				}
				args = args[:0]
			}
		}
		_, err := ins.Exec(ctx, tx, d.Engine(), args)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	// Imported a million at a time, so a large run does not hold every row.
	rows := make([]checkin.ImportRow, 0, min(phones*checkinsEach, 1_000_000))
	for p := 1; p <= phones; p++ {
		for k := 0; k < checkinsEach; k++ {
			// Wrapped within the 28 days presence is kept.
			at := now.Add(-time.Duration((k*12+p%7)%(28*24)) * time.Hour)
			rows = append(rows, checkin.ImportRow{Place: places[(p+k/5)%len(places)], At: at.UnixMilli(), Person: int64(p)})
		}
		if len(rows) >= 1_000_000 || p == phones {
			if err := ci.Import(ctx, rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	b.Logf("%d stays, %d check-ins", phones*staysEach, phones*checkinsEach)
	areas := riskarea.New(d, region.Default())
	svc := trip.New(trip.Deps{DB: d, Keys: keys, Regions: region.Default(), Areas: areas, Presence: ci, Venues: venues{}, Checkpoints: checkpoints{}}, trip.Config{})
	for i := 0; b.Loop(); i++ {
		p := i % phones
		c, err := svc.CardOf(ctx, hash(p), int64(p+1))
		if err != nil || len(c.Cities) == 0 {
			b.Fatalf("card: %+v %v", c, err)
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
