package nat

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the test records of persons from before cutoff: samples
// taken, follow-up tasks opened and alerts raised before it, then the
// results of tubes left with no sample. Sites, tubes and transfers stay:
// they name no one, and the lab statistics count them.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	out := map[string]int64{}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for _, st := range []struct{ table, query string }{
			{"nat_samples", `DELETE FROM nat_samples WHERE sampled_at < $1`},
			{"nat_tasks", `DELETE FROM nat_tasks WHERE COALESCE(closed_at, created_at) < $1`},
			{"nat_alerts", `DELETE FROM nat_alerts WHERE created_at < $1`},
			{"nat_results", `DELETE FROM nat_results WHERE reported_at < $1
				AND NOT EXISTS (SELECT 1 FROM nat_samples s WHERE s.barcode = nat_results.barcode)`},
		} {
			res, err := tx.ExecContext(ctx, st.query, c)
			if err != nil {
				return fmt.Errorf("%s: %w", st.table, err)
			}
			out[st.table], _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return map[string]int64{}, fmt.Errorf("nat: purge test records: %w", err)
	}
	return out, nil
}
