package nat

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// DaySwabs is the swabs taken on one day, by what their tube's result
// means for the person so far.
type DaySwabs struct {
	Negative, Positive, Pending, Invalid int64
}

// Total is every swab of the day.
func (d DaySwabs) Total() int64 { return d.Negative + d.Positive + d.Pending + d.Invalid }

const dayMs = 86400000

// SwabsPerDay counts the swabs taken since from (a midnight) into tubes
// of the operator's scope, per day of from's time zone, keyed by the day's
// first millisecond (unix ms).
func (s *Service) SwabsPerDay(ctx context.Context, by *auth.Principal, from time.Time) (map[int64]DaySwabs, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	_, off := from.Zone()
	offMs := int64(off) * 1000
	lo, hi := by.Bounds()
	scope, args := db.Scope("t.region_code", lo, hi, []any{offMs, from.UnixMilli()})
	out := map[int64]DaySwabs{}
	err := db.Each(ctx, s.db, `SELECT (s.sampled_at + $1) / 86400000, COALESCE(t.result, ''), COUNT(*)
		FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		WHERE s.sampled_at >= $2 AND `+scope+`
		GROUP BY (s.sampled_at + $1) / 86400000, COALESCE(t.result, '')`, args, func(sc db.Scanner) error {
		var day, n int64
		var result string
		if err := sc.Scan(&day, &result, &n); err != nil {
			return err
		}
		k := day*dayMs - offMs
		d := out[k]
		switch result {
		case Negative:
			d.Negative += n
		case Positive:
			d.Positive += n
		case "":
			d.Pending += n
		default:
			d.Invalid += n
		}
		out[k] = d
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: swabs per day: %w", err)
	}
	return out, nil
}
