package checkin

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// The dashboard's verifications per hour count the events at the
// checkpoints it names, from the hour asked for on.
func TestVerificationsPerHour(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := newService(t, d, Config{})
		ctx := context.Background()
		from := time.Date(2022, 4, 1, 9, 0, 0, 0, time.UTC)
		for _, v := range []Verification{
			{Checkpoint: "cp1", Person: 1, At: from.Add(-time.Second)}, // before the hours asked for
			{Checkpoint: "cp1", Person: 1, At: from},
			{Checkpoint: "cp1", Person: 0, At: from.Add(59 * time.Minute)}, // unattributed, still an event
			{Checkpoint: "cp1", Person: 2, At: from.Add(time.Hour)},
			{Checkpoint: "cp2", Person: 3, At: from.Add(30 * time.Minute)},
			{Checkpoint: "", Person: 4, At: from.Add(30 * time.Minute)}, // an integrator key: no checkpoint
		} {
			if err := s.RecordVerification(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		// Many checkpoints span several statements; their counts add up.
		many := []string{"cp1"}
		for i := range 2 * d.Engine().BatchRows(1) {
			many = append(many, fmt.Sprint("none", i))
		}
		many = append(many, "cp2")
		h9, h10 := from.UnixMilli(), from.Add(time.Hour).UnixMilli()
		for _, c := range []struct {
			name string
			cps  []string
			want map[int64]int64
		}{
			{"one", []string{"cp1"}, map[int64]int64{h9: 2, h10: 1}},
			{"both", []string{"cp1", "cp2"}, map[int64]int64{h9: 3, h10: 1}},
			{"many", many, map[int64]int64{h9: 3, h10: 1}},
			{"unknown", []string{"cp9"}, map[int64]int64{}},
			{"none", nil, map[int64]int64{}},
		} {
			got, err := s.VerificationsPerHour(ctx, c.cps, from)
			if err != nil || !maps.Equal(got, c.want) {
				t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			}
		}
	})
}
