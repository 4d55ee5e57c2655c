package tracing

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the follow-up tasks opened before cutoff, visited or not,
// and the runs (with their reports, which list companions) started before
// it and no longer running; with a cutoff past now (the wind-down), every
// run.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c, all := cutoff.UnixMilli(), cutoff.After(s.now())
	out := map[string]int64{}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// The tasks are locked first, in the persons' order, as the follower
		// writes them (FollowChanges): the DELETE finds them in the table's order
		// and waited for a follower that waited for it.
		if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT id FROM followup_tasks WHERE created_at < $1 ORDER BY person_num, id FOR UPDATE`, c); err != nil {
			return fmt.Errorf("followup_tasks: %w", err)
		}
		for _, st := range []struct {
			table, query string
			args         []any
		}{
			{"followup_tasks", `DELETE FROM followup_tasks WHERE created_at < $1`, []any{c}},
			{"tracing_reports", `DELETE FROM tracing_reports WHERE run_id IN
				(SELECT id FROM tracing_runs WHERE created_at < $1 AND ($2 OR status IN ('done', 'failed')))`, []any{c, all}},
			{"tracing_runs", `DELETE FROM tracing_runs WHERE created_at < $1 AND ($2 OR status IN ('done', 'failed'))`, []any{c, all}},
		} {
			res, err := tx.ExecContext(ctx, st.query, st.args...)
			if err != nil {
				return fmt.Errorf("%s: %w", st.table, err)
			}
			out[st.table], _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return map[string]int64{}, fmt.Errorf("tracing: purge: %w", err)
	}
	return out, nil
}
