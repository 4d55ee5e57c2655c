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
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "cc_exposures", Query: `DELETE FROM cc_exposures WHERE handled_at < $1`},
		db.Deletion{Table: "cc_handlings", Query: `DELETE FROM cc_handlings WHERE at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("coldchain: purge handlers' scans and exposures: %w", err)
	}
	return out, nil
}
