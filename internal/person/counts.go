package person

import (
	"context"
	"fmt"

	"github.com/healthcode/healthcode/internal/db"
)

// countsUpTo names the counter that holds the last person number folded
// into person_counts.
const countsUpTo = "person_counts"

// CountByRegion counts registered persons per region code within bounds:
// the folded counts (FoldCounts) and the persons registered since, in one
// statement so that both are read from one snapshot. It reads a few
// thousand rows where counting the persons of a province read millions.
func (s *Service) CountByRegion(ctx context.Context, lo, hi string) (map[string]int64, error) {
	folded, args := db.Scope("region_code", lo, hi, nil)
	since, args := db.Scope("region_code", lo, hi, args)
	out := map[string]int64{}
	err := db.Each(ctx, s.db, `SELECT region_code, n FROM person_counts WHERE `+folded+`
		UNION ALL
		SELECT region_code, COUNT(*) FROM persons
		WHERE num > COALESCE((SELECT value FROM counters WHERE name = '`+countsUpTo+`'), 0) AND `+since+`
		GROUP BY region_code`, args,
		func(sc db.Scanner) error {
			var r string
			var n int64
			if err := sc.Scan(&r, &n); err != nil {
				return err
			}
			out[r] += n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("person: count by region: %w", err)
	}
	return out, nil
}

// FoldCounts adds the persons registered since the last fold to
// person_counts (the server runs it every minute on one node). Person
// numbers become visible in order (the persons counter stays locked until
// the registering transaction ends), so every person up to the highest
// visible number is there to count, and none is counted twice: the fold
// and the new bound are one transaction, serialised on the counter's row.
func (s *Service) FoldCounts(ctx context.Context) error {
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, countsUpTo); err != nil {
			return err
		}
		lock := ``
		if s.db.Engine() == db.Postgres {
			lock = ` FOR UPDATE`
		}
		var upTo, last int64
		if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = $1`+lock, countsUpTo).Scan(&upTo); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM persons`).Scan(&last); err != nil {
			return err
		}
		if last <= upTo {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO person_counts (region_code, n)
			SELECT region_code, COUNT(*) FROM persons WHERE num > $1 AND num <= $2 GROUP BY region_code
			ON CONFLICT (region_code) DO UPDATE SET n = person_counts.n + excluded.n`, upTo, last); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`, last, countsUpTo)
		return err
	})
	if err != nil {
		return fmt.Errorf("person: fold counts: %w", err)
	}
	return nil
}
