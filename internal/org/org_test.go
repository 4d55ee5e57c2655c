package org_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
)

var (
	admin   = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
	officer = &auth.Principal{Kind: auth.Operator, ID: "cdc", Role: auth.HealthOfficer, Region: "341881"}
	town    = &auth.Principal{Kind: auth.Operator, ID: "xijin", Role: auth.HealthOfficer, Region: "341881001"}
	viewer  = &auth.Principal{Kind: auth.Operator, ID: "viewer", Role: auth.Viewer, Region: "341881"}
	sampler = &auth.Principal{Kind: auth.Operator, ID: "sampler", Role: auth.Sampler, Region: "341881"}
	other   = &auth.Principal{Kind: auth.Operator, ID: "other", Role: auth.Admin, Region: "341882"}
)

type fixture struct {
	d    *db.DB
	auth *auth.Service
	svc  *org.Service
	reg  *prometheus.Registry // the first node's metrics
	now  time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	keys, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	// 10:00 in Ningguo.
	f := &fixture{d: d, now: time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)}
	f.auth = auth.New(d, keys, sms.NewOutbox(d, keys), region.Default(), auth.Config{})
	f.auth.SetClock(func() time.Time { return f.now })
	f.reg = prometheus.NewRegistry()
	f.svc = f.node(f.reg)
	return f
}

// node is another server on the same database.
func (f *fixture) node(reg ...prometheus.Registerer) *org.Service {
	cfg := org.Config{}
	if len(reg) > 0 {
		cfg.Metrics = reg[0]
	}
	s := org.New(f.d, f.auth, region.Default(), cfg)
	s.SetClock(func() time.Time { return f.now })
	return s
}

func uscc(t *testing.T, body string) string {
	t.Helper()
	c, err := idnum.BuildUSCC("91", "341881", body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mistype changes the last character, the check character.
func mistype(code string) string {
	last := byte('0')
	if code[17] == '0' {
		last = '1'
	}
	return code[:17] + string(last)
}

func (f *fixture) org(t *testing.T, kind org.Kind, name, body, region string) *org.Org {
	t.Helper()
	o, err := f.svc.Create(context.Background(), admin, org.Input{Kind: string(kind), Name: name, USCC: uscc(t, body), Region: region})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestCreateOrganisation(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		in := org.Input{Kind: "pharmacy", Name: " 国胜大药房 ", USCC: uscc(t, "MA2N7T1D"), Region: "341881001", Address: "宁国市西津街道"}
		o, err := f.svc.Create(ctx, officer, in)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "国胜大药房" || o.Kind != org.Pharmacy || o.Num == 0 || o.Region != "341881001" {
			t.Fatalf("created %+v", o)
		}
		entries, err := audit.List(ctx, d, audit.Filter{Subject: "org:" + o.ID, Limit: 10})
		if err != nil || len(entries) != 1 || entries[0].Action != "org.create" || entries[0].Actor != officer.Actor() {
			t.Fatalf("audit: %+v, %v", entries, err)
		}
		// The same entity once more as a pharmacy is a conflict; as a
		// fever clinic it is another organisation.
		_, err = f.svc.Create(ctx, officer, in)
		wantErr(t, err, org.ErrExists)
		in.Kind = "fever_clinic"
		if _, err := f.svc.Create(ctx, officer, in); err != nil {
			t.Fatalf("the same code as another kind: %v", err)
		}

		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   org.Input
			want error
		}{
			{"a viewer", viewer, org.Input{Kind: "hospital", Name: "x", USCC: uscc(t, "00000001")}, org.ErrForbidden},
			{"a sampler", sampler, org.Input{Kind: "hospital", Name: "x", USCC: uscc(t, "00000001")}, org.ErrForbidden},
			{"a resident", &auth.Principal{Kind: auth.Resident, ID: "r"}, org.Input{Kind: "hospital", Name: "x", USCC: uscc(t, "00000001")}, org.ErrForbidden},
			{"a town's officer for the city", town, org.Input{Kind: "hospital", Name: "x", USCC: uscc(t, "00000001"), Region: "341881"}, org.ErrOutOfScope},
			{"another city", other, org.Input{Kind: "hospital", Name: "x", USCC: uscc(t, "00000001"), Region: "341881"}, org.ErrOutOfScope},
			{"an unknown kind", admin, org.Input{Kind: "casino", Name: "x", USCC: uscc(t, "00000001")}, org.ErrKindInvalid},
			{"no name", admin, org.Input{Kind: "hospital", Name: "  ", USCC: uscc(t, "00000001")}, org.ErrNameInvalid},
			{"a mistyped code", admin, org.Input{Kind: "hospital", Name: "x", USCC: mistype(uscc(t, "00000001"))}, apierr.BadRequest("uscc_check_char", "")},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Create(ctx, c.by, c.in)
				wantErr(t, err, c.want)
			})
		}
		var n int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d organisations stored (%v), want 2", n, err)
		}
	})
}

// Operators see the organisations of their scope; an organisation sees
// only itself.
func TestWhoSeesAnOrganisation(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		hosp := f.org(t, org.Hospital, "宁国市人民医院", "48572011", "341881002")
		list, err := f.svc.List(ctx, town, org.Filter{})
		if err != nil || len(list) != 1 || list[0].ID != ph.ID {
			t.Fatalf("the town's officer lists %v (%v)", list, err)
		}
		list, err = f.svc.List(ctx, viewer, org.Filter{Kind: "hospital"})
		if err != nil || len(list) != 1 || list[0].ID != hosp.ID {
			t.Fatalf("a viewer lists hospitals %v (%v)", list, err)
		}
		if list, err := f.svc.List(ctx, viewer, org.Filter{After: hosp.Num}); err != nil || len(list) != 0 {
			t.Fatalf("after the last: %v (%v)", list, err)
		}
		_, err = f.svc.List(ctx, &auth.Principal{Kind: auth.Resident, ID: "r"}, org.Filter{})
		wantErr(t, err, org.ErrForbidden)
		_, err = f.svc.Get(ctx, town, hosp.ID)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Get(ctx, other, ph.ID)
		wantErr(t, err, org.ErrNotFound)

		key := &auth.Principal{Kind: auth.APIKey, ID: "k", Org: ph.ID, Scopes: []string{"scan"}}
		if got, err := f.svc.Get(ctx, key, ph.ID); err != nil || got.ID != ph.ID {
			t.Fatalf("its own key: %v, %v", got, err)
		}
		_, err = f.svc.Get(ctx, key, hosp.ID)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.List(ctx, key, org.Filter{})
		wantErr(t, err, org.ErrForbidden)
	})
}

func TestKeysAreShownOnceRotatedAndRevoked(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		hosp := f.org(t, org.Hospital, "宁国市人民医院", "48572011", "341881002")

		k, secret, err := f.svc.CreateKey(ctx, town, ph.ID, org.KeyInput{Name: "收银台 1", Scopes: []string{"scan", "pharmacy.purchase", "scan"}})
		if err != nil {
			t.Fatal(err)
		}
		if k.Limits.PerDay != org.DefaultPerDay || k.Limits.PerMinute != org.DefaultPerMinute || len(k.Scopes) != 2 || k.Org != ph.ID {
			t.Fatalf("key %+v", k)
		}
		p, err := f.auth.Authenticate(ctx, secret)
		if err != nil || p.Kind != auth.APIKey || p.Org != ph.ID || p.Limits.PerDay != org.DefaultPerDay || !p.HasScope("pharmacy.purchase") {
			t.Fatalf("the secret authenticates as %+v (%v)", p, err)
		}
		var stored int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE key_hash = $1`, []byte(secret)).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("the secret is stored as it is (%v)", err)
		}

		for _, c := range []struct {
			name string
			by   *auth.Principal
			org  string
			in   org.KeyInput
			want error
		}{
			{"a scope of another kind", admin, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"pharmacy.purchase"}}, org.ErrScopeNotForKind},
			{"an unknown scope", admin, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"verify"}}, org.ErrScopeUnknown},
			{"no scope", admin, hosp.ID, org.KeyInput{Name: "HIS"}, org.ErrScopesMissing},
			{"no name", admin, hosp.ID, org.KeyInput{Scopes: []string{"scan"}}, org.ErrKeyNameInvalid},
			{"a quota too big", admin, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"scan"}, Limits: auth.KeyLimits{PerDay: org.MaxPerDay + 1}}, org.ErrLimitInvalid},
			{"a negative rate", admin, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"scan"}, Limits: auth.KeyLimits{PerMinute: -1}}, org.ErrLimitInvalid},
			{"a viewer", viewer, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"scan"}}, org.ErrForbidden},
			{"out of scope", town, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"scan"}}, org.ErrNotFound},
			{"another organisation's key", &auth.Principal{Kind: auth.APIKey, ID: k.ID, Org: ph.ID}, hosp.ID, org.KeyInput{Name: "HIS", Scopes: []string{"scan"}}, org.ErrNotFound},
			{"an organisation's own key", &auth.Principal{Kind: auth.APIKey, ID: k.ID, Org: ph.ID}, ph.ID, org.KeyInput{Name: "x", Scopes: []string{"scan"}}, org.ErrNotFound},
			{"no such organisation", admin, "aaaaaaaaaaaaaaaaaaaa", org.KeyInput{Name: "HIS", Scopes: []string{"scan"}}, org.ErrNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, _, err := f.svc.CreateKey(ctx, c.by, c.org, c.in)
				wantErr(t, err, c.want)
			})
		}

		// Rotation: a new secret, the old one stops, the key stays.
		k2, secret2, err := f.svc.RotateKey(ctx, admin, ph.ID, k.ID)
		if err != nil || k2.ID != k.ID || secret2 == secret || k2.RotatedAt.IsZero() {
			t.Fatalf("rotate: %+v %v", k2, err)
		}
		if _, err := f.auth.Authenticate(ctx, secret); !errors.Is(err, apierr.Unauthorized("api_key_invalid", "")) {
			t.Fatalf("the old secret after rotation: %v", err)
		}
		if p, err := f.auth.Authenticate(ctx, secret2); err != nil || p.ID != k.ID {
			t.Fatalf("the new secret: %v %v", p, err)
		}
		_, _, err = f.svc.RotateKey(ctx, admin, hosp.ID, k.ID)
		wantErr(t, err, org.ErrKeyNotFound)

		// Revocation stops it; a second one changes nothing; a revoked
		// key cannot be rotated back to life.
		if _, err := f.svc.RevokeKey(ctx, admin, ph.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Authenticate(ctx, secret2); !errors.Is(err, apierr.Unauthorized("api_key_revoked", "")) {
			t.Fatalf("a revoked key: %v", err)
		}
		if k3, err := f.svc.RevokeKey(ctx, admin, ph.ID, k.ID); err != nil || !k3.Revoked() {
			t.Fatalf("revoke again: %+v %v", k3, err)
		}
		_, _, err = f.svc.RotateKey(ctx, admin, ph.ID, k.ID)
		wantErr(t, err, org.ErrKeyNotFound)

		ks, err := f.svc.Keys(ctx, town, ph.ID)
		if err != nil || len(ks) != 1 || !ks[0].Revoked() {
			t.Fatalf("keys: %v %v", ks, err)
		}
		entries, _ := audit.List(ctx, d, audit.Filter{Subject: "org:" + ph.ID, Limit: 10})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
		}
		if len(actions) != 4 || actions[0] != "org.key_revoke" || actions[1] != "org.key_rotate" || actions[2] != "org.key_create" {
			t.Fatalf("audited %v", actions)
		}
	})
}

// Unit accounts: operators make them; an admin account may manage its own
// organisation's keys and nothing else's; a staff account may not.
func TestUnitAccounts(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		hosp := f.org(t, org.Hospital, "宁国市人民医院", "48572011", "341881002")
		boss, err := f.svc.CreateAccount(ctx, town, ph.ID, org.AccountInput{Username: "guosheng", Password: "long enough pw", Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateAccount(ctx, town, ph.ID, org.AccountInput{Username: "guosheng.1", Password: "long enough pw"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateAccount(ctx, admin, hosp.ID, org.AccountInput{Username: "guosheng", Password: "long enough pw"})
		wantErr(t, err, auth.ErrUsernameTaken)
		_, err = f.svc.CreateAccount(ctx, viewer, hosp.ID, org.AccountInput{Username: "his", Password: "long enough pw"})
		wantErr(t, err, org.ErrForbidden)

		token, acct, err := f.auth.UnitLogin(ctx, "guosheng", "long enough pw")
		if err != nil || acct.ID != boss.ID {
			t.Fatalf("login: %v %v", acct, err)
		}
		bossP, err := f.auth.Authenticate(ctx, token)
		if err != nil || bossP.Kind != auth.Unit || bossP.Org != ph.ID || bossP.Role != auth.UnitAdmin || bossP.Can(auth.PersonRead) {
			t.Fatalf("the admin account is %+v (%v)", bossP, err)
		}
		stoken, _, err := f.auth.UnitLogin(ctx, "guosheng.1", "long enough pw")
		if err != nil {
			t.Fatal(err)
		}
		staff, _ := f.auth.Authenticate(ctx, stoken)

		if _, _, err := f.svc.CreateKey(ctx, bossP, ph.ID, org.KeyInput{Name: "收银系统", Scopes: []string{"scan", "pharmacy.purchase"}}); err != nil {
			t.Fatalf("the admin account makes a key: %v", err)
		}
		if ks, err := f.svc.Keys(ctx, bossP, ph.ID); err != nil || len(ks) != 1 {
			t.Fatalf("the admin account lists %v (%v)", ks, err)
		}
		_, _, err = f.svc.CreateKey(ctx, staff, ph.ID, org.KeyInput{Name: "x", Scopes: []string{"scan"}})
		wantErr(t, err, org.ErrForbidden)
		_, _, err = f.svc.CreateKey(ctx, bossP, hosp.ID, org.KeyInput{Name: "x", Scopes: []string{"scan"}})
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.CreateAccount(ctx, bossP, ph.ID, org.AccountInput{Username: "friend", Password: "long enough pw"})
		wantErr(t, err, org.ErrForbidden)
		_, err = f.svc.Accounts(ctx, staff, ph.ID)
		wantErr(t, err, org.ErrForbidden)

		// Disabling an account ends its session.
		if _, err := f.svc.SetAccountDisabled(ctx, town, ph.ID, boss.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.auth.Authenticate(ctx, token); err == nil {
			t.Fatal("a disabled account's session still works")
		}
		if _, _, err := f.auth.UnitLogin(ctx, "guosheng", "long enough pw"); !errors.Is(err, apierr.Unauthorized("unit_account_disabled", "")) {
			t.Fatalf("a disabled account logs in: %v", err)
		}
		_, err = f.svc.SetAccountDisabled(ctx, admin, hosp.ID, boss.ID, false)
		wantErr(t, err, org.ErrAccountNotFound)
	})
}

func orgKey(t *testing.T, f *fixture, o *org.Org, limits auth.KeyLimits, scopes ...string) *auth.Principal {
	t.Helper()
	ctx := context.Background()
	_, secret, err := f.svc.CreateKey(ctx, admin, o.ID, org.KeyInput{Name: "key", Scopes: scopes, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.auth.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func retryAfter(err error) time.Duration {
	var le *org.LimitError
	if errors.As(err, &le) {
		return le.RetryAfter()
	}
	return 0
}

// Authorize: the scope, the kind, and a key's limits, with how long to wait.
func TestAuthorizeEnforcesScopesAndLimits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		hosp := f.org(t, org.Hospital, "宁国市人民医院", "48572011", "341881002")

		key := orgKey(t, f, ph, auth.KeyLimits{PerDay: 5, PerMinute: 3}, "scan")
		if o, err := f.svc.Authorize(ctx, key, org.ScopeScan); err != nil || o.ID != ph.ID {
			t.Fatalf("authorize: %v %v", o, err)
		}
		_, err := f.svc.Authorize(ctx, key, org.ScopePharmacyPurchase)
		wantErr(t, err, org.ErrScopeMissing)
		for _, p := range []*auth.Principal{admin, {Kind: auth.APIKey, ID: "cp", Scopes: []string{"verify"}}, {Kind: auth.Resident, ID: "r"}, nil} {
			_, err := f.svc.Authorize(ctx, p, org.ScopeScan)
			wantErr(t, err, org.ErrOrgOnly)
		}
		// Accounts may do what their kind allows.
		clerk := &auth.Principal{Kind: auth.Unit, ID: "u", Org: hosp.ID, Role: auth.UnitStaff}
		if _, err := f.svc.Authorize(ctx, clerk, org.ScopeScanID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authorize(ctx, clerk, org.ScopePharmacyPurchase)
		wantErr(t, err, org.ErrScopeMissing)

		// The rate: a minute's worth (3) at once, 1 already spent above.
		for i := range 2 {
			if _, err := f.svc.Authorize(ctx, key, org.ScopeScan); err != nil {
				t.Fatalf("request %d: %v", i+2, err)
			}
		}
		_, err = f.svc.Authorize(ctx, key, org.ScopeScan)
		wantErr(t, err, org.ErrRateLimited)
		if ra := retryAfter(err); ra != 20*time.Second {
			t.Fatalf("Retry-After %v, want 20s (one request per 20 s)", ra)
		}
		// The quota: 5 a day, 3 used.
		f.now = f.now.Add(time.Minute)
		for i := range 2 {
			if _, err := f.svc.Authorize(ctx, key, org.ScopeScan); err != nil {
				t.Fatalf("request %d: %v", i+4, err)
			}
		}
		f.now = f.now.Add(time.Minute)
		_, err = f.svc.Authorize(ctx, key, org.ScopeScan)
		wantErr(t, err, org.ErrQuotaExceeded)
		if ra := retryAfter(err); ra != 14*time.Hour-2*time.Minute {
			t.Fatalf("Retry-After %v, want until midnight in Ningguo", ra)
		}
		if err := f.svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		ks, err := f.svc.Keys(ctx, admin, ph.ID)
		if err != nil || ks[0].UsedToday != 5 {
			t.Fatalf("used today: %+v %v", ks, err)
		}
		// The next day in Ningguo the quota is whole again.
		f.now = f.now.Add(14 * time.Hour)
		if _, err := f.svc.Authorize(ctx, key, org.ScopeScan); err != nil {
			t.Fatalf("the next day: %v", err)
		}
		// A key's requests are counted; an account's are not a key's use.
		for outcome, want := range map[string]float64{"admitted": 6, "rate_limited": 1, "quota_exceeded": 1} {
			if got := metricstest.Value(t, f.reg, "healthcode_org_key_requests_total", "outcome", outcome); got != want {
				t.Errorf("key requests %s = %v, want %v", outcome, got, want)
			}
		}
		// A batch counts its size against the quota (4 of 5 left) and one
		// against the rate; one larger than what is left is refused whole.
		f.now = f.now.Add(time.Hour)
		_, err = f.svc.AuthorizeBatch(ctx, key, org.ScopeScan, 5)
		wantErr(t, err, org.ErrQuotaExceeded)
		if _, err := f.svc.AuthorizeBatch(ctx, key, org.ScopeScan, 3); err != nil {
			t.Fatalf("a batch of 3 of the 4 left: %v", err)
		}
		if _, err := f.svc.Authorize(ctx, key, org.ScopeScan); err != nil {
			t.Fatalf("the last request of the day after a batch: %v", err)
		}
		_, err = f.svc.Authorize(ctx, key, org.ScopeScan)
		wantErr(t, err, org.ErrQuotaExceeded)
	})
}

// Across nodes the quota holds to within what the other nodes admit in
// one flush interval: here two nodes, each admitting 2 a round and
// flushing after it.
func TestQuotaHoldsAcrossNodes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		key := orgKey(t, f, ph, auth.KeyLimits{PerDay: 10, PerMinute: 1000}, "scan")
		a, b := f.svc, f.node()
		admitted := 0
		for round := range 5 {
			for _, n := range []*org.Service{a, b} {
				for range 2 {
					if _, err := n.Authorize(ctx, key, org.ScopeScan); err == nil {
						admitted++
					} else if !errors.Is(err, org.ErrQuotaExceeded) {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if err := n.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if admitted < 10 || admitted > 10+2 {
			t.Fatalf("two nodes admitted %d of a quota of 10; the bound is the quota plus one node's flush interval (2)", admitted)
		}
		var uses int64
		if err := d.QueryRowContext(ctx, `SELECT uses FROM api_key_usage WHERE key_id = $1`, key.ID).Scan(&uses); err != nil || uses != int64(admitted) {
			t.Fatalf("the table counts %d (%v), the nodes admitted %d", uses, err, admitted)
		}
		// Once both have flushed, neither admits more.
		for _, n := range []*org.Service{a, b} {
			if _, err := n.Authorize(ctx, key, org.ScopeScan); !errors.Is(err, org.ErrQuotaExceeded) {
				t.Fatalf("after the flushes: %v", err)
			}
		}
		// One node alone holds the quota exactly.
		key2 := orgKey(t, f, ph, auth.KeyLimits{PerDay: 4, PerMinute: 1000}, "scan")
		n := 0
		for range 6 {
			if _, err := b.Authorize(ctx, key2, org.ScopeScan); err == nil {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("one node admitted %d of a quota of 4", n)
		}
	})
}
