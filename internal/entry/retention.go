package entry

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes arrivals older than cutoff, for the retention runner and
// the wind-down; it says how many rows of each table went.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "arrivals", Query: `DELETE FROM arrivals WHERE arrived_at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("entry: purge arrivals: %w", err)
	}
	return out, nil
}
