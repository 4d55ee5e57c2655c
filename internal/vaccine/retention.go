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
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "vac_appointments", Query: `DELETE FROM vac_appointments WHERE starts_at < $1`},
		db.Deletion{Table: "vac_doses", Query: `DELETE FROM vac_doses WHERE given_at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("vaccine: purge appointments and dose records: %w", err)
	}
	return out, nil
}
