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
	out := map[int64]DaySwabs{}
	add := func(day int64, result string, n int64) {
		d := out[day]
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
		out[day] = d
	}
	// The kept counts are by the days of the service's zone: they answer
	// when from's days are those, over the whole period; the part of from's
	// day after from, when from is not its midnight, is counted from its
	// samples.
	now := s.clock()
	_, offNow := now.In(s.cfg.Location).Zone()
	_, offFrom := from.In(s.cfg.Location).Zone()
	if off != offNow || off != offFrom {
		return out, s.swabsFromSamples(ctx, lo, hi, offMs, from.UnixMilli(), 0, add)
	}
	first := s.day(from)
	if first < from.UnixMilli() {
		first = s.nextDay(first)
		if err := s.swabsFromSamples(ctx, lo, hi, offMs, from.UnixMilli(), first, add); err != nil {
			return nil, err
		}
	}
	// A province's counts read the days' range; a city's or a town's, its
	// range of region codes (testedColumns).
	day, region := "d.day", "d.region_code || ''"
	if len(lo) > 2 {
		day, region = "+d.day", "d.region_code"
	}
	scope, args := db.Scope(region, lo, hi, []any{first})
	err := db.Each(ctx, s.db, `SELECT d.day, d.result, SUM(d.swabs) FROM nat_swabs d WHERE `+day+` >= $1 AND `+scope+`
		GROUP BY d.day, d.result`, args, func(sc db.Scanner) error {
		var day, n int64
		var result string
		if err := sc.Scan(&day, &result, &n); err != nil {
			return err
		}
		if n != 0 {
			add(day, result, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: swabs per day: %w", err)
	}
	return out, nil
}

// swabsFromSamples counts the samples taken in [from, until) (until 0: no
// end) per day of the offset offMs from UTC, from the samples and their
// tubes.
func (s *Service) swabsFromSamples(ctx context.Context, lo, hi string, offMs, from, until int64, add func(day int64, result string, n int64)) error {
	end := ""
	args := []any{offMs, from}
	if until > 0 {
		end, args = " AND s.sampled_at < $3", append(args, until)
	}
	scope, args := db.Scope("t.region_code", lo, hi, args)
	err := db.Each(ctx, s.db, `SELECT (s.sampled_at + $1) / 86400000, COALESCE(t.result, ''), COUNT(*)
		FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		WHERE s.sampled_at >= $2`+end+` AND `+scope+`
		GROUP BY (s.sampled_at + $1) / 86400000, COALESCE(t.result, '')`, args, func(sc db.Scanner) error {
		var day, n int64
		var result string
		if err := sc.Scan(&day, &result, &n); err != nil {
			return err
		}
		add(day*dayMs-offMs, result, n)
		return nil
	})
	if err != nil {
		return fmt.Errorf("nat: swabs per day: %w", err)
	}
	return nil
}
