package hospital

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the identity handoffs and queue tickets from before cutoff.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "hospital_handoffs", Query: `DELETE FROM hospital_handoffs WHERE at < $1`},
		db.Deletion{Table: "hospital_tickets", Query: `DELETE FROM hospital_tickets WHERE at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("hospital: purge: %w", err)
	}
	return out, nil
}
