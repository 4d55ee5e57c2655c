package pharmacy

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the purchases made before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, st := range []struct{ table, query string }{
		{"pharmacy_purchases", `DELETE FROM pharmacy_purchases WHERE at < $1`},
	} {
		res, err := s.db.ExecContext(ctx, st.query, cutoff.UnixMilli())
		if err != nil {
			return out, fmt.Errorf("pharmacy: purge %s: %w", st.table, err)
		}
		out[st.table], _ = res.RowsAffected()
	}
	return out, nil
}
