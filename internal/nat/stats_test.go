package nat_test

import (
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/nat"
)

// The dashboard's swabs per day: by the tube's result, per day of the
// deployment's zone, only of the tubes in the operator's scope.
func TestSwabsPerDay(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cst := time.FixedZone("CST", 8*3600)
		day1 := time.Date(2022, 4, 10, 0, 0, 0, 0, cst)
		day2 := day1.AddDate(0, 0, 1)

		f.now = day1.Add(-time.Minute) // the day before: not asked for
		f.result(f.tube(1, f.resident("341881001")), "negative")
		f.now = day1.Add(8 * time.Hour)
		f.result(f.tube(5, f.residents(3, "341881001")...), "negative")
		f.result(f.tube(5, f.residents(2, "341881001")...), "positive")
		f.tube(1, f.resident("341881001")) // no result yet
		f.result(f.tube(1, f.resident("341881001")), "invalid")
		f.now = day2.Add(-time.Second) // the last second of day 1
		f.tube(1, f.resident("341881001"))
		f.now = day2 // the first of day 2
		f.result(f.tube(5, f.residents(2, "341881001")...), "negative")
		// A tube of 梅林镇, outside the 西津街道 officer's scope.
		other := f.newSite("梅林镇采样点", "341881101", 30.5, 118.8)
		b := f.barcode()
		must[*nat.Tube](t)(f.svc.OpenTube(f.ctx, f.sampler, b, 1, other.ID))
		must[*nat.Sample](t)(f.svc.AddSample(f.ctx, f.sampler, b, nat.SampleInput{Code: f.scan(f.resident("341881101"))}))

		for _, c := range []struct {
			name string
			by   string
			want map[int64]nat.DaySwabs
		}{
			{"city", "sampler", map[int64]nat.DaySwabs{
				day1.UnixMilli(): {Negative: 3, Positive: 2, Pending: 2, Invalid: 1},
				day2.UnixMilli(): {Negative: 2, Pending: 1},
			}},
			{"town", "officer", map[int64]nat.DaySwabs{
				day1.UnixMilli(): {Negative: 3, Positive: 2, Pending: 2, Invalid: 1},
				day2.UnixMilli(): {Negative: 2},
			}},
			{"another city", "outside", map[int64]nat.DaySwabs{}},
		} {
			by := map[string]*auth.Principal{"sampler": f.sampler, "officer": f.officer, "outside": f.outside}[c.by]
			got, err := f.svc.SwabsPerDay(f.ctx, by, day1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				continue
			}
			for k, w := range c.want {
				if got[k] != w {
					t.Errorf("%s: day %v: %+v, want %+v", c.name, time.UnixMilli(k).In(cst), got[k], w)
				}
			}
		}
	})
}
