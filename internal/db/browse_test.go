package db_test

import (
	"context"
	"fmt"
	"slices"
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
