package person

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// TestNameSearchReadsByName asks PostgreSQL how it plans a town operator's
// search by name in the plan a prepared statement settles on after five
// runs (the generic plan, made once for every value): through the names'
// index alone, the town's range only filtering the name's rows. Planned
// with the region index as well, it read the town's whole range of it
// (17 ms, 223 ms from disk, for a town of 150,000 at 10M residents).
func TestNameSearchReadsByName(t *testing.T) {
	d := dbtest.NewPostgres(t)
	ctx := context.Background()
	// 1,000,000 persons: 30% in 19 large towns, the rest over 1,666; 18,000
	// names, as the province benchmark draws them; the sealed columns as
	// long as real ones, for the table's pages. The two indexes the plan
	// chooses between are built after the rows, as fast as a test needs.
	if _, err := d.Writer().ExecContext(ctx, `DROP INDEX persons_name; DROP INDEX persons_region;
		INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc,
			region_code, birth_year, created_at, created_by)
		SELECT i, 'p' || lpad(i::text, 21, '0'), 'resident', int8send(i), sha256(int8send(i)) || sha256(int8send(-i)),
			sha256(((i % 20) || '-' || ((i / 20) % 30) || '-' || ((i / 600) % 30))::bytea), sha256(int8send(i)) || sha256(int8send(-i)),
			CASE WHEN i % 10 < 3 THEN '341881' || lpad(((i / 10) % 19)::text, 3, '0') ELSE '34' || lpad(((i / 10) % 1666)::text, 7, '0') END,
			1950 + i % 70, 1700000000000 + i, 'admin'
		FROM generate_series(1, 1000000) AS i;
		CREATE INDEX persons_name ON persons (name_hash);
		CREATE INDEX persons_region ON persons (region_code, num);
		ANALYZE persons`); err != nil {
		t.Fatal(err)
	}
	lo, hi := "341881005", "341881006"
	where, args := db.Scope(searchRegion, lo, hi, nil)
	args = append(args, []byte("a name's blind index"), 50)
	plan := dbtest.GenericPlan(t, d, searchSQL([]string{where, `p.name_hash = $3`}, 4), args...)
	if !strings.Contains(plan, "persons_name") || strings.Contains(plan, "persons_region") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("a town's search by name is not read through the names' index alone:\n%s", plan)
	}
}
