package status

import (
	"context"
	"errors"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
)

// The status service decides who may post which fact about whom, for
// every caller: the API and the console reach it with the principal, and
// whatever they checked before, these refusals hold.
func TestPostDecidesWhoMayPostWhat(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		num := f.person("341881001")
		id := f.persons.Handles().ID(num)
		officer := &auth.Principal{Kind: auth.Operator, ID: "o1", Role: auth.HealthOfficer, Region: "341881001"}
		elsewhere := &auth.Principal{Kind: auth.Operator, ID: "o2", Role: auth.HealthOfficer, Region: "341881100"}
		viewer := &auth.Principal{Kind: auth.Operator, ID: "o3", Role: auth.Viewer, Region: "341881"}
		resident := &auth.Principal{Kind: auth.Resident, ID: "a1"}
		pharmacy := &auth.Principal{Kind: auth.APIKey, ID: "k1", Region: "341881", Scopes: []string{"facts:pharmacy.purchase"}}
		// A key that names the reserved kind still may not post it.
		granter := &auth.Principal{Kind: auth.APIKey, ID: "k2", Region: "341881", Scopes: []string{"facts:appeal.granted"}}
		confirmed := fact.Fact{Kind: fact.CaseConfirmed, At: t0}
		grant := fact.Fact{Kind: fact.AppealGranted, At: t0, Until: t0.AddDate(77, 0, 0), Attrs: map[string]any{"appeal": "invented"}}
		purchase := fact.Fact{Kind: fact.PharmacyPurchase, At: t0, Attrs: map[string]any{"drug_class": "fever"}}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   Posted
			want error
		}{
			{"nobody", nil, Posted{PersonID: id, Fact: confirmed}, auth.ErrForbidden},
			{"a role without fact.write", viewer, Posted{PersonID: id, Fact: confirmed}, auth.ErrForbidden},
			{"a resident", resident, Posted{PersonID: id, Fact: confirmed}, auth.ErrForbidden},
			{"appeal.granted from an operator", officer, Posted{PersonID: id, Fact: grant}, ErrFactKindReserved},
			{"appeal.granted from a key scoped to it", granter, Posted{PersonID: id, Fact: grant}, ErrFactKindReserved},
			{"a kind outside the key's scopes", pharmacy, Posted{PersonID: id, Fact: confirmed}, auth.ErrScopeMissing},
			{"no person", officer, Posted{Fact: confirmed}, ErrPersonIDMissing},
			{"a person outside the scope", elsewhere, Posted{PersonID: id, Fact: confirmed}, errPersonNotFound},
			{"an id nobody has", officer, Posted{PersonID: "0000000000000", Fact: confirmed}, errPersonNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, created, err := f.svc.Post(ctx, c.by, c.in)
				if !errors.Is(err, c.want) || created {
					t.Fatalf("err = %v, created %v; want %v", err, created, c.want)
				}
				if e, ok := apierr.As(err); !ok || e.Status >= 500 {
					t.Fatalf("not a caller's error: %v", err)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM facts`); n != 0 {
					t.Fatalf("%d facts stored by a refused post", n)
				}
				want(t, f.svc, num, G, "")
			})
		}
		// What the rules allow: an operator's fact, a key's own kind, once per key.
		got, created, err := f.svc.Post(ctx, pharmacy, Posted{PersonID: id, Fact: purchase, Key: "ph/1"})
		if err != nil || got != num || !created {
			t.Fatalf("the pharmacy's purchase: %d %v %v", got, created, err)
		}
		if _, created, err = f.svc.Post(ctx, pharmacy, Posted{PersonID: id, Fact: purchase, Key: "ph/1"}); err != nil || created {
			t.Fatalf("the same key again: created %v, %v", created, err)
		}
		if _, _, err := f.svc.Post(ctx, officer, Posted{PersonID: id, Fact: confirmed}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE recorded_by IN ('apikey:k1', 'operator:o1')`); n != 2 {
			t.Fatalf("%d facts recorded in the posters' names, want 2", n)
		}
		want(t, f.svc, num, R, "confirmed_case")
	})
}
