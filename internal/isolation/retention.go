package isolation

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes stays that ended (or were planned to end) before cutoff with
// their readings, and transfers dispatched before it with their trails, for
// the retention runner and the wind-down; it says how many rows of each
// table went. Sites and rooms hold no personal data and stay.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	const old = `SELECT id FROM iso_stays WHERE COALESCE(ended_at, until_at) < $1`
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "iso_readings", Query: `DELETE FROM iso_readings WHERE stay_id IN (` + old + `)`},
		db.Deletion{Table: "iso_stays", Query: `DELETE FROM iso_stays WHERE COALESCE(ended_at, until_at) < $1`},
		db.Deletion{Table: "iso_transfer_steps", Query: `DELETE FROM iso_transfer_steps WHERE transfer_id IN
			(SELECT id FROM iso_transfers WHERE created_at < $1)`},
		db.Deletion{Table: "iso_transfers", Query: `DELETE FROM iso_transfers WHERE created_at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("isolation: purge stays and transfers: %w", err)
	}
	return out, nil
}
