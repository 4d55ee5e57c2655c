package ride_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
)

var admin = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}

// orgs stands in for the organisation service; it counts what each key
// was charged against its quota.
type orgs struct {
	byID    map[string]*org.Org
	list    []*org.Org
	charged map[string]int64
}

func (o *orgs) Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error) {
	return o.AuthorizeBatch(ctx, p, scope, 1)
}

func (o *orgs) AuthorizeBatch(_ context.Context, p *auth.Principal, scope string, n int64) (*org.Org, error) {
	x := o.byID[p.Org]
	if x == nil || p.Kind != auth.APIKey {
		return nil, org.ErrOrgOnly
	}
	if !x.Kind.Allows(scope) {
		return nil, org.ErrScopeMissing
	}
	o.charged[p.ID] += n
	return x, nil
}

func (o *orgs) OfKinds(_ context.Context, kinds ...org.Kind) ([]*org.Org, error) {
	var out []*org.Org
	for _, x := range o.list {
		for _, k := range kinds {
			if x.Kind == k {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func (o *orgs) Public(_ context.Context, id string) (*org.Org, error) {
	if x := o.byID[id]; x != nil {
		return x, nil
	}
	return nil, org.ErrNotFound
}

// residents maps a resident's account (the principal's ID) to the person.
type residents map[string]person.Profile

func (r residents) ActingFor(_ context.Context, by *auth.Principal, personID string) (person.Profile, error) {
	if by.Kind != auth.Resident {
		return person.Profile{}, auth.ErrForbidden
	}
	return r[by.ID], nil
}

type colors map[int64]rules.Color

func (c colors) Color(num int64) (rules.Color, uint64) { return c[num], 1 }

type fixture struct {
	svc    *ride.Service
	orgs   *orgs
	people residents
	colors colors
	d      *db.DB
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{orgs: &orgs{byID: map[string]*org.Org{}, charged: map[string]int64{}}, people: residents{}, colors: colors{}, d: d}
	for i, o := range []*org.Org{
		{ID: "didi", Num: 1, Kind: org.RideHailing, Name: "宁国畅行网约车平台", Region: "341881002"},
		{ID: "taxi", Num: 2, Kind: org.Taxi, Name: "宁国出租汽车公司", Region: "341881001"},
		{ID: "pharmacy", Num: 3, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
	} {
		if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		f.orgs.byID[o.ID], f.orgs.list = o, append(f.orgs.list, o)
	}
	f.svc = ride.New(d, f.orgs, f.people, f.colors)
	return f
}

// resident registers persons and gives each an account id: "r0", "r1", ...
func (f *fixture) residents(t testing.TB, n int) []*auth.Principal {
	t.Helper()
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	persons, err := person.New(f.d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	var out []*auth.Principal
	for i := range n {
		first17 := fmt.Sprintf("341881198001%02d%03d", i%28+1, 100+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := persons.Create(context.Background(), admin, person.Input{Name: "乘客" + fmt.Sprint(i), IDType: "resident_id",
			IDNumber: first17 + string(c), Region: "341881002"})
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("r%d", i)
		f.people[id] = p.Profile()
		out = append(out, &auth.Principal{Kind: auth.Resident, ID: id})
	}
	return out
}

func key(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.APIKey, ID: "k-" + orgID, Org: orgID, Scopes: []string{org.ScopeRideCheck}}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// A resident shares a handle with a platform and withdraws it; the
// platform learns the colour by it and nothing else, another platform
// nothing at all.
func TestHandlesAreConsentedPerPlatform(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		me := f.residents(t, 1)[0]
		f.colors[f.people["r0"].Num] = rules.Yellow

		ps, err := f.svc.Platforms(ctx, me)
		if err != nil || len(ps) != 2 || ps[0].Org.ID != "didi" || ps[0].Handle != "" {
			t.Fatalf("platforms: %+v %v", ps, err)
		}
		a, err := f.svc.Grant(ctx, me, "didi")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(a.Handle, "hch_") || len(a.Handle) != 24 || strings.Contains(a.Handle, f.people["r0"].ID) {
			t.Fatalf("handle %q", a.Handle)
		}
		if again, err := f.svc.Grant(ctx, me, "didi"); err != nil || again.Handle != a.Handle {
			t.Fatalf("granted twice: %+v %v", again, err)
		}
		b, err := f.svc.Grant(ctx, me, "taxi")
		if err != nil || b.Handle == a.Handle {
			t.Fatalf("the taxi company's handle: %+v %v", b, err)
		}
		_, err = f.svc.Grant(ctx, me, "pharmacy")
		wantErr(t, err, ride.ErrPlatformNotFound)
		_, err = f.svc.Grant(ctx, admin, "didi")
		wantErr(t, err, auth.ErrForbidden)
		if ps, _ := f.svc.Platforms(ctx, me); ps[0].Handle != a.Handle || ps[1].Handle != b.Handle {
			t.Fatalf("platforms after granting: %+v %+v", ps[0], ps[1])
		}

		r, err := f.svc.Check(ctx, key("didi"), a.Handle)
		if err != nil || !r.Known || r.Color != rules.Yellow {
			t.Fatalf("check: %+v %v", r, err)
		}
		for _, c := range []struct {
			name   string
			by     *auth.Principal
			handle string
			want   error
		}{
			{"another platform's handle", key("taxi"), a.Handle, ride.ErrHandleUnknown},
			{"a made-up handle", key("didi"), "hch_" + strings.Repeat("a", 20), ride.ErrHandleUnknown},
			{"not a handle", key("didi"), f.people["r0"].ID, ride.ErrHandleInvalid},
			{"nothing", key("didi"), " ", ride.ErrHandleMissing},
			{"a pharmacy", key("pharmacy"), a.Handle, org.ErrScopeMissing},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Check(ctx, c.by, c.handle)
				wantErr(t, err, c.want)
			})
		}

		if err := f.svc.Withdraw(ctx, me, "didi"); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Check(ctx, key("didi"), a.Handle)
		wantErr(t, err, ride.ErrHandleUnknown)
		wantErr(t, f.svc.Withdraw(ctx, me, "didi"), ride.ErrNotGranted)
		if r, err := f.svc.Check(ctx, key("taxi"), b.Handle); err != nil || r.Color != rules.Yellow {
			t.Fatalf("withdrawing one platform's handle stopped another's: %+v %v", r, err)
		}
		// Granting again makes a new handle; the old one stays dead.
		c, err := f.svc.Grant(ctx, me, "didi")
		if err != nil || c.Handle == a.Handle {
			t.Fatalf("granted again: %+v %v", c, err)
		}
		_, err = f.svc.Check(ctx, key("didi"), a.Handle)
		wantErr(t, err, ride.ErrHandleUnknown)

		es, err := audit.List(ctx, d, audit.Filter{Subject: "person:" + f.people["r0"].ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			if strings.HasPrefix(e.Action, "ride.") {
				actions = append(actions, e.Action+" "+e.Actor)
			}
		}
		want := "[ride.handle_grant resident:r0 ride.handle_withdraw resident:r0 ride.handle_grant resident:r0 ride.handle_grant resident:r0]"
		if fmt.Sprint(actions) != want {
			t.Fatalf("audit, newest first: %v", actions)
		}
	})
}

// A batch answers each handle in order, counts its size against the
// quota, and is refused whole when malformed (counted once).
func TestBatch(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		rs := f.residents(t, 3)
		f.colors[f.people["r1"].Num], f.colors[f.people["r2"].Num] = rules.Red, rules.Green
		var handles []string
		for _, r := range rs {
			p, err := f.svc.Grant(ctx, r, "didi")
			if err != nil {
				t.Fatal(err)
			}
			handles = append(handles, p.Handle)
		}
		other, _ := f.svc.Grant(ctx, rs[0], "taxi")
		batch := []string{handles[1], other.Handle, handles[0], handles[2], handles[1]}
		got, err := f.svc.CheckBatch(ctx, key("didi"), batch)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got {
			if r.Known {
				out = append(out, r.Color.String())
			} else {
				out = append(out, "unknown")
			}
		}
		// r0 has no colour in the cache yet: green, as a scan says.
		if fmt.Sprint(out) != "[red unknown green green red]" || got[1].Handle != other.Handle {
			t.Fatalf("batch: %v", out)
		}
		if f.orgs.charged["k-didi"] != 5 {
			t.Fatalf("the batch of 5 was charged %d", f.orgs.charged["k-didi"])
		}
		for _, c := range []struct {
			name    string
			handles []string
			want    error
		}{
			{"empty", nil, ride.ErrBatchSize},
			{"too many", make([]string, ride.MaxBatch+1), ride.ErrBatchSize},
			{"a bad handle", []string{handles[0], "driver-17"}, ride.ErrHandleInvalid},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := f.orgs.charged["k-didi"]
				_, err := f.svc.CheckBatch(ctx, key("didi"), c.handles)
				wantErr(t, err, c.want)
				if f.orgs.charged["k-didi"] != before+1 {
					t.Fatalf("a refused batch was charged %d", f.orgs.charged["k-didi"]-before)
				}
			})
		}
		_, err = f.svc.CheckBatch(ctx, key("pharmacy"), batch)
		wantErr(t, err, org.ErrScopeMissing)
	})
}

// BenchmarkCheckBatch10k is a platform's shift start: 10,000 drivers'
// handles checked in one batch (all in use, in random order), against the
// store; ns/op is per batch. The persons and handles go straight into the
// tables.
func BenchmarkCheckBatch10k(b *testing.B) {
	const drivers = ride.MaxBatch
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.New(b, e)
			f := newFixture(b, d)
			handles := seedHandles(b, d, "didi", drivers)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rs, err := f.svc.CheckBatch(ctx, key("didi"), handles)
				if err != nil {
					b.Fatal(err)
				}
				if !rs[drivers-1].Known {
					b.Fatal("a driver's handle is unknown")
				}
			}
			b.ReportMetric(float64(b.N*drivers)/b.Elapsed().Seconds(), "drivers/s")
		})
	}
}

// seedHandles inserts n persons, each with a handle in use with the
// platform, in big statements, and returns the handles shuffled.
func seedHandles(b *testing.B, d *db.DB, orgID string, n int) []string {
	b.Helper()
	ctx := context.Background()
	var handles []string
	err := d.InTx(ctx, func(tx db.Tx) error {
		last, err := db.NextVal(ctx, tx, "persons", int64(n))
		if err != nil {
			return err
		}
		persons := db.Insert{Head: `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, birth_year,
			created_at, created_by) VALUES `, Cols: 11}
		hs := db.Insert{Head: `INSERT INTO ride_handles (handle, org_id, person_num, granted_at, granted_by) VALUES `, Cols: 5}
		var pargs, hargs []any
		for num := last - int64(n) + 1; num <= last; num++ {
			pargs = append(pargs, num, fmt.Sprintf("p%019d", num), "passport", []byte(fmt.Sprint(num)), []byte{1}, []byte{1}, []byte{1},
				"341881002", 1980, 0, "bench")
			h := fmt.Sprintf("hch_%020d", num)
			h = "hch_" + strings.NewReplacer("0", "a", "1", "b", "8", "c", "9", "d").Replace(h[4:])
			hargs = append(hargs, h, orgID, num, 0, "bench")
			handles = append(handles, h)
		}
		if _, err := persons.Exec(ctx, tx, d.Engine(), pargs); err != nil {
			return err
		}
		_, err = hs.Exec(ctx, tx, d.Engine(), hargs)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	// A fixed shuffle: drivers start in no order the index knows.
	for i := range handles {
		j := (i*7919 + 13) % len(handles)
		handles[i], handles[j] = handles[j], handles[i]
	}
	return handles
}
