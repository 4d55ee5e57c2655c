package status

import (
	"context"
	"fmt"
	"sort"

	"github.com/healthcode/healthcode/internal/db"
)

// RunDue re-evaluates every person whose next evaluation time has come (a
// close contact's 14 days are over, an isolation order ends, an appeal
// expires), without any request. The server runs it every second on every
// node.
//
// Several nodes may run it at once: each batch selects due rows with FOR
// UPDATE SKIP LOCKED on PostgreSQL, so a row is claimed by exactly one
// transaction, and the claimant moves next_eval_at forward before it
// commits; a node that was waiting sees the row no longer due. So each
// change is logged, and notified, once. (On SQLite one writer at a time
// gives the same.)
func (s *Service) RunDue(ctx context.Context) error {
	_, err := s.runDue(ctx)
	return err
}

func (s *Service) runDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		n, err := s.dueBatch(ctx)
		total += n
		if err != nil || n < s.cfg.Batch {
			return total, err
		}
	}
	return total, ctx.Err()
}

func (s *Service) dueBatch(ctx context.Context) (int, error) {
	var w written
	n := 0
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		ver, prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		cur := map[int64]row{}
		var people []personRef
		err = db.Each(ctx, tx, `SELECT `+rowCols+` FROM status WHERE next_eval_at <= $1
			ORDER BY next_eval_at LIMIT $2`+s.forUpdate(true), []any{now.UnixMilli(), s.cfg.Batch}, func(sc db.Scanner) error {
			r, err := scanRow(sc)
			if err != nil {
				return err
			}
			cur[r.num] = r
			people = append(people, personRef{num: r.num, region: r.region})
			return nil
		})
		if err != nil {
			return fmt.Errorf("status: claim due rows: %w", err)
		}
		n = len(people)
		if n == 0 {
			return nil
		}
		sort.Slice(people, func(i, j int) bool { return people[i].num < people[j].num })
		facts, _, err := s.packsOf(ctx, tx, nums(people))
		if err != nil {
			return err
		}
		ds, err := s.evaluate(prog, people, facts, now)
		if err != nil {
			return err
		}
		w, err = s.write(ctx, tx, ver, people, cur, ds, now, CauseTime, absentLocked)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.applyLocal(w)
	s.metrics.dueEvals.Add(float64(n))
	return n, nil
}
