package nat

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Purge deletes the test records of persons from before cutoff: samples
// taken, follow-up tasks opened and alerts raised before it, then the
// results of tubes left with no sample, and what is kept of the samples
// gone (nat_tested, nat_negative_hours, nat_swabs). Sites, tubes and
// transfers stay: they name no one, and the lab statistics count them.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	c := cutoff.UnixMilli()
	dels := []db.Deletion{
		{Table: "nat_samples", Query: `DELETE FROM nat_samples WHERE sampled_at < $1`},
		{Table: "nat_tasks", Query: `DELETE FROM nat_tasks WHERE COALESCE(closed_at, created_at) < $1`},
		{Table: "nat_alerts", Query: `DELETE FROM nat_alerts WHERE created_at < $1`},
		{Table: "nat_results", Query: `DELETE FROM nat_results WHERE reported_at < $1
			AND NOT EXISTS (SELECT 1 FROM nat_samples s WHERE s.barcode = nat_results.barcode)`},
	}
	out := map[string]int64{}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// Whether the purge takes samples of the cutoff's own day, whose
		// swab counts must then be recounted.
		var cut int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM nat_samples WHERE sampled_at >= $1 AND sampled_at < $2 LIMIT 1) x`,
			s.day(cutoff), c).Scan(&cut); err != nil {
			return err
		}
		// The rows of nat_tested the purge changes are locked first, in the
		// residents' order, as result reporting locks them (retally): the
		// statements below find them through the indexes of the times, in the
		// times' order, and waited for a report that waited for them.
		if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT person_num FROM nat_tested WHERE last_negative < $1 OR last_pending < $1
			ORDER BY person_num FOR UPDATE`, c); err != nil {
			return fmt.Errorf("nat_tested: %w", err)
		}
		for _, del := range append(dels, purgeTested...) {
			res, err := tx.ExecContext(ctx, del.Query, c)
			if err != nil {
				return fmt.Errorf("%s: %w", del.Table, err)
			}
			out[del.Table], _ = res.RowsAffected()
		}
		n, err := purgeNegativeHours(ctx, tx, c)
		if err != nil {
			return err
		}
		out["nat_negative_hours"] = n
		n, err = s.purgeSwabs(ctx, tx, c, cut > 0)
		out["nat_swabs"] = n
		return err
	})
	if err != nil {
		return map[string]int64{}, fmt.Errorf("nat: purge test records: %w", err)
	}
	return out, nil
}
