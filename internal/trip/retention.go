package trip

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the carrier's stays that ended before cutoff, for the
// retention runner and the wind-down.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.d.DB, cutoff,
		db.Deletion{Table: "trip_stays", Query: `DELETE FROM trip_stays WHERE last_seen < $1`})
	if err != nil {
		return out, fmt.Errorf("trip: purge stays: %w", err)
	}
	return out, nil
}
