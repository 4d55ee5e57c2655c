package checkin

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// hoursSealed names the counter that holds the end (unix ms, the start of
// a minute) of the events folded into verification_hours: the hour it falls
// in holds the events before it.
const hoursSealed = "verification_hours"

const (
	hourMs   = 3_600_000
	minuteMs = 60_000
)

// foldMargin is how long after an hour ends its events are folded. An event
// is written with the time it was answered, by the group commit within
// milliseconds (seconds when the disk is slow, or the SQLite journal moves
// them after a stop); one answered earlier and committed after its hour was
// folded would be missed by the counts, so the fold waits well past that.
const foldMargin = 10 * time.Minute

// VerificationsPerHour counts the verification events at the checkpoints
// (by id) from from on, per hour (its start in unix ms). The hours folded
// into verification_hours are read from there; the rest, the hour from
// falls in and the hours since the last fold, from the events, in one
// statement per chunk of checkpoints. The caller names the checkpoints,
// from the checkpoint service, which decides whose scope holds them.
func (s *Service) VerificationsPerHour(ctx context.Context, checkpoints []string, from time.Time) (map[int64]int64, error) {
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	fromMs := from.UnixMilli()
	// The hour from falls in is counted from the events when from is
	// not its start: its count holds events before from.
	headEnd := (fromMs + hourMs - 1) / hourMs * hourMs
	if len(checkpoints) >= hoursByRange {
		return s.verificationsOfMany(ctx, checkpoints, fromMs, headEnd)
	}
	return s.sealedRead(ctx, func(sealed int64, out map[int64]int64) error {
		return db.QueryIn(ctx, s.db, s.db.Engine(), `WITH cp AS (SELECT num FROM places WHERE kind = $1 AND ref IN `,
			[]any{PlaceCheckpoint, fromMs, headEnd, sealed, max(sealed, headEnd)}, checkpoints, `)
			SELECT h.hour, h.n FROM verification_hours h WHERE h.place IN (SELECT num FROM cp) AND h.hour >= $3 AND h.hour < $4
			UNION ALL
			SELECT v.at / 3600000 * 3600000, 1 FROM verifications v WHERE v.place IN (SELECT num FROM cp) AND v.at >= $2 AND v.at < $3
			UNION ALL
			SELECT v.at / 3600000 * 3600000, 1 FROM verifications v WHERE v.place IN (SELECT num FROM cp) AND v.at >= $5`,
			addHour(out, nil))
	})
}

// sealedRead calls read with the fold's bound and an empty count per hour
// to fill, and returns the counts. A fold that committed while read ran
// moved the bound: its hours may be counted twice, or not at all, and the
// read is made again (at most three times more).
func (s *Service) sealedRead(ctx context.Context, read func(sealed int64, out map[int64]int64) error) (map[int64]int64, error) {
	out := map[int64]int64{}
	for attempt := 0; ; attempt++ {
		sealed, err := s.hoursSealed(ctx)
		if err != nil {
			return nil, err
		}
		clear(out)
		if err := read(sealed, out); err != nil {
			return nil, fmt.Errorf("checkin: verifications per hour: %w", err)
		}
		again, err := s.hoursSealed(ctx)
		if err != nil {
			return nil, err
		}
		if again == sealed || attempt == 3 {
			return out, nil
		}
	}
}

// addHour adds each row's count (hour, n) to out; with ours, the rows are
// (place, hour, n) and only ours places count.
func addHour(out map[int64]int64, ours map[int64]bool) func(db.Scanner) error {
	return func(sc db.Scanner) error {
		var p, h, n int64
		var err error
		if ours == nil {
			err = sc.Scan(&h, &n)
		} else {
			err = sc.Scan(&p, &h, &n)
		}
		if err != nil {
			return err
		}
		if ours == nil || ours[p] {
			out[h] += n
		}
		return nil
	}
}

// hoursByRange is the number of checkpoints from which their hours are
// read by the hours' range (verification_hours_hour) rather than checkpoint
// by checkpoint: a checkpoint's hours lie on as many pages as it has hours.
const hoursByRange = 64

// verificationsOfMany is VerificationsPerHour for many checkpoints: their
// places are looked up once, and the kept hours and the events of the
// head and the tail are read by time, the places kept by a filter (on
// PostgreSQL an array, on SQLite in Go) rather than looked up one by one.
func (s *Service) verificationsOfMany(ctx context.Context, checkpoints []string, fromMs, headEnd int64) (map[int64]int64, error) {
	var places []int64
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT num FROM places WHERE kind = $1 AND ref IN `, []any{PlaceCheckpoint}, checkpoints, ``,
		func(sc db.Scanner) error {
			var num int64
			err := sc.Scan(&num)
			places = append(places, num)
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("checkin: verifications per hour: %w", err)
	}
	if len(places) == 0 {
		return map[int64]int64{}, nil
	}
	ours := make(map[int64]bool, len(places))
	for _, p := range places {
		ours[p] = true
	}
	return s.sealedRead(ctx, func(sealed int64, out map[int64]int64) error {
		tail := max(sealed, headEnd)
		if s.db.Engine() == db.Postgres {
			return db.Each(ctx, s.db, hoursOfManyPostgres, []any{fromMs, headEnd, sealed, tail, places}, addHour(out, nil))
		}
		return db.Each(ctx, s.db, hoursOfManySQLite, []any{fromMs, headEnd, sealed, tail}, addHour(out, ours))
	})
}

// The statements of verificationsOfMany: $1 from, $2 the end of its hour,
// $3 the fold's bound, $4 the later of the two, and on PostgreSQL $5 the
// places. place + 0: the array is a filter on the hours' range, not keys
// of the primary key to look up one by one.
const (
	hoursOfManyPostgres = `SELECT hour, SUM(n) FROM verification_hours WHERE hour >= $2 AND hour < $3 AND place + 0 = ANY($5) GROUP BY hour
		UNION ALL
		SELECT at / 3600000 * 3600000, COUNT(*) FROM verifications WHERE at >= $1 AND at < $2 AND place + 0 = ANY($5) GROUP BY 1
		UNION ALL
		SELECT at / 3600000 * 3600000, COUNT(*) FROM verifications WHERE at >= $4 AND place + 0 = ANY($5) GROUP BY 1`
	hoursOfManySQLite = `SELECT place, hour, n FROM verification_hours WHERE hour >= $2 AND hour < $3
		UNION ALL
		SELECT place, at / 3600000 * 3600000, 1 FROM verifications WHERE at >= $1 AND at < $2
		UNION ALL
		SELECT place, at / 3600000 * 3600000, 1 FROM verifications WHERE at >= $4`
)

func (s *Service) hoursSealed(ctx context.Context) (int64, error) {
	sealed, err := db.Counter(ctx, s.db, hoursSealed)
	if err != nil {
		return 0, fmt.Errorf("checkin: verification hours: %w", err)
	}
	return sealed, nil
}

var addHours = db.Insert{Head: `INSERT INTO verification_hours (place, hour, n) VALUES `, Cols: 3,
	Tail: ` ON CONFLICT (place, hour) DO UPDATE SET n = verification_hours.n + excluded.n`}

// lockSealed reads the end of the folded hours in tx, holding the counter's
// row so that folds, imports and purges of the counts go one at a time.
func (s *Service) lockSealed(ctx context.Context, tx db.Tx) (int64, error) {
	return db.LockCounter(ctx, tx, s.db.Engine(), hoursSealed)
}

// FoldVerifications counts the verification events from the last bound to
// the minute foldMargin ago into verification_hours, adding to the hours'
// counts, and moves the bound there, in one transaction (the server runs it
// every minute on one node). The bound is a minute, not an hour: a read
// counts the events since it, and at a province's rate an hour of them
// (28,000 at 10M residents) was most of the read. The first fold counts every
// event the table holds.
func (s *Service) FoldVerifications(ctx context.Context) error {
	bound := s.now().Add(-foldMargin).UnixMilli() / minuteMs * minuteMs
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		sealed, err := s.lockSealed(ctx, tx)
		if err != nil || bound <= sealed {
			return err
		}
		var args []any
		err = db.Each(ctx, tx, `SELECT place, at / 3600000 * 3600000, COUNT(*) FROM verifications WHERE at >= $1 AND at < $2
			GROUP BY place, at / 3600000 * 3600000`, []any{sealed, bound}, func(sc db.Scanner) error {
			var place, hour, n int64
			if err := sc.Scan(&place, &hour, &n); err != nil {
				return err
			}
			args = append(args, place, hour, n)
			return nil
		})
		if err != nil {
			return err
		}
		if _, err := addHours.Exec(ctx, tx, s.db.Engine(), args); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`, bound, hoursSealed)
		return err
	})
	if err != nil {
		return fmt.Errorf("checkin: fold verifications: %w", err)
	}
	return nil
}

// addImported adds to the counts, in the importing transaction, the
// imported events (at, place, ... as verification rows) of hours already
// folded, which the fold will not read again.
func (s *Service) addImported(ctx context.Context, tx db.Tx, rows []any) error {
	sealed, err := s.lockSealed(ctx, tx)
	if err != nil {
		return err
	}
	counts := map[[2]int64]int64{}
	for i := 0; i+1 < len(rows); i += 8 {
		at, place := rows[i].(int64), rows[i+1].(int64)
		if at < sealed {
			counts[[2]int64{place, at / hourMs * hourMs}]++
		}
	}
	args := make([]any, 0, 3*len(counts))
	for k, n := range counts {
		args = append(args, k[0], k[1], n)
	}
	_, err = addHours.Exec(ctx, tx, s.db.Engine(), args)
	return err
}

// purgeHours keeps the counts true to the events after a purge before
// cutoff: the hours that ended by then go, and the hour cut in two is
// counted again from the events left, up to the bound if it was folded.
func (s *Service) purgeHours(ctx context.Context, cutoff int64) error {
	cut := cutoff / hourMs * hourMs
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		sealed, err := s.lockSealed(ctx, tx)
		if err != nil {
			return err
		}
		if cutoff == cut {
			_, err := tx.ExecContext(ctx, `DELETE FROM verification_hours WHERE hour < $1`, cut)
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM verification_hours WHERE hour <= $1`, cut); err != nil {
			return err
		}
		if cut >= sealed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO verification_hours (place, hour, n)
			SELECT place, $1, COUNT(*) FROM verifications WHERE at >= $2 AND at < $3 GROUP BY place`, cut, cutoff, min(cut+hourMs, sealed))
		return err
	})
	if err != nil {
		return fmt.Errorf("checkin: purge verification hours: %w", err)
	}
	return nil
}
