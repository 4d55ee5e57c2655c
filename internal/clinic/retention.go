package clinic

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the visits closed (or, still open, made) before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, st := range []struct{ table, query string }{
		{"clinic_visits", `DELETE FROM clinic_visits WHERE COALESCE(closed_at, at) < $1`},
	} {
		res, err := s.db.ExecContext(ctx, st.query, cutoff.UnixMilli())
		if err != nil {
			return out, fmt.Errorf("clinic: purge %s: %w", st.table, err)
		}
		out[st.table], _ = res.RowsAffected()
	}
	return out, nil
}
