package status

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// countsUpTo names the counter that holds the seq of the last change folded
// into status_counts; until the first fold it has no row.
const countsUpTo = "status_counts"

// colourKey is a region's count of one colour.
type colourKey struct {
	region string
	color  rules.Color
}

// colourCounts counts the persons of each region in [lo, hi) by colour,
// yellow and red: the folded counts (FoldColours) and the changes logged
// since, read by seq alone (a range of the primary key) and netted here.
// Before the first fold it counts the status rows.
func (s *Service) colourCounts(ctx context.Context, lo, hi string) (map[colourKey]int64, error) {
	inScope := func(r string) bool { return r >= lo && (hi == "" || r < hi) }
	for attempt := 0; ; attempt++ {
		upTo, folded, err := s.coloursUpTo(ctx, s.db)
		if err != nil {
			return nil, err
		}
		out := map[colourKey]int64{}
		add := func(r string, c, n int64) {
			if rules.Color(c) != rules.Green && inScope(r) {
				out[colourKey{r, rules.Color(c)}] += n
			}
		}
		// addRow adds a (region, colour, count) row of either query.
		addRow := func(sc db.Scanner) error {
			var r string
			var c, n int64
			if err := sc.Scan(&r, &c, &n); err != nil {
				return err
			}
			add(r, c, n)
			return nil
		}
		if !folded {
			scope, args := db.Scope("region_code", lo, hi, nil)
			err = db.Each(ctx, s.db, `SELECT region_code, color, COUNT(*) FROM status WHERE `+scope+` AND color <> $3
				GROUP BY region_code, color`, append(args, int64(rules.Green)), addRow)
			if err != nil {
				return nil, fmt.Errorf("status: count colours: %w", err)
			}
			return out, nil
		}
		scope, args := db.Scope("region_code", lo, hi, nil)
		err = db.Each(ctx, s.db, `SELECT region_code, color, n FROM status_counts WHERE `+scope+`
			UNION ALL
			SELECT region_code, new_color, 1 FROM status_changes WHERE seq > $3
			UNION ALL
			SELECT region_code, old_color, -1 FROM status_changes WHERE seq > $3`, append(args, upTo), addRow)
		if err != nil {
			return nil, fmt.Errorf("status: count colours: %w", err)
		}
		// A fold that committed before the statement read its counts
		// moved the bound: its changes were counted twice, and the read
		// is made again.
		again, _, err := s.coloursUpTo(ctx, s.db)
		if err != nil {
			return nil, err
		}
		if again == upTo || attempt == 3 {
			return out, nil
		}
	}
}

// coloursUpTo reads the bound of the folded changes, and whether there has
// been a fold.
func (s *Service) coloursUpTo(ctx context.Context, q db.Querier) (int64, bool, error) {
	upTo, set, err := db.CounterRow(ctx, q, countsUpTo)
	if err != nil {
		return 0, false, fmt.Errorf("status: count colours: %w", err)
	}
	return upTo, set, nil
}

var addColours = db.Insert{Head: `INSERT INTO status_counts (region_code, color, n) VALUES `, Cols: 3,
	Tail: ` ON CONFLICT (region_code, color) DO UPDATE SET n = status_counts.n + excluded.n`}

// FoldColours adds the colour changes logged since the last fold to
// status_counts (the server runs it every minute on one node). Changes
// become visible in the order of their seq (the counter of status_changes
// stays locked until the recording transaction ends), so every change up
// to the highest visible seq is there to fold. The first fold counts the
// status rows, with the log's counter read in the same statement, so in
// the same snapshot. Fold and bound are one transaction, one at a time.
func (s *Service) FoldColours(ctx context.Context) error {
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if s.db.Engine() == db.Postgres {
			// Folds wait for each other here, the first ones too, before
			// the bound has a row to lock. (SQLite has one writer.)
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, countsUpTo); err != nil {
				return err
			}
		}
		upTo, folded, err := db.CounterRow(ctx, tx, countsUpTo)
		if err != nil {
			return err
		}
		counts := map[colourKey]int64{}
		last := upTo
		query := `SELECT seq, region_code, old_color, new_color FROM status_changes WHERE seq > $1`
		args := []any{upTo}
		if !folded {
			query = `SELECT COALESCE((SELECT MAX(value) FROM counters WHERE name = 'status_changes'), 0), NULL, CAST($1 AS BIGINT), CAST($1 AS BIGINT)
				UNION ALL
				SELECT 0, region_code, CAST($1 AS BIGINT), color FROM status WHERE color <> $1`
			args = []any{int64(rules.Green)}
		}
		err = db.Each(ctx, tx, query, args, func(sc db.Scanner) error {
			var seq, oldC, newC int64
			var region sql.NullString // NULL: the first fold's bound
			if err := sc.Scan(&seq, &region, &oldC, &newC); err != nil {
				return err
			}
			last = max(last, seq)
			r := region.String
			if rules.Color(oldC) != rules.Green {
				counts[colourKey{r, rules.Color(oldC)}]--
			}
			if rules.Color(newC) != rules.Green {
				counts[colourKey{r, rules.Color(newC)}]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		if folded && last == upTo {
			return nil
		}
		ins := make([]any, 0, 3*len(counts))
		for k, n := range counts {
			if n != 0 {
				ins = append(ins, k.region, int64(k.color), n)
			}
		}
		if _, err := addColours.Exec(ctx, tx, s.db.Engine(), ins); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, countsUpTo, last)
		return err
	})
	if err != nil {
		return fmt.Errorf("status: fold colours: %w", err)
	}
	return nil
}
