package nat

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// TestCoverageCountsKeepTheirIndexes asks PostgreSQL how it plans each
// count of nat_tested in the plan a prepared statement settles on after five
// runs (the generic plan, made once for every value): a town's counts read
// its range of regions, a province's the window's range of times, whatever
// scope ran the statement before. The statements' texts differ by scope for
// this: with the same text, a town's count was planned as the province's and
// read the whole window (17 ms for 1,800 residents at 3M, 77 ms at 10M).
func TestCoverageCountsKeepTheirIndexes(t *testing.T) {
	d := dbtest.NewPostgres(t)
	ctx := context.Background()
	s := &Service{db: d}
	// 200,000 tested residents over 1,000 towns and a month; persons are
	// not needed for a plan, so the foreign key is not checked.
	if _, err := d.Writer().ExecContext(ctx, `SET session_replication_role = replica;
		INSERT INTO nat_tested (person_num, region_code, last_negative, last_pending)
		SELECT i, '341881' || lpad((i % 1000)::text, 3, '0'), CASE WHEN i % 5 <> 0 THEN 1700000000000 + i::bigint * 13000 END,
			CASE WHEN i % 5 = 0 THEN 1700000000000 + i::bigint * 13000 END
		FROM generate_series(1, 200000) AS i;
		SET session_replication_role = DEFAULT;
		ANALYZE nat_tested`); err != nil {
		t.Fatal(err)
	}
	since, until := int64(1700000000000+150000*13000), int64(1700000000000+160000*13000)
	for _, c := range []struct {
		name, lo, hi, col, index string
		sql                      func(tcol, region, hi string) string
	}{
		{"a town's negatives", "341881007", "341881008", "last_negative", "nat_tested_region", negativesSQL},
		{"a town's pending", "341881007", "341881008", "last_pending", "nat_tested_region", pendingSQL},
		{"a county's negatives", "341881", "341882", "last_negative", "nat_tested_region", negativesSQL},
		{"the province's negatives at an edge", "34", "", "last_negative", "nat_tested_negative", negativesSQL},
		{"the province's pending", "34", "", "last_pending", "nat_tested_pending", pendingSQL},
	} {
		tcol, region, err := s.testedColumns(ctx, c.lo, c.col, since)
		if err != nil {
			t.Fatal(err)
		}
		plan := dbtest.GenericPlan(t, d, c.sql(tcol, region, c.hi), since, until, c.lo, c.hi)
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: not read through %s:\n%s", c.name, c.index, plan)
		}
	}
}

// TestSQLiteCountsPendingACodeAtATime asks SQLite how it runs a province's
// and a town's counts of the residents awaiting a result: a seek per region
// code to the code's window in nat_tested_region, with nothing sorted. Read
// as a range of codes grouped by region, a province's count read every
// tested resident (180-210 ms at 10M).
func TestSQLiteCountsPendingACodeAtATime(t *testing.T) {
	d := dbtest.NewSQLite(t)
	const seek = "SEARCH k USING COVERING INDEX nat_tested_region (region_code=? AND last_pending>? AND last_pending<?)"
	for _, hi := range []string{"", "341881008"} {
		plan := dbtest.Plan(t, d, pendingByCodeSQL(hi), int64(1), int64(2), "341881007", hi)
		if !strings.Contains(plan, seek) || strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN k") ||
			strings.Contains(plan, "SCAN nat_") {
			t.Errorf("hi %q: not a seek per code:\n%s", hi, plan)
		}
	}
}

// TestSQLiteReadsTheWindowsHours asks SQLite how it reads a province's
// whole hours: through the hours' index, the window's rows alone. By the
// primary key (city, hour) it would read every hour kept of the province's
// cities (90 days by default: 34,560 rows for Anhui's 16, for 752).
func TestSQLiteReadsTheWindowsHours(t *testing.T) {
	d := dbtest.NewSQLite(t)
	for _, hi := range []string{"", "35"} {
		plan := dbtest.Plan(t, d, negativeHoursSQL("h.city_code || ''", hi), int64(1), int64(2), "34", hi)
		if !strings.Contains(plan, "USING COVERING INDEX nat_negative_hours_hour (hour>? AND hour<?)") {
			t.Errorf("hi %q: not through the hours' index:\n%s", hi, plan)
		}
	}
}
