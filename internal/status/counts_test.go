package status

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
)

// The colour dashboard's yellow and red per town, read through the kept
// counts, are the status rows' counts, for every scope: before the first
// fold (which counts the status rows) and after each, with colours changed
// since, turned green again, and changed while folds run.
func TestColoursPerTownKeptEqualsCounted(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		towns := []string{"341881001", "341881002", "341881003"}
		var people []int64
		for i := range 60 {
			people = append(people, f.person(towns[i%3]))
		}
		readers := []*auth.Principal{admin, {Kind: auth.Operator, ID: "town", Role: auth.Admin, Region: towns[1]}}
		check := func(step string) {
			t.Helper()
			for _, by := range readers {
				lo, hi := by.Bounds()
				scope, args := db.Scope("region_code", lo, hi, nil)
				want := map[string][2]int64{}
				err := db.Each(ctx, d, `SELECT SUBSTR(region_code, 1, 9), color, COUNT(*) FROM status WHERE `+scope+` AND color <> $3
					GROUP BY SUBSTR(region_code, 1, 9), color`, append(args, int64(rules.Green)), func(sc db.Scanner) error {
					var r string
					var c, n int64
					if err := sc.Scan(&r, &c, &n); err != nil {
						return err
					}
					v := want[r]
					v[c-int64(rules.Yellow)] = n
					want[r] = v
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				stats, err := f.svc.Stats(ctx, by)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string][2]int64{}
				for _, tc := range stats {
					if tc.Yellow != 0 || tc.Red != 0 {
						got[tc.Region] = [2]int64{tc.Yellow, tc.Red}
					}
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s, as %q: yellow and red %v, want %v", step, by.Region, got, want)
				}
			}
		}
		colour := func(from, to int) {
			t.Helper()
			for i := from; i < to; i++ {
				switch i % 4 {
				case 0:
					rec(t, f.svc, people[i], fact.PharmacyPurchase, f.clock.now(), map[string]any{"drug_class": "fever"})
				case 1:
					rec(t, f.svc, people[i], fact.ContactClose, f.clock.now(), nil)
				}
			}
		}
		fold := func() {
			t.Helper()
			if err := f.svc.FoldColours(ctx); err != nil {
				t.Fatal(err)
			}
		}
		colour(0, 20)
		if count(t, d, `SELECT COUNT(*) FROM status WHERE color <> $1`, int64(rules.Green)) == 0 {
			t.Fatal("no yellow or red to count")
		}
		check("before any fold")
		fold()
		check("folded")
		colour(20, 40)
		check("changed since the fold")
		fold()
		check("folded again")
		f.clock.set(f.clock.now().Add(60 * 24 * time.Hour))
		if err := f.svc.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		check("turned green since the fold")
		fold()
		check("folded after turning green")

		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 40 + g; i < 60; i += 3 {
					if _, err := f.svc.Record(ctx, NewFact{Person: people[i], RecordedBy: "system",
						Fact: fact.Fact{Kind: fact.ContactClose, At: f.clock.now()}}); err != nil {
						t.Error(fmt.Errorf("record: %w", err))
						return
					}
				}
			}()
		}
		for range 20 {
			fold()
		}
		wg.Wait()
		check("folds raced new changes")
		fold()
		check("folded after the race")
	})
}
