package person_test

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
)

// newCounty is the person service of county 341881 on d, its keyring and an
// admin of the county.
func newCounty(t *testing.T, d *db.DB) (*person.Service, *secret.Keyring, *auth.Principal) {
	t.Helper()
	keys, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	return s, keys, &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
}

// The counts per region that the coverage table and the dashboards read are
// the registrations, whether they were folded into person_counts or came
// after the last fold, in every scope.
func TestCountByRegionCountsEveryRegistration(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, _, admin := newCounty(t, d)
		registered := 0
		register := func(town string, n int) {
			t.Helper()
			var ins []person.Input
			for range n {
				first17 := fmt.Sprintf("34188119800101%03d", registered)
				c, _ := idnum.ResidentCheckChar(first17)
				ins = append(ins, person.Input{Name: "张三", IDType: string(idnum.ResidentID), IDNumber: first17 + string(c), Region: town})
				registered++
			}
			if _, err := s.Import(ctx, admin, ins); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]int64{}
		steps := []struct {
			name  string
			do    func()
			fold  bool
			delta map[string]int64
		}{
			{"before any registration", func() {}, false, nil},
			{"registered, not folded", func() { register("341881001", 3); register("341881002", 2) }, false,
				map[string]int64{"341881001": 3, "341881002": 2}},
			{"folded", func() {}, true, nil},
			{"more after the fold", func() { register("341881001", 1); register("341881003", 4) }, false,
				map[string]int64{"341881001": 1, "341881003": 4}},
			{"folded again", func() {}, true, nil},
			{"folded with nothing new", func() {}, true, nil},
		}
		for _, st := range steps {
			st.do()
			if st.fold {
				if err := s.FoldCounts(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for code, n := range st.delta {
				want[code] += n
			}
			for _, scope := range []struct{ lo, hi string }{{"", ""}, {"341881", "341882"}, {"341881001", "341881002"}} {
				got, err := s.CountByRegion(ctx, scope.lo, scope.hi)
				if err != nil {
					t.Fatal(err)
				}
				inScope := map[string]int64{}
				for code, n := range want {
					if code >= scope.lo && (scope.hi == "" || code < scope.hi) {
						inScope[code] = n
					}
				}
				if !maps.Equal(got, inScope) {
					t.Errorf("%s, scope [%s, %s): counts %v, want %v", st.name, scope.lo, scope.hi, got, inScope)
				}
			}
		}
	})
}

// Paging through the persons of a scope returns each of them once, in
// number order, whether the scope fills its pages within the window read
// in number order (the whole county) or is read through the region index
// (a town of a few, registered late).
func TestBrowseReturnsEveryPersonOfTheScopeInOrder(t *testing.T) {
	old := db.BrowseWindow
	db.BrowseWindow = 5
	defer func() { db.BrowseWindow = old }()
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, _, admin := newCounty(t, d)
		var ins []person.Input
		byTown := map[string][]string{}
		for i := range 23 {
			town := "341881001"
			if i == 2 || i >= 19 {
				town = "341881002"
			}
			first17 := fmt.Sprintf("34188119800101%03d", i)
			c, _ := idnum.ResidentCheckChar(first17)
			ins = append(ins, person.Input{Name: "李四", IDType: string(idnum.ResidentID), IDNumber: first17 + string(c), Region: town})
		}
		ps, err := s.Import(ctx, admin, ins)
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		for _, p := range ps {
			byTown[p.Region] = append(byTown[p.Region], p.ID)
			all = append(all, p.ID)
		}
		for _, tc := range []struct {
			scope string
			want  []string
		}{
			{"341881", all},
			{"341881001", byTown["341881001"]},
			{"341881002", byTown["341881002"]},
			{"341881003", nil},
		} {
			for _, limit := range []int{1, 3, 50} {
				by := &auth.Principal{Kind: auth.Operator, ID: "op", Role: auth.Admin, Region: tc.scope}
				var got []string
				after := ""
				for range 30 {
					page, err := s.Search(ctx, by, person.Query{After: after, Limit: limit})
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range page {
						got = append(got, p.ID)
					}
					if len(page) < limit {
						break
					}
					after = page[len(page)-1].ID
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("scope %s, pages of %d: %v, want %v", tc.scope, limit, got, tc.want)
				}
			}
		}
	})
}
