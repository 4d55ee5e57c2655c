package nat

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the test records of persons from before cutoff: samples
// taken, follow-up tasks opened and alerts raised before it, then the
// results of tubes left with no sample, and the kept sampling times
// (nat_tested) of the samples gone. Sites, tubes and transfers stay:
// they name no one, and the lab statistics count them.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	dels := []db.Deletion{
		{Table: "nat_samples", Query: `DELETE FROM nat_samples WHERE sampled_at < $1`},
		{Table: "nat_tasks", Query: `DELETE FROM nat_tasks WHERE COALESCE(closed_at, created_at) < $1`},
		{Table: "nat_alerts", Query: `DELETE FROM nat_alerts WHERE created_at < $1`},
		{Table: "nat_results", Query: `DELETE FROM nat_results WHERE reported_at < $1
			AND NOT EXISTS (SELECT 1 FROM nat_samples s WHERE s.barcode = nat_results.barcode)`},
	}
	out, err := db.DeleteBefore(ctx, s.db, cutoff, append(dels, purgeTested...)...)
	if err != nil {
		return out, fmt.Errorf("nat: purge test records: %w", err)
	}
	return out, nil
}
