package checkin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// presenceTables are the time series retention applies to.
var presenceTables = []string{"checkins", "verifications"}

const (
	dayMs = int64(24 * time.Hour / time.Millisecond)
	// daysAhead is how many days of partitions exist before they are needed,
	// so an hourly purge worker that stops for a while does not send rows to
	// the default partition.
	daysAhead = 3
	// purgeBatch is the rows one SQLite delete removes; at a few
	// milliseconds each, writers queued behind it barely notice.
	purgeBatch = 2000
	// purgeSlice is the span of at one PostgreSQL delete removes from the
	// partially expired day.
	purgeSlice = int64(15 * time.Minute / time.Millisecond)
)

var purgePause = 5 * time.Millisecond

// Purged says what a purge removed.
type Purged struct {
	Rows    int64 // rows deleted one by one
	Days    int   // whole days dropped (PostgreSQL partitions)
	Dropped int64 // rows those days held
}

// Purge removes check-ins and verifications from before cutoff and, on
// PostgreSQL, creates the partitions of the coming days. The retention
// runner calls it (hourly) with now less Config.Retention; it returns the
// rows removed per table, counting those of dropped days.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	if err := s.Prepare(ctx); err != nil {
		return out, err
	}
	for _, table := range presenceTables {
		p, err := s.purgeTable(ctx, table, cutoff)
		out[table] = p.Rows + p.Dropped
		if err != nil {
			return out, err
		}
	}
	return out, s.purgeHours(ctx, cutoff.UnixMilli())
}

// Prepare creates the daily partitions (PostgreSQL) from today to a few
// days ahead. Past days need none: rows are written as they happen (a row
// from a skewed clock lands in the default partition and is purged from
// there). It does nothing on SQLite.
func (s *Service) Prepare(ctx context.Context) error {
	now := s.now()
	return s.EnsureDays(ctx, now, now.Add(daysAhead*24*time.Hour))
}

// EnsureDays creates the daily partitions (PostgreSQL) covering [from, to].
// Rows of those days already in the default partition move to their day.
func (s *Service) EnsureDays(ctx context.Context, from, to time.Time) error {
	if s.db.Engine() != db.Postgres {
		return nil
	}
	for _, table := range presenceTables {
		have, err := s.partitions(ctx, table)
		if err != nil {
			return err
		}
		for d := floorDay(from.UnixMilli()); d <= to.UnixMilli(); d += dayMs {
			if _, ok := have[d]; ok {
				continue
			}
			if err := s.createPartition(ctx, table, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func floorDay(ms int64) int64 {
	if ms < 0 {
		return (ms - dayMs + 1) / dayMs * dayMs
	}
	return ms / dayMs * dayMs
}

func partitionName(table string, day int64) string {
	return table + "_p" + time.UnixMilli(day).UTC().Format("20060102")
}

// partitions maps each existing daily partition's first millisecond to its name.
func (s *Service) partitions(ctx context.Context, table string) (map[int64]string, error) {
	out := map[int64]string{}
	err := db.Each(ctx, s.db, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = $1::regclass`, []any{table}, func(sc db.Scanner) error {
		var name string
		if err := sc.Scan(&name); err != nil {
			return err
		}
		day, ok := strings.CutPrefix(name, table+"_p")
		if !ok {
			return nil // the default partition
		}
		if t, err := time.Parse("20060102", day); err == nil {
			out[t.UnixMilli()] = name
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checkin: list partitions of %s: %w", table, err)
	}
	return out, nil
}

// createPartition adds one day. The table is made standalone, filled with
// that day's rows from the default partition, then attached: ATTACH takes a
// lock that lets inserts and reads on the parent go on, where CREATE TABLE
// ... PARTITION OF would block them.
func (s *Service) createPartition(ctx context.Context, table string, day int64) error {
	name := partitionName(table, day)
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// Nodes starting together would otherwise race to create the same day.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7274322)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		lo, hi := day, day+dayMs
		stmts := []string{
			fmt.Sprintf(`CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`, name, table),
			fmt.Sprintf(`WITH moved AS (DELETE FROM %s_default WHERE at >= %d AND at < %d RETURNING *) INSERT INTO %s SELECT * FROM moved`,
				table, lo, hi, name),
			fmt.Sprintf(`ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)`, table, name, lo, hi),
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("checkin: create partition %s: %w", name, err)
	}
	return nil
}

// PurgeBefore deletes the check-ins and verifications from before cutoff,
// exactly: a row at cutoff stays. PostgreSQL drops whole days that ended by
// the cutoff and deletes the rest of the cut day in short time slices;
// SQLite deletes in small batches. Neither holds a lock for long.
func (s *Service) PurgeBefore(ctx context.Context, cutoff time.Time) (Purged, error) {
	if err := s.flushJournal(ctx, true); err != nil {
		return Purged{}, err
	}
	var total Purged
	for _, table := range presenceTables {
		p, err := s.purgeTable(ctx, table, cutoff)
		total.Rows += p.Rows
		total.Days += p.Days
		total.Dropped += p.Dropped
		if err != nil {
			return total, err
		}
	}
	return total, s.purgeHours(ctx, cutoff.UnixMilli())
}

func (s *Service) purgeTable(ctx context.Context, table string, cutoff time.Time) (Purged, error) {
	if s.db.Engine() == db.Postgres {
		return s.purgePostgres(ctx, table, cutoff.UnixMilli())
	}
	var p Purged
	var err error
	p.Rows, err = s.purgeSQLite(ctx, table, cutoff.UnixMilli())
	return p, err
}

func (s *Service) purgeSQLite(ctx context.Context, table string, cutoff int64) (int64, error) {
	var total int64
	for {
		// The at of the purgeBatch-th oldest expired row bounds this batch.
		upper, last := cutoff, false
		var bound int64
		err := s.db.QueryRowContext(ctx, `SELECT at FROM `+table+` WHERE at < $1 ORDER BY at LIMIT 1 OFFSET $2`,
			cutoff, purgeBatch-1).Scan(&bound)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			last = true
		case err != nil:
			return total, fmt.Errorf("checkin: purge %s: %w", table, err)
		default:
			upper = bound + 1
		}
		res, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE at < $1`, upper)
		if err != nil {
			return total, fmt.Errorf("checkin: purge %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		total += n
		if last {
			return total, nil
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(purgePause):
		}
	}
}

func (s *Service) purgePostgres(ctx context.Context, table string, cutoff int64) (Purged, error) {
	var p Purged
	have, err := s.partitions(ctx, table)
	if err != nil {
		return p, err
	}
	days := make([]int64, 0, len(have))
	for d := range have {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, d := range days {
		if d+dayMs > cutoff {
			break
		}
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			// Dropping a partition needs a brief exclusive lock on the parent;
			// rather than queue behind a long query (and block everyone queued
			// behind us), give up and try again at the next purge.
			if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '2s'`); err != nil {
				return err
			}
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+have[d]).Scan(&n); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DROP TABLE `+have[d]); err != nil {
				return err
			}
			p.Dropped += n
			return nil
		})
		if err != nil {
			return p, fmt.Errorf("checkin: drop partition %s: %w", have[d], err)
		}
		p.Days++
	}
	// The default partition holds only rows of days that had no partition
	// (a skewed clock): few, so one statement.
	res, err := s.db.ExecContext(ctx, `DELETE FROM `+table+`_default WHERE at < $1`, cutoff)
	if err != nil {
		return p, fmt.Errorf("checkin: purge %s_default: %w", table, err)
	}
	n, _ := res.RowsAffected()
	p.Rows += n
	for lo := floorDay(cutoff); lo < cutoff; lo += purgeSlice {
		res, err := s.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE at >= $1 AND at < $2`, lo, min(lo+purgeSlice, cutoff))
		if err != nil {
			return p, fmt.Errorf("checkin: purge %s: %w", table, err)
		}
		n, _ := res.RowsAffected()
		p.Rows += n
	}
	return p, nil
}

// CountVerifications counts the verifications recorded with a time in
// [from, to), for the audit log's signed heads, which add them up window
// after window: a total over the table would fall when Purge runs.
func (s *Service) CountVerifications(ctx context.Context, from, to time.Time) (int64, error) {
	if err := s.flush(ctx); err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM verifications WHERE at >= $1 AND at < $2`,
		from.UnixMilli(), to.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("checkin: count verifications: %w", err)
	}
	return n, nil
}
