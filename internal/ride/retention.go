package ride

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the ride handles withdrawn before cutoff, and those granted
// before it and never withdrawn: a grant that old is forgotten, and the
// passenger grants again.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "ride_handles", Query: `DELETE FROM ride_handles WHERE COALESCE(withdrawn_at, granted_at) < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("ride: purge: %w", err)
	}
	return out, nil
}
