package status

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// purgePeople is how many persons' facts one purge transaction rewrites.
const purgePeople = 500

// PurgeFacts deletes the facts that ended before cutoff (recorded before it
// and, when they last, lasting no further) and the colour history from
// before it. Each person's fact pack is rewritten under their status row
// lock, as RebuildPacks does, and made due for evaluation: a colour that
// rested on a purged fact (a fever long ago with no test since) is decided
// again by the scheduler on what remains.
func (s *Service) PurgeFacts(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{"facts": 0, "status_changes": 0}
	c, now := cutoff.UnixMilli(), s.now().UnixMilli()
	for {
		people, err := db.Collect(ctx, s.db, `SELECT f.person_num, COALESCE(MIN(p.region_code), '') FROM facts f
			LEFT JOIN persons p ON p.num = f.person_num
			WHERE f.at < $1 AND COALESCE(f.until_at, 0) < $1
			GROUP BY f.person_num ORDER BY f.person_num LIMIT $2`, []any{c, purgePeople}, func(sc db.Scanner) (personRef, error) { return scanPersonRef(sc) })
		if err != nil {
			return out, fmt.Errorf("status: purge facts: %w", err)
		}
		if len(people) == 0 {
			break
		}
		ns := nums(people)
		err = s.db.InTx(ctx, func(tx db.Tx) error {
			if _, err := s.lockRows(ctx, tx, people); err != nil {
				return err
			}
			n, err := db.ExecIn(ctx, tx, s.db.Engine(), `DELETE FROM facts WHERE at < $1 AND COALESCE(until_at, 0) < $1 AND person_num IN `,
				[]any{c}, ns, ``)
			if err != nil {
				return err
			}
			out["facts"] += n
			if _, err := db.ExecIn(ctx, tx, s.db.Engine(), `DELETE FROM fact_packs WHERE person_num IN `, nil, ns, ``); err != nil {
				return err
			}
			if _, err := db.ExecIn(ctx, tx, s.db.Engine(), `UPDATE status SET next_eval_at = $1 WHERE person_num IN `, []any{now}, ns, ``); err != nil {
				return err
			}
			facts, err := s.factRowsOf(ctx, tx, ns)
			if err != nil {
				return err
			}
			return s.appendPacks(ctx, tx, nil, facts, false)
		})
		if err != nil {
			return out, fmt.Errorf("status: purge facts: %w", err)
		}
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM status_changes WHERE at < $1`, c)
	if err != nil {
		return out, fmt.Errorf("status: purge colour history: %w", err)
	}
	out["status_changes"], _ = res.RowsAffected()
	return out, nil
}

// PurgeAppeals deletes the appeals settled (or, still pending, filed) before
// cutoff whose granted period, if any, ended before it too.
func (s *Service) PurgeAppeals(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM appeals WHERE COALESCE(decided_at, created_at) < $1 AND COALESCE(until_at, 0) < $1`,
		cutoff.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("status: purge appeals: %w", err)
	}
	n, _ := res.RowsAffected()
	return map[string]int64{"appeals": n}, nil
}

// PurgeNotifications deletes the colour-change notices queued before
// cutoff, sent or not: one still pending that long has nobody to reach.
// So are the runs of changes queued before it.
func (s *Service) PurgeNotifications(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM notifications WHERE created_at < $1`, cutoff.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("status: purge notifications: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = s.db.ExecContext(ctx, `DELETE FROM notification_runs WHERE created_at < $1`, cutoff.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("status: purge notifications: %w", err)
	}
	runs, _ := res.RowsAffected()
	return map[string]int64{"notifications": n, "notification_runs": runs}, nil
}
