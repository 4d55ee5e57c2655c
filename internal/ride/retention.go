package ride

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the ride handles withdrawn before cutoff, and those granted
// before it and never withdrawn: a grant that old is forgotten, and the
// passenger grants again.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, st := range []struct{ table, query string }{
		{"ride_handles", `DELETE FROM ride_handles WHERE COALESCE(withdrawn_at, granted_at) < $1`},
	} {
		res, err := s.db.ExecContext(ctx, st.query, cutoff.UnixMilli())
		if err != nil {
			return out, fmt.Errorf("ride: purge %s: %w", st.table, err)
		}
		out[st.table], _ = res.RowsAffected()
	}
	return out, nil
}
