package person_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
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
		s, ps, hash := sharedPhones(t, d)
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

// Matching the carrier's stays by walking the persons in number order
// gives each person's phone (none for one without a phone of their own),
// a slice at a time, reading the index alone.
func TestPhonesFromWalksEveryPerson(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, ps, hash := sharedPhones(t, d)
		// Two persons at a time from the second.
		var walked []int64
		var hashes [][]byte
		for from := ps[1].Num; ; {
			n, err := s.PhonesFrom(ctx, from, 2, func(num int64, h []byte) error {
				walked, hashes = append(walked, num), append(hashes, h)
				from = num + 1
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < 2 {
				break
			}
		}
		if want := []int64{ps[1].Num, ps[2].Num, ps[3].Num, ps[4].Num}; !slices.Equal(walked, want) {
			t.Fatalf("walked %v, want %v", walked, want)
		}
		for i, h := range hashes {
			var w []byte
			if ph := sharedPhoneList[i+1]; ph != "" {
				w = hash(ph)
			}
			if !bytes.Equal(h, w) || (h == nil) != (w == nil) {
				t.Fatalf("person %d: phone index %x, want %x", walked[i], h, w)
			}
		}
		most, err := s.MaxNum(ctx)
		if err != nil || most != ps[4].Num {
			t.Fatalf("highest number %d (%v), want %d", most, err, ps[4].Num)
		}
		if d.Engine() == db.SQLite {
			plan := dbtest.Plan(t, d, `SELECT num, phone_hash FROM persons WHERE num >= $1 ORDER BY num LIMIT $2`, 1, 2)
			if !strings.Contains(plan, "COVERING INDEX persons_num_region") {
				t.Fatalf("the walk does not read the index alone:\n%s", plan)
			}
		}
	})
}

// sharedPhoneList is the phones of sharedPhones' persons: 0-2 share one, 3
// has one alone, 4 none.
var sharedPhoneList = []string{"13800000001", "13800000001", "13800000001", "13800000002", ""}

// sharedPhones imports a person for each of sharedPhoneList. hash is a
// phone's blind index.
func sharedPhones(t *testing.T, d *db.DB) (s *person.Service, ps []*person.Person, hash func(string) []byte) {
	t.Helper()
	s, keys, admin := newCounty(t, d)
	var ins []person.Input
	for i, ph := range sharedPhoneList {
		first17 := fmt.Sprintf("34188119800101%03d", i)
		c, _ := idnum.ResidentCheckChar(first17)
		ins = append(ins, person.Input{Name: "张三", IDType: string(idnum.ResidentID), IDNumber: first17 + string(c), Phone: ph})
	}
	ps, err := s.Import(context.Background(), admin, ins)
	if err != nil {
		t.Fatal(err)
	}
	return s, ps, func(ph string) []byte { return keys.BlindIndex("phone", ph) }
}
