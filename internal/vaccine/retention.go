package vaccine

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes appointments and dose records older than cutoff, for the retention runner and
// the wind-down; it says how many rows of each table went.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	out := map[string]int64{}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for _, st := range []struct{ table, query string }{
			{"vac_appointments", `DELETE FROM vac_appointments WHERE starts_at < $1`},
			{"vac_doses", `DELETE FROM vac_doses WHERE given_at < $1`},
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
		return map[string]int64{}, fmt.Errorf("vaccine: purge appointments and dose records: %w", err)
	}
	return out, nil
}
