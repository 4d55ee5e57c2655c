package codes

import (
	"context"
	"fmt"
	"time"
)

// Purge deletes the care codes issued before cutoff that expired before it
// too; their sealed text names the holder.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	res, err := s.DB.ExecContext(ctx, `DELETE FROM care_codes WHERE issued_at < $1 AND expires_at < $1`, c)
	if err != nil {
		return nil, fmt.Errorf("codes: purge care codes: %w", err)
	}
	n, _ := res.RowsAffected()
	return map[string]int64{"care_codes": n}, nil
}
