package person_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
)

// Matching the carrier's stays finds every person registered with a phone,
// a family registered with one phone too: each of them stayed where the
// phone did.
func TestNumsByPhoneHashFindsEveryPersonOfAPhone(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, keys, admin := newCounty(t, d)
		// Persons 0-2 share a phone, 3 has one alone, 4 none.
		phones := []string{"13800000001", "13800000001", "13800000001", "13800000002", ""}
		var ins []person.Input
		for i, ph := range phones {
			first17 := fmt.Sprintf("34188119800101%03d", i)
			c, _ := idnum.ResidentCheckChar(first17)
			ins = append(ins, person.Input{Name: "张三", IDType: string(idnum.ResidentID), IDNumber: first17 + string(c), Phone: ph})
		}
		ps, err := s.Import(ctx, admin, ins)
		if err != nil {
			t.Fatal(err)
		}
		hash := func(ph string) []byte { return keys.BlindIndex("phone", ph) }
		got, err := s.NumsByPhoneHash(ctx, [][]byte{hash("13800000001"), hash("13800000002"), hash("13900000000")})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range got {
			slices.Sort(v)
		}
		want := map[string][]int64{string(hash("13800000001")): {ps[0].Num, ps[1].Num, ps[2].Num}, string(hash("13800000002")): {ps[3].Num}}
		if len(got) != len(want) {
			t.Fatalf("%d phones found, want %d", len(got), len(want))
		}
		for h, nums := range want {
			if !slices.Equal(got[h], nums) {
				t.Fatalf("persons of a phone: %v, want %v", got[h], nums)
			}
		}
	})
}
