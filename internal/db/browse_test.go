package db_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// Paging through a list returns every row of the scope once, in key order
// either way, whether the scope fills its pages within the window read in
// key order (everything), falls back to its index past the window (one
// region in ten) or ends within the window, and when the filters are
// narrow (read through their index first).
func TestPageReturnsEveryRowOfTheScopeInOrder(t *testing.T) {
	old := db.BrowseWindow
	db.BrowseWindow = 7
	defer func() { db.BrowseWindow = old }()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		items(t, d, 60)
		for _, desc := range []bool{false, true} {
			b := db.Browse{Table: "items", Alias: "i", Key: "k", Desc: desc, Cols: "i.k"}
			for _, scope := range []struct{ lo, hi string }{{"", ""}, {"3", "4"}, {"2", "5"}, {"a", "b"}} {
				var want []int64
				for k := int64(1); k <= 60; k++ {
					r := fmt.Sprint(k % 10)
					if r >= scope.lo && (scope.hi == "" || r < scope.hi) {
						want = append(want, k)
					}
				}
				from := int64(0)
				if desc {
					slices.Reverse(want)
					from = 1 << 62
				}
				for _, c := range []struct {
					narrow bool
					limit  int
				}{{false, 1}, {false, 4}, {false, 100}, {true, 1}, {true, 4}, {true, 100}} {
					limit := c.limit
					var got []int64
					for at := from; len(got) <= 60; {
						var w db.Where
						w.Scope("i.region_code", scope.lo, scope.hi)
						if c.narrow {
							w.Narrow()
						}
						page, err := db.Page(ctx, d, b, w, at, limit, scanKey)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, page...)
						if len(page) < limit {
							break
						}
						at = page[len(page)-1]
					}
					if !slices.Equal(got, want) {
						t.Errorf("desc %v, narrow %v, scope [%s, %s), pages of %d: %v, want %v", desc, c.narrow, scope.lo, scope.hi, limit, got, want)
					}
				}
			}
		}
	})
}

// towns fills a table like a province's list: 100 towns of rows spread
// over the keys, each town's rows under its own code and its villages'
// (11 codes), one row in seven in a rare state, and the index every
// browsed list has on (region_code, key).
func towns(t *testing.T, d *db.DB, n int) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []string{
		`CREATE TABLE listed (k BIGINT PRIMARY KEY, region_code TEXT NOT NULL, state TEXT NOT NULL)`,
		`CREATE INDEX listed_region ON listed (region_code, k)`,
	} {
		if _, err := d.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	args := make([]any, 0, 3*n)
	for k := 1; k <= n; k++ {
		code := fmt.Sprintf("3418%05d", 81001+k%100)
		if v := (k / 100) % 11; v > 0 {
			code += fmt.Sprintf("%03d", v)
		}
		state := "common"
		if k%7 == 0 {
			state = "rare"
		}
		args = append(args, k, code, state)
	}
	ins := db.Insert{Head: `INSERT INTO listed (k, region_code, state) VALUES `, Cols: 3}
	if _, err := ins.Exec(ctx, d, d.Engine(), args); err != nil {
		t.Fatal(err)
	}
	if d.Engine() == db.Postgres {
		if _, err := d.ExecContext(ctx, `ANALYZE listed`); err != nil {
			t.Fatal(err)
		}
	}
}

// Paging through a town's list (its own code and its villages', beside
// other towns whose codes sort on either side) returns each of its rows
// once, in key order either way, with and without a further filter: read
// code by code, through the region index when the town has more codes than
// SQLite reads one by one, and through a rare filter's index.
func TestPageOfATownReturnsEveryRowInOrder(t *testing.T) {
	for _, mode := range []struct {
		name   string
		codes  int  // db.TownCodes
		narrow bool // the filters say they keep few rows
	}{
		{"code by code", db.TownCodes, false},
		{"more codes than read one by one", 5, false},
		{"a narrow filter", db.TownCodes, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			old := db.TownCodes
			db.TownCodes = mode.codes
			defer func() { db.TownCodes = old }()
			pageThroughATown(t, mode.narrow)
		})
	}
}

func pageThroughATown(t *testing.T, narrow bool) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 6_000
		towns(t, d, n)
		town := "341881050"
		for _, desc := range []bool{false, true} {
			b := db.Browse{Table: "listed", Alias: "l", Key: "k", Desc: desc, Cols: "l.k"}
			for _, rare := range []bool{false, true} {
				var want []int64
				for k := int64(1); k <= n; k++ {
					if fmt.Sprintf("3418%05d", 81001+k%100) == town && (!rare || k%7 == 0) {
						want = append(want, k)
					}
				}
				from := int64(0)
				if desc {
					slices.Reverse(want)
					from = 1 << 62
				}
				for _, limit := range []int{1, 7, 100} {
					var got []int64
					for at := from; len(got) <= n; {
						var w db.Where
						w.Scope("l.region_code", town, "341881051")
						if rare {
							w.Add("l.state = ?", "rare")
						}
						if narrow {
							w.Narrow()
						}
						page, err := db.Page(ctx, d, b, w, at, limit, scanKey)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, page...)
						if len(page) < limit {
							break
						}
						at = page[len(page)-1]
					}
					if !slices.Equal(got, want) {
						t.Errorf("desc %v, rare %v, pages of %d: got %d rows %v..., want %d", desc, rare, limit, len(got), got[:min(len(got), 5)], len(want))
					}
				}
			}
		}
	})
}

// recorder keeps the statements a Page runs, to read their plans.
type recorder struct {
	*db.DB
	queries []string
	args    [][]any
}

func (r *recorder) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	r.queries, r.args = append(r.queries, query), append(r.args, args)
	return r.DB.QueryContext(ctx, query, args...)
}

func (r *recorder) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	r.queries, r.args = append(r.queries, query), append(r.args, args)
	return r.DB.QueryRowContext(ctx, query, args...)
}

// A page of a town's list reads in proportion to the page, not the town.
// On PostgreSQL the statement reads at most a page's index entries per
// region code of the town (and a probe per code to find them), where a
// range on region_code read and sorted the town's every row (or walked the
// key order past the other towns' rows). On SQLite a probe finds each code
// and a statement reads each code's first keys in the index's order: every
// statement searches an index, none scans the table, and none sorts (a
// sort would mean the town's every key was read to order them).
func TestPageOfATownReadsThePage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		towns(t, d, 60_000) // 600 rows a town, over 11 codes
		const limit, codes = 10, 11
		for _, desc := range []bool{false, true} {
			r := &recorder{DB: d}
			var w db.Where
			w.Scope("l.region_code", "341881050", "341881051")
			from := int64(30_000)
			page, err := db.Page(ctx, r, db.Browse{Table: "listed", Alias: "l", Key: "k", Desc: desc, Cols: "l.k"}, w, from, limit, scanKey)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != limit {
				t.Fatalf("desc %v: %d rows, want %d", desc, len(page), limit)
			}
			if d.Engine() == db.Postgres {
				if len(r.queries) != 1 {
					t.Fatalf("desc %v: %d statements, want 1", desc, len(r.queries))
				}
				var plan string
				if err := d.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+r.queries[0], r.args[0]...).Scan(&plan); err != nil {
					t.Fatal(err)
				}
				var nodes []struct{ Plan planNode }
				if err := json.Unmarshal([]byte(plan), &nodes); err != nil {
					t.Fatal(err)
				}
				// Per code: a page of entries and a probe for the next
				// code; the outer page and its rows.
				if read, bound := nodes[0].Plan.read(), float64(codes*(limit+2)+3*limit); read > bound {
					t.Errorf("desc %v: the plan reads %.0f rows, more than %.0f:\n%s", desc, read, bound, plan)
				}
				continue
			}
			// A probe a code and one past the last, a page of keys a code,
			// the page's rows.
			if got, want := len(r.queries), 2*codes+2; got != want {
				t.Errorf("desc %v: %d statements, want %d", desc, got, want)
			}
			for i, q := range r.queries {
				p := dbtest.Plan(t, d, q, r.args[i]...)
				if strings.Contains(p, "SCAN l") || !strings.Contains(p, "SEARCH l") {
					t.Errorf("desc %v: statement %d does not search an index:\n%s\n%s", desc, i, q, p)
				}
				if strings.Contains(p, "TEMP B-TREE") {
					t.Errorf("desc %v: statement %d sorts what it read:\n%s\n%s", desc, i, q, p)
				}
				if i < len(r.queries)-1 && !strings.Contains(p, "COVERING INDEX listed_region") {
					t.Errorf("desc %v: statement %d does not read the town's keys through the covering index:\n%s\n%s", desc, i, q, p)
				}
			}
		}
	})
}

// planNode is a node of PostgreSQL's EXPLAIN (ANALYZE, FORMAT JSON).
type planNode struct {
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Removed  float64    `json:"Rows Removed by Filter"`
	Recheck  float64    `json:"Rows Removed by Index Recheck"`
	Plans    []planNode `json:"Plans"`
}

// read is the rows that the scans of a table at or under n returned or
// threw away, over all their loops (EXPLAIN gives a loop's average).
func (n planNode) read() float64 {
	var sum float64
	if n.Relation != "" {
		sum = (n.Rows + n.Removed + n.Recheck) * n.Loops
	}
	for _, c := range n.Plans {
		sum += c.read()
	}
	return sum
}
