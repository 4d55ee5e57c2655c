package status

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// Testing's coverage asks for the negatives posted as facts in a window at
// every read: they are read through their partial index, never by walking
// every fact (or every resident of a province) to find the few. The index
// is usable only while the query writes its predicate as the index does.
func TestPostedNegativesReadThroughTheirIndex(t *testing.T) {
	const now = int64(1_796_500_000_000)
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Facts as a deployment has them: other kinds, and testing's own
		// results (keyed nat:…), which the index leaves out.
		fill := map[db.Engine]string{
			db.SQLite: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
				INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by)
				SELECT i % 2000, i, CASE WHEN i % 2 = 0 THEN 'temperature' ELSE 'nat.result' END, $1 - i, NULL, '{}', 'test',
					CASE WHEN i % 2 = 1 THEN 'nat:' || i END, $1, 'system' FROM n`,
			db.Postgres: `INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by)
				SELECT i % 2000, i, CASE WHEN i % 2 = 0 THEN 'temperature' ELSE 'nat.result' END, $1::bigint - i, NULL, '{}', 'test',
					CASE WHEN i % 2 = 1 THEN 'nat:' || i END, $1::bigint, 'system' FROM generate_series(1, 20000) AS i`,
		}
		if _, err := d.ExecContext(ctx, fill[d.Engine()], now); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatal(err)
		}
		for _, bounds := range [][2]string{{"34", ""}, {"341881001", "341881002"}} {
			scope, args := db.Scope("p.region_code", bounds[0], bounds[1], []any{now - 48*3600_000, now})
			p := dbtest.Plan(t, d, postedNegatives+scope, args...)
			if !strings.Contains(p, "facts_posted_results") || strings.Contains(p, "Seq Scan on facts") || strings.Contains(p, "SCAN f") {
				t.Errorf("scope %v: the posted negatives are not read through facts_posted_results:\n%s", bounds, p)
			}
		}
	})
}
