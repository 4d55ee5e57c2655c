package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// Require and RequireScope are what every service refuses with: one error
// per case, the message saying what was missing.
func TestRequireRefusesWithOneError(t *testing.T) {
	officer := &auth.Principal{Kind: auth.Operator, ID: "o1", Role: auth.HealthOfficer, Region: "341881"}
	viewer := &auth.Principal{Kind: auth.Operator, ID: "o2", Role: auth.Viewer, Region: "341881"}
	resident := &auth.Principal{Kind: auth.Resident, ID: "a1"}
	key := &auth.Principal{Kind: auth.APIKey, ID: "k1", Scopes: []string{auth.ScopeVerify}}
	for _, c := range []struct {
		name    string
		err     error
		want    error // nil: allowed
		message string
	}{
		{"a role with the permission", officer.Require(auth.FactWrite), nil, ""},
		{"a role without it", viewer.Require(auth.FactWrite), auth.ErrForbidden, "your role (viewer) may not do this (needs fact.write)"},
		{"a resident", resident.Require(auth.FactWrite), auth.ErrForbidden, "a resident may not do this (needs an operator with fact.write)"},
		{"an API key", key.Require(auth.PersonRead), auth.ErrForbidden, "an API key may not do this (needs an operator with person.read)"},
		{"nobody", (*auth.Principal)(nil).Require(auth.PersonRead), auth.ErrForbidden, "nobody may do this unauthenticated (needs person.read)"},
		{"a key with the scope", key.RequireScope(auth.ScopeVerify), nil, ""},
		{"a key without it", key.RequireScope(auth.ScopeVerifyID), auth.ErrScopeMissing, `this API key lacks the "verify_id" scope`},
		{"an operator asking for a scope", officer.RequireScope(auth.ScopeVerify), auth.ErrForbidden, `this needs an API key with the "verify" scope`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.want == nil {
				if c.err != nil {
					t.Fatalf("refused: %v", c.err)
				}
				return
			}
			e, ok := apierr.As(c.err)
			if !errors.Is(c.err, c.want) || !ok || e.Status != 403 || e.Message != c.message {
				t.Fatalf("err = %v, want %v with %q", c.err, c.want, c.message)
			}
		})
	}
}

// Who may list operators is decided by the service: those who manage
// them and those who assign tasks to them, in their scope.
func TestOperatorListNeedsARoleThatWorksWithOperators(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, auth.Config{})
		admin := &auth.Principal{Kind: auth.Operator, ID: "root", Role: auth.Admin, Region: "341881"}
		if _, err := f.svc.CreateOperator(ctx, admin, auth.NewOperator{Username: "grid.1", Password: "long enough pw", Role: "health_officer", Region: "341881001"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			want int // operators listed; -1 refused
		}{
			{"an admin", admin, 1},
			{"a health officer, who assigns tasks", &auth.Principal{Kind: auth.Operator, ID: "x", Role: auth.HealthOfficer, Region: "341881"}, 1},
			{"a viewer", &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer, Region: "341881"}, -1},
			{"a sampler", &auth.Principal{Kind: auth.Operator, ID: "s", Role: auth.Sampler, Region: "341881"}, -1},
			{"an API key", &auth.Principal{Kind: auth.APIKey, ID: "k", Scopes: []string{"verify"}}, -1},
		} {
			t.Run(c.name, func(t *testing.T) {
				ops, err := f.svc.Operators(ctx, c.by)
				if c.want < 0 {
					if !errors.Is(err, auth.ErrForbidden) || ops != nil {
						t.Fatalf("listed %v, err %v; want forbidden", ops, err)
					}
					return
				}
				if err != nil || len(ops) != c.want {
					t.Fatalf("listed %d, err %v; want %d", len(ops), err, c.want)
				}
			})
		}
		// Creating an operator is refused to a role that may only list them.
		officer := &auth.Principal{Kind: auth.Operator, ID: "x", Role: auth.HealthOfficer, Region: "341881"}
		_, err := f.svc.CreateOperator(ctx, officer, auth.NewOperator{Username: "grid.2", Password: "long enough pw", Role: "viewer"})
		if !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("a health officer created an operator: %v", err)
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d operators stored (%v)", n, err)
		}
	})
}

func TestDelegateAddsOneScopeToACopy(t *testing.T) {
	key := &auth.Principal{Kind: auth.APIKey, ID: "k1", Scopes: []string{"scan"}}
	d := key.Delegate(auth.ScopeVerify)
	if err := d.RequireScope(auth.ScopeVerify); err != nil {
		t.Errorf("delegated: %v", err)
	}
	if err := key.RequireScope(auth.ScopeVerify); err == nil {
		t.Error("Delegate changed the original principal")
	}
	if d.ID != key.ID || !d.HasScope("scan") {
		t.Errorf("delegate lost the key: %+v", d)
	}
}

func TestAUnitAccountHoldsOnlyDelegatedScopes(t *testing.T) {
	staff := &auth.Principal{Kind: auth.Unit, ID: "u1", Role: auth.UnitStaff, Org: "o1"}
	if err := staff.RequireScope(auth.ScopeVerify); err == nil {
		t.Error("a unit account verifies codes without a delegation")
	}
	if err := staff.Delegate(auth.ScopeVerify).RequireScope(auth.ScopeVerify); err != nil {
		t.Errorf("delegated to a unit account: %v", err)
	}
	if staff.Delegate(auth.ScopeVerify).Actor() != staff.Actor() {
		t.Error("a delegation changed who acts in the audit log")
	}
}
