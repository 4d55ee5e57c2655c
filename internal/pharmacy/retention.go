package pharmacy

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the purchases made before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "pharmacy_purchases", Query: `DELETE FROM pharmacy_purchases WHERE at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("pharmacy: purge: %w", err)
	}
	return out, nil
}
