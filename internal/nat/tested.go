package nat

import (
	"context"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
)

// nat_tested keeps, per resident, the sampling time of the latest sample
// whose tube is negative and of the latest whose tube awaits its result, so
// that the untested residents are counted from the residents tested in the
// window rather than from the window's samples, each looked up in its tube
// and its person (a second and more at a million residents). It changes in
// the transactions that change what it summarises: a sample bound, a result
// reported or corrected, history imported, samples purged.

// noteSampled keeps a new swab, which awaits its result, as the person's
// latest pending sample unless a later one is kept already.
func noteSampled(ctx context.Context, tx db.Querier, num int64, region string, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO nat_tested (person_num, region_code, last_pending) VALUES ($1, $2, $3)
		ON CONFLICT (person_num) DO UPDATE SET last_pending = CASE
			WHEN nat_tested.last_pending IS NULL OR nat_tested.last_pending < excluded.last_pending THEN excluded.last_pending
			ELSE nat_tested.last_pending END`, num, region, at)
	if err != nil {
		return fmt.Errorf("nat: note sample: %w", err)
	}
	return nil
}

// retallyTubes recomputes the kept times of everyone sampled into the
// tubes, after their results changed.
func (s *Service) retallyTubes(ctx context.Context, tx db.Querier, barcodes []string) error {
	var nums []int64
	err := db.QueryIn(ctx, tx, s.db.Engine(), `SELECT person_num FROM nat_samples WHERE barcode IN `, nil, barcodes, ``,
		func(sc db.Scanner) error {
			var n int64
			err := sc.Scan(&n)
			nums = append(nums, n)
			return err
		})
	if err != nil {
		return fmt.Errorf("nat: persons of the tubes: %w", err)
	}
	return s.retally(ctx, tx, nums)
}

// retally recomputes the kept times of the persons from their samples and
// their tubes' current results. The rows are locked first, in order, by a
// statement of their own: on PostgreSQL each statement reads what had
// committed when it began, so the recount that follows the lock sees every
// result of a transaction that held the lock before, and the last of two
// transactions changing the same person's tubes writes what both did.
func (s *Service) retally(ctx context.Context, tx db.Querier, nums []int64) error {
	if len(nums) == 0 {
		return nil
	}
	nums = slices.Clone(nums)
	slices.Sort(nums)
	nums = slices.Compact(nums)
	e := s.db.Engine()
	if _, err := db.ExecIn(ctx, tx, e, `INSERT INTO nat_tested (person_num, region_code)
		SELECT p.num, p.region_code FROM persons p WHERE p.num IN `, nil, nums,
		` ORDER BY p.num ON CONFLICT (person_num) DO UPDATE SET region_code = excluded.region_code`); err != nil {
		return fmt.Errorf("nat: lock tested: %w", err)
	}
	if _, err := db.ExecIn(ctx, tx, e, `UPDATE nat_tested SET (last_negative, last_pending) = (
			SELECT MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END), MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END)
			FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode WHERE s.person_num = nat_tested.person_num)
		WHERE person_num IN `, nil, nums, ``); err != nil {
		return fmt.Errorf("nat: recount tested: %w", err)
	}
	if _, err := db.ExecIn(ctx, tx, e, `DELETE FROM nat_tested WHERE last_negative IS NULL AND last_pending IS NULL AND person_num IN `,
		nil, nums, ``); err != nil {
		return fmt.Errorf("nat: drop untested: %w", err)
	}
	return nil
}

// purgeTested are the retention purge's steps for nat_tested, after the
// samples: a time older than the cutoff names a sample the purge deleted,
// and, being the person's latest of its kind, every other of that kind too.
// A row whose times are both that old goes; otherwise the old time is
// cleared. Each reads the index of its time.
var purgeTested = []db.Deletion{
	{Table: "nat_tested", Query: `DELETE FROM nat_tested WHERE person_num IN (
		SELECT person_num FROM nat_tested WHERE last_negative < $1 AND (last_pending IS NULL OR last_pending < $1)
		UNION SELECT person_num FROM nat_tested WHERE last_pending < $1 AND last_negative IS NULL)`},
	{Table: "nat_tested.last_negative", Query: `UPDATE nat_tested SET last_negative = NULL WHERE last_negative < $1`},
	{Table: "nat_tested.last_pending", Query: `UPDATE nat_tested SET last_pending = NULL WHERE last_pending < $1`},
}
