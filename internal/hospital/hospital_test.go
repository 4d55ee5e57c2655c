package hospital_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
)

var (
	admin = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
	town  = &auth.Principal{Kind: auth.Operator, ID: "nanshan", Role: auth.HealthOfficer, Region: "341881002"}
)

// orgs stands in for the organisation service.
type orgs = orgtest.Orgs

// subjects opens "ref:N:ORG:SCAN" as person N for that organisation, scan
// SCAN; "old:N:ORG:SCAN" has expired.
type subjects struct{}

func (subjects) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	parts := strings.Split(ref, ":")
	if len(parts) != 4 {
		return gateway.Subject{}, gateway.ErrSubjectInvalid
	}
	var n int64
	fmt.Sscan(parts[1], &n)
	sub := gateway.Subject{Person: n, Ref: parts[3]}
	switch {
	case parts[2] != o.ID:
		return sub, gateway.ErrSubjectForeign
	case parts[0] == "old":
		return sub, gateway.ErrSubjectExpired
	}
	return sub, nil
}

type colors map[int64]rules.Color

func (c colors) Color(num int64) (rules.Color, uint64) { return c[num], 1 }

type fixture struct {
	svc     *hospital.Service
	nums    []int64
	ids     []string
	numbers []string
	colors  colors
	now     time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{colors: colors{}, now: time.Date(2022, 4, 1, 0, 30, 0, 0, time.UTC)} // 08:30 in Ningguo
	for i, name := range []string{"王小明", "李秀英", "赵红"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		in := person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881002"}
		p, err := persons.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		f.nums, f.ids, f.numbers = append(f.nums, p.Num), append(f.ids, p.ID), append(f.numbers, in.IDNumber)
	}
	f.colors[f.nums[1]], f.colors[f.nums[2]] = rules.Yellow, rules.Red
	os := orgs{}
	for i, o := range []*org.Org{
		{ID: "hosp", Num: 1, Kind: org.Hospital, Name: "宁国市人民医院", Region: "341881001"},
		{ID: "clinic", Num: 2, Kind: org.FeverClinic, Name: "宁国市人民医院发热门诊", Region: "341881001"},
		{ID: "tcm", Num: 3, Kind: org.Hospital, Name: "宁国市中医院", Region: "341881002"},
		{ID: "pharmacy", Num: 4, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
	} {
		if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		os[o.ID] = o
	}
	f.svc = hospital.New(hospital.Deps{DB: d, Orgs: os, Subjects: subjects{}, Persons: persons, Colors: f.colors}, hospital.Config{})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

func desk(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.APIKey, ID: "k-" + orgID, Org: orgID, Scopes: []string{org.ScopeHospitalIdentity, org.ScopeHospitalQueue}}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func rows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// auditOf lists the audit log's actions about a person.
func auditOf(t *testing.T, d *db.DB, personID string) []string {
	t.Helper()
	es, err := audit.List(context.Background(), d, audit.Filter{Subject: "person:" + personID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Action != "person.create" {
			out = append(out, e.Action+" "+e.Actor)
		}
	}
	return out
}

// The patient's identity, once per scan, audited as a read by the
// organisation's key; a second use of the scan, another hospital's scan
// or an expired one is refused and audited; nothing is handed over.
func TestIdentityOncePerScan(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		id, err := f.svc.Identity(ctx, desk("hosp"), fmt.Sprintf("ref:%d:hosp:scan1", f.nums[0]), hospital.PurposeCard)
		if err != nil {
			t.Fatal(err)
		}
		if id.Name != "王小明" || id.IDType != idnum.ResidentID || id.IDNumber != f.numbers[0] || id.Purpose != hospital.PurposeCard {
			t.Fatalf("identity %+v", id)
		}
		if got := auditOf(t, d, f.ids[0]); len(got) != 1 || got[0] != "person.read apikey:k-hosp" {
			t.Fatalf("audit: %v", got)
		}
		for _, c := range []struct {
			name    string
			by      *auth.Principal
			ref     string
			purpose string
			want    error
		}{
			{"the same scan again", desk("hosp"), fmt.Sprintf("ref:%d:hosp:scan1", f.nums[0]), hospital.PurposeRegistration, hospital.ErrSubjectUsed},
			{"another hospital's scan", desk("tcm"), fmt.Sprintf("ref:%d:hosp:scan2", f.nums[0]), hospital.PurposeCard, gateway.ErrSubjectForeign},
			{"an expired scan", desk("hosp"), fmt.Sprintf("old:%d:hosp:scan3", f.nums[0]), hospital.PurposeCard, gateway.ErrSubjectExpired},
			{"an altered scan", desk("hosp"), "garbage", hospital.PurposeCard, gateway.ErrSubjectInvalid},
			{"no purpose", desk("hosp"), fmt.Sprintf("ref:%d:hosp:scan4", f.nums[0]), "", hospital.ErrPurposeInvalid},
			{"a pharmacy", desk("pharmacy"), fmt.Sprintf("ref:%d:pharmacy:scan5", f.nums[0]), hospital.PurposeCard, org.ErrScopeMissing},
			{"an operator", admin, fmt.Sprintf("ref:%d:hosp:scan6", f.nums[0]), hospital.PurposeCard, org.ErrOrgOnly},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Identity(ctx, c.by, c.ref, c.purpose)
				wantErr(t, err, c.want)
			})
		}
		if n := rows(t, d, "hospital_handoffs"); n != 1 {
			t.Fatalf("%d hand-offs stored", n)
		}
		want := []string{"person.read_refused apikey:k-hosp", "person.read_refused apikey:k-tcm", "person.read_refused apikey:k-hosp", "person.read apikey:k-hosp"}
		if got := auditOf(t, d, f.ids[0]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("audit, newest first: %v, want %v", got, want)
		}
		// A fever clinic builds cards too; a fresh scan is a fresh consent.
		if _, err := f.svc.Identity(ctx, desk("clinic"), fmt.Sprintf("ref:%d:clinic:scan7", f.nums[0]), hospital.PurposeRegistration); err != nil {
			t.Fatal(err)
		}
	})
}

// A queue number per scan: green in the department asked for, yellow at
// the fever clinic with the reason, red none; numbers count per
// department and day.
func TestQueue(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		scan := 0
		ref := func(i int, orgID string) string {
			scan++
			f.now = f.now.Add(time.Minute)
			return fmt.Sprintf("ref:%d:%s:s%d", f.nums[i], orgID, scan)
		}
		g, err := f.svc.Queue(ctx, desk("hosp"), ref(0, "hosp"), " 内科 ")
		if err != nil {
			t.Fatal(err)
		}
		if g.Department != "内科" || g.Number != 1 || g.Routed || g.Color != rules.Green || len(g.Reasons) != 0 || g.MaskedName != "王*明" {
			t.Fatalf("green: %+v", g)
		}
		y, err := f.svc.Queue(ctx, desk("hosp"), ref(1, "hosp"), "内科")
		if err != nil {
			t.Fatal(err)
		}
		if y.Department != hospital.FeverDepartment || y.Asked != "内科" || y.Number != 1 || !y.Routed || y.Color != rules.Yellow ||
			fmt.Sprint(y.Reasons) != "[color_yellow]" {
			t.Fatalf("yellow: %+v", y)
		}
		again := ref(0, "hosp")
		if g2, err := f.svc.Queue(ctx, desk("hosp"), again, "内科"); err != nil || g2.Number != 2 {
			t.Fatalf("the second in 内科: %+v %v", g2, err)
		}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			ref  string
			dep  string
			want error
		}{
			{"red", desk("hosp"), ref(2, "hosp"), "内科", hospital.ErrRefusedRed},
			{"the same scan again", desk("hosp"), again, "外科", hospital.ErrSubjectUsed},
			{"no department", desk("hosp"), ref(0, "hosp"), " ", hospital.ErrDepartmentInvalid},
			{"another hospital's scan", desk("tcm"), ref(0, "hosp"), "内科", gateway.ErrSubjectForeign},
			{"a fever clinic", desk("clinic"), ref(0, "clinic"), "内科", org.ErrScopeMissing},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Queue(ctx, c.by, c.ref, c.dep)
				wantErr(t, err, c.want)
			})
		}
		if n := rows(t, d, "hospital_tickets"); n != 3 {
			t.Fatalf("%d tickets stored", n)
		}
		// The next day starts at 1 again.
		f.now = f.now.Add(24 * time.Hour)
		if n, err := f.svc.Queue(ctx, desk("hosp"), ref(0, "hosp"), "内科"); err != nil || n.Number != 1 {
			t.Fatalf("the next day: %+v %v", n, err)
		}

		day, _ := f.svc.ParseDay("2022-04-01")
		q, err := f.svc.Tickets(ctx, desk("hosp"), "", day)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Tickets) != 3 || q.Routed != 1 || fmt.Sprint(q.Counts) != "[{内科 2} {发热门诊 1}]" || q.Tickets[1].Reasons[0] != "color_yellow" {
			t.Fatalf("the day's queue: %+v", q)
		}
		if q, err := f.svc.Tickets(ctx, desk("tcm"), "", day); err != nil || len(q.Tickets) != 0 {
			t.Fatalf("another hospital sees %+v %v", q, err)
		}
		_, err = f.svc.Tickets(ctx, desk("tcm"), "hosp", day)
		wantErr(t, err, org.ErrNotFound)
		if q, err := f.svc.Tickets(ctx, admin, "hosp", day); err != nil || len(q.Tickets) != 3 {
			t.Fatalf("an operator's view: %+v %v", q, err)
		}
		_, err = f.svc.Tickets(ctx, town, "hosp", day)
		wantErr(t, err, org.ErrNotFound)
	})
}
