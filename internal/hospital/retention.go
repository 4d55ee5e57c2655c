package hospital

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the identity handoffs and queue tickets from before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, st := range []struct{ table, query string }{
		{"hospital_handoffs", `DELETE FROM hospital_handoffs WHERE at < $1`},
		{"hospital_tickets", `DELETE FROM hospital_tickets WHERE at < $1`},
	} {
		res, err := s.db.ExecContext(ctx, st.query, cutoff.UnixMilli())
		if err != nil {
			return out, fmt.Errorf("hospital: purge %s: %w", st.table, err)
		}
		out[st.table], _ = res.RowsAffected()
	}
	return out, nil
}
