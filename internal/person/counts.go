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
// the folded counts (FoldCounts) and the persons registered since. It reads
// a few thousand rows where counting the persons of a province read
// millions.
func (s *Service) CountByRegion(ctx context.Context, lo, hi string) (map[string]int64, error) {
	folded, args := db.Scope("region_code", lo, hi, nil)
	for attempt := 0; ; attempt++ {
		upTo, err := s.countedUpTo(ctx)
		if err != nil {
			return nil, err
		}
		// The persons since the fold (a minute's registrations) are read
		// one by one by number alone, a range of the primary key, and
		// counted here: with a condition on region_code, or grouped by it,
		// SQLite reads them through the region index, the whole table.
		out := map[string]int64{}
		err = db.Each(ctx, s.db, `SELECT region_code, n FROM person_counts WHERE `+folded+`
			UNION ALL
			SELECT region_code, 1 FROM persons WHERE num > $3`, append(args, upTo),
			func(sc db.Scanner) error {
				var r string
				var n int64
				if err := sc.Scan(&r, &n); err != nil {
					return err
				}
				if r >= lo && (hi == "" || r < hi) {
					out[r] += n
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("person: count by region: %w", err)
		}
		// A fold that committed before the statement read its counts
		// moved the bound too: then the persons it folded were counted
		// twice, and the read is made again.
		again, err := s.countedUpTo(ctx)
		if err != nil {
			return nil, err
		}
		if again == upTo || attempt == 3 {
			return out, nil
		}
	}
}

func (s *Service) countedUpTo(ctx context.Context) (int64, error) {
	upTo, err := db.Counter(ctx, s.db, countsUpTo)
	if err != nil {
		return 0, fmt.Errorf("person: count by region: %w", err)
	}
	return upTo, nil
}

var addCounts = db.Insert{Head: `INSERT INTO person_counts (region_code, n) VALUES `, Cols: 2,
	Tail: ` ON CONFLICT (region_code) DO UPDATE SET n = person_counts.n + excluded.n`}

// FoldCounts adds the persons registered since the last fold to
// person_counts (the server runs it every minute on one node). Person
// numbers become visible in order (the persons counter stays locked until
// the registering transaction ends), so every person up to the highest
// visible number is there to count, and none is counted twice: the fold
// and the new bound are one transaction, serialised on the counter's row.
func (s *Service) FoldCounts(ctx context.Context) error {
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		upTo, err := db.LockCounter(ctx, tx, s.db.Engine(), countsUpTo)
		if err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(num), 0) FROM persons`).Scan(&last); err != nil {
			return err
		}
		if last <= upTo {
			return nil
		}
		// Counted here rather than grouped in SQL: SQLite would group
		// through the region index, reading every person at each fold.
		counts := map[string]int64{}
		err = db.Each(ctx, tx, `SELECT region_code FROM persons WHERE num > $1 AND num <= $2`, []any{upTo, last}, func(sc db.Scanner) error {
			var r string
			if err := sc.Scan(&r); err != nil {
				return err
			}
			counts[r]++
			return nil
		})
		if err != nil {
			return err
		}
		args := make([]any, 0, 2*len(counts))
		for r, n := range counts {
			args = append(args, r, n)
		}
		if _, err := addCounts.Exec(ctx, tx, s.db.Engine(), args); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`, last, countsUpTo)
		return err
	})
	if err != nil {
		return fmt.Errorf("person: fold counts: %w", err)
	}
	return nil
}
