package status

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
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
			{"a person outside the scope", elsewhere, Posted{PersonID: id, Fact: confirmed}, person.ErrNotFound},
			{"an id nobody has", officer, Posted{PersonID: "0000000000000", Fact: confirmed}, person.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, err := f.svc.Post(ctx, c.by, c.in)
				if !errors.Is(err, c.want) || res.Created {
					t.Fatalf("err = %v, created %v; want %v", err, res.Created, c.want)
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
		// What the rules allow: an operator's fact, a key's own kind, once
		// per key; the key learns no colour without the status scope.
		res, err := f.svc.Post(ctx, pharmacy, Posted{PersonID: id, Fact: purchase, Key: "ph/1"})
		if err != nil || res.Person != num || !res.Created || res.Status != nil {
			t.Fatalf("the pharmacy's purchase: %+v %v", res, err)
		}
		if res, err = f.svc.Post(ctx, pharmacy, Posted{PersonID: id, Fact: purchase, Key: "ph/1"}); err != nil || res.Created {
			t.Fatalf("the same key again: %+v, %v", res, err)
		}
		if res, err = f.svc.Post(ctx, officer, Posted{PersonID: id, Fact: confirmed}); err != nil || res.Status == nil || res.Status.Color != R {
			t.Fatalf("the officer's fact: %+v, %v", res, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM facts WHERE recorded_by IN ('apikey:k1', 'operator:o1')`); n != 2 {
			t.Fatalf("%d facts recorded in the posters' names, want 2", n)
		}
		want(t, f.svc, num, R, "confirmed_case")
	})
}

// A resident declares, appeals and reads facts for themselves and their
// dependents; the service asks the person service whom, so no caller can
// name someone else, and other kinds of caller are refused.
func TestResidentsActOnlyForTheirOwn(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		self, dep, stranger := f.person(""), f.person(""), f.person("")
		acct := f.phone(self, "13900000001")
		f.phone(stranger, "13900000002")
		if _, err := d.ExecContext(ctx, `INSERT INTO dependents (account_id, person_num, relation, created_at) VALUES ($1, $2, 'parent', 0)`, acct, dep); err != nil {
			t.Fatal(err)
		}
		rec(t, f.svc, stranger, fact.CaseConfirmed, t0, nil)
		rec(t, f.svc, dep, fact.CaseConfirmed, t0, nil)
		resident := &auth.Principal{Kind: auth.Resident, ID: acct}
		ids := f.persons.Handles()
		facts, appeals := count(t, d, `SELECT COUNT(*) FROM facts`), 0
		for _, c := range []struct {
			name string
			by   *auth.Principal
			id   string
			want error
		}{
			{"a stranger", resident, ids.ID(stranger), person.ErrNotFound},
			{"an operator", admin, ids.ID(stranger), auth.ErrForbidden},
			{"an API key", &auth.Principal{Kind: auth.APIKey, ID: "k", Scopes: []string{"facts:declaration"}}, ids.ID(stranger), auth.ErrForbidden},
			{"nobody", nil, "", auth.ErrForbidden},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, _, err := f.svc.Declare(ctx, c.by, c.id, map[string]any{"temperature": 38.5}); !errors.Is(err, c.want) {
					t.Errorf("declare: %v, want %v", err, c.want)
				}
				if _, err := f.svc.FileAppeal(ctx, c.by, c.id, AppealInput{Reason: "不是我"}); !errors.Is(err, c.want) {
					t.Errorf("appeal: %v, want %v", err, c.want)
				}
				if _, _, err := f.svc.ResidentFacts(ctx, c.by, c.id, 10); !errors.Is(err, c.want) {
					t.Errorf("facts: %v, want %v", err, c.want)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM facts`); n != facts {
					t.Fatalf("%d facts after refusals, want %d", n, facts)
				}
				if n := count(t, d, `SELECT COUNT(*) FROM appeals`); n != appeals {
					t.Fatalf("%d appeals after refusals", n)
				}
			})
		}
		if _, err := f.svc.Appeals(ctx, admin); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("an operator read a resident's appeals: %v", err)
		}
		// Themselves and their dependent are theirs.
		who, _, err := f.svc.Declare(ctx, resident, "", map[string]any{"temperature": 36.5})
		if err != nil || who.Num != self {
			t.Fatalf("declaring for oneself: %d, %v", who.Num, err)
		}
		a, err := f.svc.FileAppeal(ctx, resident, ids.ID(dep), AppealInput{Reason: "已治愈"})
		if err != nil || a.Person != dep || a.AccountID != acct {
			t.Fatalf("appealing for a dependent: %+v, %v", a, err)
		}
		if as, err := f.svc.Appeals(ctx, resident); err != nil || len(as) != 1 {
			t.Fatalf("the resident's appeals: %v, %v", as, err)
		}
	})
}

// Rule sets, dry runs, activation, appeals and the colour counts check the
// caller's permission in the service, whatever door the call came through.
func TestRulesAndAppealsNeedTheirPermissions(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		num := f.person("")
		acct := f.phone(num, "13900000011")
		rec(t, f.svc, num, fact.CaseConfirmed, t0, nil)
		a, err := f.svc.FileAppeal(ctx, &auth.Principal{Kind: auth.Resident, ID: acct}, "", AppealInput{Reason: "已治愈"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.CreateRuleSet(ctx, admin, watchedDrugOff(t))
		if err != nil {
			t.Fatal(err)
		}
		officer := &auth.Principal{Kind: auth.Operator, ID: "o1", Role: auth.HealthOfficer, Region: ""}
		viewer := &auth.Principal{Kind: auth.Operator, ID: "o2", Role: auth.Viewer, Region: ""}
		sampler := &auth.Principal{Kind: auth.Operator, ID: "o3", Role: auth.Sampler, Region: ""}
		key := &auth.Principal{Kind: auth.APIKey, ID: "k1", Scopes: []string{auth.ScopeStatus}}
		resident := &auth.Principal{Kind: auth.Resident, ID: acct}
		calls := []struct {
			name    string
			refused []*auth.Principal
			call    func(by *auth.Principal) error
		}{
			{"create a rule set", []*auth.Principal{viewer, sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.CreateRuleSet(ctx, by, watchedDrugOff(t))
				return err
			}},
			{"dry-run a version", []*auth.Principal{viewer, sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.DryRunRules(ctx, by, v.Version)
				return err
			}},
			{"activate a version", []*auth.Principal{officer, viewer, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.Activate(ctx, by, v.Version)
				return err
			}},
			{"decide an appeal", []*auth.Principal{viewer, sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.Decide(ctx, by, a.ID, Decision{Decision: AppealGranted})
				return err
			}},
			{"list the appeal queue", []*auth.Principal{viewer, sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.AppealQueue(ctx, by, "", 10)
				return err
			}},
			{"read the rules", []*auth.Principal{sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.Rules(ctx, by)
				return err
			}},
			{"read a rule set", []*auth.Principal{sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, _, err := f.svc.RuleSet(ctx, by, v.Version)
				return err
			}},
			{"read the recompute", []*auth.Principal{sampler, key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.Recompute(ctx, by)
				return err
			}},
			{"count colours", []*auth.Principal{key, resident, nil}, func(by *auth.Principal) error {
				_, err := f.svc.Stats(ctx, by)
				return err
			}},
		}
		state := func() string {
			return fmt.Sprintf("active v%d, %d sets, %d pending, %d facts, %d audit entries",
				count(t, d, `SELECT version FROM rules_active WHERE id = 1`), count(t, d, `SELECT COUNT(*) FROM rule_sets`),
				count(t, d, `SELECT COUNT(*) FROM appeals WHERE state = 'pending'`), count(t, d, `SELECT COUNT(*) FROM facts`),
				count(t, d, `SELECT COUNT(*) FROM audit_log`))
		}
		before := state()
		for _, c := range calls {
			for _, by := range c.refused {
				who := "nobody"
				if by != nil {
					who = string(by.Kind) + " " + string(by.Role)
				}
				t.Run(c.name+" as "+who, func(t *testing.T) {
					if err := c.call(by); !errors.Is(err, auth.ErrForbidden) {
						t.Fatalf("err = %v, want forbidden", err)
					}
					if now := state(); now != before {
						t.Fatalf("a refusal wrote: %s, was %s", now, before)
					}
				})
			}
		}
		// The admin may do each.
		for _, c := range calls {
			if err := c.call(admin); err != nil {
				t.Fatalf("%s as admin: %v", c.name, err)
			}
		}
	})
}
