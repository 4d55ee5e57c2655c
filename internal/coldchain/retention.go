package coldchain

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes handlers' scans and exposures older than cutoff, for the retention runner and
// the wind-down; it says how many rows of each table went.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	out := map[string]int64{}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for _, st := range []struct{ table, query string }{
			{"cc_exposures", `DELETE FROM cc_exposures WHERE handled_at < $1`},
			{"cc_handlings", `DELETE FROM cc_handlings WHERE at < $1`},
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
		return map[string]int64{}, fmt.Errorf("coldchain: purge handlers' scans and exposures: %w", err)
	}
	return out, nil
}
