package nat

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// nat_tested keeps, per resident, the sampling time of the latest sample
// whose tube is negative and of the latest whose tube awaits its result, so
// that the untested residents are counted from the residents tested in the
// window rather than from the window's samples, each looked up in its tube
// and its person (a second and more at a million residents). It changes in
// the transactions that change what it summarises: a sample bound, a result
// reported or corrected, history imported, samples purged. Beside it,
// nat_negative_hours counts its rows per city and hour of last_negative,
// changed wherever last_negative changes (retally, the purge), so that a
// province's count reads a row per city and hour of the window.

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
// their tubes' current results, and moves their negatives between the
// hours of nat_negative_hours. The rows are locked first, in order, by a
// statement of their own: on PostgreSQL each statement reads what had
// committed when it began, so the recount that follows the lock sees every
// result of a transaction that held the lock before, and the last of two
// transactions changing the same person's tubes writes what both did. The
// lock leaves the row as it is (the update sets the region), so that the
// negatives read after it are those the hours count.
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
		` ORDER BY p.num ON CONFLICT (person_num) DO UPDATE SET region_code = nat_tested.region_code`); err != nil {
		return fmt.Errorf("nat: lock tested: %w", err)
	}
	hours := map[hourKey]int64{}
	if err := negativeHours(ctx, tx, e, nums, -1, hours); err != nil {
		return err
	}
	if _, err := db.ExecIn(ctx, tx, e, `UPDATE nat_tested SET
			region_code = (SELECT p.region_code FROM persons p WHERE p.num = nat_tested.person_num),
			(last_negative, last_pending) = (
			SELECT MAX(CASE WHEN t.result = 'negative' THEN s.sampled_at END), MAX(CASE WHEN t.result IS NULL THEN s.sampled_at END)
			FROM nat_samples s JOIN nat_tubes t ON t.barcode = s.barcode WHERE s.person_num = nat_tested.person_num)
		WHERE person_num IN `, nil, nums, ``); err != nil {
		return fmt.Errorf("nat: recount tested: %w", err)
	}
	if _, err := db.ExecIn(ctx, tx, e, `DELETE FROM nat_tested WHERE last_negative IS NULL AND last_pending IS NULL AND person_num IN `,
		nil, nums, ``); err != nil {
		return fmt.Errorf("nat: drop untested: %w", err)
	}
	if err := negativeHours(ctx, tx, e, nums, 1, hours); err != nil {
		return err
	}
	return addNegativeHours(ctx, tx, e, hours)
}

// hourMillis is the length of an hour of nat_negative_hours, in ms.
const hourMillis = int64(time.Hour / time.Millisecond)

// hourOf is the start of the hour of at (unix ms), as the SQL of migration
// 4751 computes it (integer division; the times are after 1970).
func hourOf(at int64) int64 { return at / hourMillis * hourMillis }

// hourKey is a row of nat_negative_hours.
type hourKey struct {
	city string
	hour int64
}

// cityOf is the city a region code lies in, as nat_negative_hours keys it
// (migration 4756): its first four digits, or the whole of a shorter code.
func cityOf(region string) string { return region[:min(len(region), 4)] }

// negativeHours adds sign to the hour of each of the persons' kept
// negatives.
func negativeHours(ctx context.Context, tx db.Querier, e db.Engine, nums []int64, sign int64, into map[hourKey]int64) error {
	err := db.QueryIn(ctx, tx, e, `SELECT region_code, last_negative FROM nat_tested WHERE last_negative IS NOT NULL AND person_num IN `,
		nil, nums, ``, func(sc db.Scanner) error {
			var region string
			var at int64
			if err := sc.Scan(&region, &at); err != nil {
				return err
			}
			k := hourKey{city: cityOf(region), hour: hourOf(at)}
			into[k] += sign
			return nil
		})
	if err != nil {
		return fmt.Errorf("nat: negatives of the tested: %w", err)
	}
	return nil
}

// upsertNegativeHours adds to the hours' counts and says what each became.
var upsertNegativeHours = db.Insert{Head: `INSERT INTO nat_negative_hours (city_code, hour, n) VALUES `, Cols: 3,
	Tail: ` ON CONFLICT (city_code, hour) DO UPDATE SET n = nat_negative_hours.n + excluded.n RETURNING city_code, hour, n`}

// addNegativeHours adds n (negative: takes) to each hour's count, in the
// keys' order: two transactions that count the same hours take the rows'
// locks in the same order, and neither waits for the other while holding a
// row the other holds (PostgreSQL would end one as a deadlock). An hour
// left with none goes, so that the hours of a window are those with
// negatives. (Below none only a row written around the service can take
// it; it goes too rather than stay wrong.)
func addNegativeHours(ctx context.Context, tx db.Querier, e db.Engine, counts map[hourKey]int64) error {
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b hourKey) int {
		return cmp.Or(strings.Compare(a.city, b.city), cmp.Compare(a.hour, b.hour))
	})
	args := make([]any, 0, 3*len(keys))
	for _, k := range keys {
		if n := counts[k]; n != 0 {
			args = append(args, k.city, k.hour, n)
		}
	}
	if len(args) == 0 {
		return nil
	}
	var empty []hourKey
	err := upsertNegativeHours.Query(ctx, tx, e, args, func(sc db.Scanner) error {
		var k hourKey
		var n int64
		if err := sc.Scan(&k.city, &k.hour, &n); err != nil {
			return err
		}
		if n <= 0 {
			empty = append(empty, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("nat: count negatives per hour: %w", err)
	}
	for _, k := range empty {
		if _, err := tx.ExecContext(ctx, `DELETE FROM nat_negative_hours WHERE city_code = $1 AND hour = $2 AND n <= 0`, k.city, k.hour); err != nil {
			return fmt.Errorf("nat: drop an hour of no negatives: %w", err)
		}
	}
	return nil
}

// purgeNegativeHours follows the retention purge's steps for nat_tested
// (c, the cutoff in unix ms): the hours wholly before the cutoff go, and the
// hour the cutoff cuts, whose negatives before it were cleared, is counted
// again from nat_tested. (A db.Deletion is one statement on the cutoff
// alone; the recount is two, on the cutoff's hour.) It says how many rows
// of hours gone it deleted.
func purgeNegativeHours(ctx context.Context, tx db.Querier, c int64) (int64, error) {
	h := hourOf(c)
	res, err := tx.ExecContext(ctx, `DELETE FROM nat_negative_hours WHERE hour < $1`, h)
	if err != nil {
		return 0, fmt.Errorf("nat: purge negatives per hour: %w", err)
	}
	n, _ := res.RowsAffected()
	if h == c {
		return n, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM nat_negative_hours WHERE hour = $1`, h); err != nil {
		return 0, fmt.Errorf("nat: recount the cutoff's hour: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO nat_negative_hours (city_code, hour, n)
		SELECT substr(region_code, 1, 4), $1, COUNT(*) FROM nat_tested WHERE last_negative >= $2 AND last_negative < $3
		GROUP BY substr(region_code, 1, 4)`, h, c, h+hourMillis); err != nil {
		return 0, fmt.Errorf("nat: recount the cutoff's hour: %w", err)
	}
	return n, nil
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
