package nat

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// nat_swabs keeps the swabs per region of the tube, local day and the
// tube's current result ('' awaiting it), so the dashboard's fortnight reads
// a row per region, day and result rather than every sample and its tube.
// It changes in the transactions that change what it counts.

// day is the first millisecond of the local day (cfg.Location) of at.
func (s *Service) day(at time.Time) int64 {
	y, m, d := at.In(s.cfg.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location).UnixMilli()
}

// nextDay is the first millisecond of the local day after the one that
// starts at day.
func (s *Service) nextDay(day int64) int64 {
	y, m, d := time.UnixMilli(day).In(s.cfg.Location).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, s.cfg.Location).UnixMilli()
}

type swabKey struct {
	region string
	day    int64
	result string
}

// addSwabs adds n (negative: takes) to each key's count, in the keys'
// order: two transactions that count the same days take the rows' locks
// in the same order, and neither waits for the other while holding a row
// the other holds (PostgreSQL would end one as a deadlock).
func addSwabs(ctx context.Context, tx db.Querier, counts map[swabKey]int64) error {
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b swabKey) int {
		return cmp.Or(strings.Compare(a.region, b.region), cmp.Compare(a.day, b.day), strings.Compare(a.result, b.result))
	})
	for _, k := range keys {
		n := counts[k]
		if n == 0 {
			continue
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO nat_swabs (region_code, day, result, swabs) VALUES ($1, $2, $3, $4)
			ON CONFLICT (region_code, day, result) DO UPDATE SET swabs = nat_swabs.swabs + excluded.swabs`, k.region, k.day, k.result, n)
		if err != nil {
			return fmt.Errorf("nat: count swabs: %w", err)
		}
	}
	return nil
}

// moveSwabs moves the swabs of tubes whose result changed from one result's
// count to the other's, day by day. from and to are by barcode (empty for no
// result), region the tubes' regions.
func (s *Service) moveSwabs(ctx context.Context, tx db.Querier, region, from, to map[string]string) error {
	bs := make([]string, 0, len(to))
	for b := range to {
		bs = append(bs, b)
	}
	counts := map[swabKey]int64{}
	err := db.QueryIn(ctx, tx, s.db.Engine(), `SELECT barcode, sampled_at FROM nat_samples WHERE barcode IN `, nil, bs, ``,
		func(sc db.Scanner) error {
			var b string
			var at int64
			if err := sc.Scan(&b, &at); err != nil {
				return err
			}
			d := s.day(time.UnixMilli(at))
			counts[swabKey{region[b], d, from[b]}]--
			counts[swabKey{region[b], d, to[b]}]++
			return nil
		})
	if err != nil {
		return fmt.Errorf("nat: swabs of the tubes: %w", err)
	}
	return addSwabs(ctx, tx, counts)
}

// purgeSwabs follows the retention purge of samples before cutoff (c, unix
// ms): the days before the cutoff's go, and the cutoff's own day, if the
// purge took some of its samples (cut), is counted again from those kept.
// It says how many rows of days gone it deleted.
func (s *Service) purgeSwabs(ctx context.Context, tx db.Querier, c int64, cut bool) (int64, error) {
	d := s.day(time.UnixMilli(c))
	res, err := tx.ExecContext(ctx, `DELETE FROM nat_swabs WHERE day < $1`, d)
	if err != nil {
		return 0, fmt.Errorf("nat: purge swab counts: %w", err)
	}
	n, _ := res.RowsAffected()
	if !cut {
		return n, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM nat_swabs WHERE day = $1`, d); err != nil {
		return 0, fmt.Errorf("nat: recount the cutoff's day: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO nat_swabs (region_code, day, result, swabs)
		SELECT t.region_code, $1, COALESCE(t.result, ''), COUNT(*) FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode
		WHERE s.sampled_at >= $2 AND s.sampled_at < $3
		GROUP BY t.region_code, COALESCE(t.result, '')`, d, c, s.nextDay(d)); err != nil {
		return 0, fmt.Errorf("nat: recount the cutoff's day: %w", err)
	}
	return n, nil
}
