package venue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/region"
)

// The list is the scope's venues, newest first (ties by id), for a
// province, a county and a town, on both engines; on SQLite a wide scope
// walks venues_created and sorts nothing, a town's reads venues_region.
func TestListIsTheScopesNewestFirst(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := New(d, region.Default())
		province := &auth.Principal{Kind: auth.Operator, ID: "op1", Role: auth.Admin, Region: "34"}
		// created_at: two share a time, so the id breaks the tie.
		type made struct {
			id, region string
			at         int64
		}
		var all []made
		for i, r := range []string{"341881001", "341881002", "341881001", "341802", "341881001", "341881002"} {
			v, err := s.Create(ctx, province, Input{Name: fmt.Sprint("场所", i), Kind: "market", Region: r})
			if err != nil {
				t.Fatal(err)
			}
			at := int64(1_000_000 + 1000*(i%4))
			if _, err := d.ExecContext(ctx, `UPDATE venues SET created_at = $1 WHERE id = $2`, at, v.ID); err != nil {
				t.Fatal(err)
			}
			all = append(all, made{v.ID, r, at})
		}
		slices.SortFunc(all, func(a, b made) int {
			if a.at != b.at {
				return int(b.at - a.at)
			}
			return strings.Compare(a.id, b.id)
		})
		for _, tc := range []struct {
			scope string
			limit int
		}{{"34", 200}, {"34", 4}, {"341881", 200}, {"341881001", 200}, {"341881002", 1}} {
			by := &auth.Principal{Kind: auth.Operator, ID: "op2", Role: auth.Admin, Region: tc.scope}
			got, err := s.List(ctx, by, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var want, ids []string
			for _, m := range all {
				if strings.HasPrefix(m.region, tc.scope) && len(want) < tc.limit {
					want = append(want, m.id)
				}
			}
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("scope %s, limit %d: %v, want %v", tc.scope, tc.limit, ids, want)
			}
		}

		if d.Engine() != db.SQLite {
			return
		}
		for _, tc := range []struct {
			scope, index string
		}{{"34", "venues_created"}, {"3418", "venues_created"}, {"341881001", "venues_region"}} {
			lo, hi := auth.Bounds(tc.scope)
			query, args := listSQL(d.Engine(), lo, hi)
			// The list's own steps (parent 0); the token's subquery sorts
			// a venue's few tokens.
			var plan []string
			err := db.Each(ctx, d, `EXPLAIN QUERY PLAN `+query, append(args, 200), func(sc db.Scanner) error {
				var id, parent, unused int
				var detail string
				err := sc.Scan(&id, &parent, &unused, &detail)
				if parent == 0 {
					plan = append(plan, detail)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "; ")
			if !strings.Contains(text, "SCAN v USING INDEX "+tc.index) && !strings.Contains(text, "SEARCH v USING INDEX "+tc.index) {
				t.Errorf("scope %s: plan %q does not read %s", tc.scope, text, tc.index)
			}
			if sorts := strings.Contains(text, "TEMP B-TREE FOR ORDER BY"); sorts != (tc.index == "venues_region") {
				t.Errorf("scope %s: plan %q: sorts %v, want %v", tc.scope, text, sorts, !sorts)
			}
		}
	})
}
