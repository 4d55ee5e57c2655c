package clinic

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the visits closed (or, still open, made) before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "clinic_visits", Query: `DELETE FROM clinic_visits WHERE COALESCE(closed_at, at) < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("clinic: purge: %w", err)
	}
	return out, nil
}
