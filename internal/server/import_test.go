package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// person.Import registers many at once, or nobody: a bad input, a number
// already registered, a region outside scope or a role without
// person.write stores nothing.
func TestPersonImportAllOrNothing(t *testing.T) {
	t.Parallel()
	servertest.ForEach(t, func(t *testing.T, e *servertest.Server) {
		ctx := context.Background()
		admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
		in := func(name string, seq int, region string) person.Input {
			return person.Input{Name: name, IDType: string(idnum.ResidentID), IDNumber: rid("19900101", seq), Region: region}
		}
		count := func() int64 {
			var n int64
			e.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM persons`).Scan(&n)
			return n
		}
		ps, err := e.App.Persons.Import(ctx, admin, []person.Input{in("甲", 1, "341881001"), in("乙", 2, "341881002")})
		if err != nil || len(ps) != 2 || ps[0].Num == ps[1].Num {
			t.Fatalf("import: %v %+v", err, ps)
		}
		got, err := e.App.Persons.FindByIDNumber(ctx, "resident_id", rid("19900101", 2))
		if err != nil || got.Name != "乙" || got.Region != "341881002" || got.ID != ps[1].ID {
			t.Fatalf("the imported person reads back as %+v, %v", got, err)
		}
		before := count()
		for _, tc := range []struct {
			name string
			by   *auth.Principal
			ins  []person.Input
			want error
		}{
			{"a bad name", admin, []person.Input{in("丙", 3, ""), in("", 4, "")}, person.ErrNameInvalid},
			{"a number already registered", admin, []person.Input{in("丙", 3, ""), in("甲", 1, "")}, person.ErrExists},
			{"outside the scope", &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881001"},
				[]person.Input{in("丙", 3, "341881002")}, auth.ErrOutOfScope},
			{"a viewer", &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Viewer, Region: "341881"},
				[]person.Input{in("丙", 3, "")}, auth.ErrForbidden},
		} {
			if _, err := e.App.Persons.Import(ctx, tc.by, tc.ins); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			if n := count(); n != before {
				t.Fatalf("%s stored %d persons", tc.name, n-before)
			}
		}
	})
}
