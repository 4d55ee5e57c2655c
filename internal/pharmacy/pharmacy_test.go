package pharmacy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/status"
)

var (
	admin  = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}
	town   = &auth.Principal{Kind: auth.Operator, ID: "xijin", Role: auth.HealthOfficer, Region: "341881001"}
	viewer = &auth.Principal{Kind: auth.Operator, ID: "viewer", Role: auth.Viewer, Region: "341881"}
)

// orgs stands in for the organisation service: the principal's Org is the
// organisation, every one of the kind its id starts with.
type orgs = orgtest.Orgs

// subjects opens "ref:N:ORG" as person N for that organisation.
type subjects struct{}

func (subjects) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	var n int64
	var id string
	if _, err := fmt.Sscanf(strings.ReplaceAll(ref, ":", " "), "ref %d %s", &n, &id); err != nil {
		return gateway.Subject{}, gateway.ErrSubjectInvalid
	}
	if id != o.ID {
		return gateway.Subject{}, gateway.ErrSubjectForeign
	}
	return gateway.Subject{Person: n}, nil
}

// facts records what it is given, or fails while broken.
type facts struct {
	got    []status.NewFact
	keys   map[string]bool
	broken bool
}

func (f *facts) Record(_ context.Context, nf ...status.NewFact) (int, error) {
	if f.broken {
		return 0, errors.New("status engine unreachable")
	}
	n := 0
	for _, x := range nf {
		if !f.keys[x.Key] {
			f.keys[x.Key] = true
			f.got = append(f.got, x)
			n++
		}
	}
	return n, nil
}

func (f *facts) Color(int64) (rules.Color, uint64) { return rules.Yellow, 1 }

type fixture struct {
	svc   *pharmacy.Service
	facts *facts
	nums  []int64
	orgs  orgs
	now   time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	persons, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{facts: &facts{keys: map[string]bool{}}, orgs: orgs{},
		now: time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)} // 10:00 in Ningguo
	for i, name := range []string{"王小明", "李秀英"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := persons.Create(ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881002"})
		if err != nil {
			t.Fatal(err)
		}
		f.nums = append(f.nums, p.Num)
	}
	// Real organisation rows: purchases refer to them.
	for i, o := range []*org.Org{
		{ID: "phxijin", Num: 1, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
		{ID: "phnanshan", Num: 2, Kind: org.Pharmacy, Name: "百姓缘大药房", Region: "341881002"},
		{ID: "hospital1", Num: 3, Kind: org.Hospital, Name: "宁国市人民医院", Region: "341881001"},
	} {
		if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		f.orgs[o.ID] = o
	}
	f.svc = pharmacy.New(pharmacy.Deps{DB: d, Orgs: f.orgs, Subjects: subjects{}, Persons: persons, Facts: f.facts, Colors: f.facts},
		pharmacy.Config{Region: "341881"})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

func clerk(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.Unit, ID: "u-" + orgID, Org: orgID, Role: auth.UnitStaff}
}

func ref(num int64, orgID string) string { return fmt.Sprintf("ref:%d:%s", num, orgID) }

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegisterAPurchase(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		pu, err := f.svc.Register(ctx, clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "antiviral",
			Items: []pharmacy.Item{{Name: " 连花清瘟胶囊 "}, {Name: "奥司他韦", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if pu.MaskedName != "王*明" || pu.Color != rules.Yellow || pu.Items[0].Name != "连花清瘟胶囊" || pu.Items[0].Quantity != 1 {
			t.Fatalf("purchase %+v", pu)
		}
		if len(f.facts.got) != 1 {
			t.Fatalf("%d facts recorded", len(f.facts.got))
		}
		got := f.facts.got[0]
		if got.Person != f.nums[0] || got.Fact.Kind != fact.PharmacyPurchase || got.Fact.Attrs["drug_class"] != "antiviral" ||
			got.Fact.Attrs["pharmacy"] != "phxijin" || got.Fact.Attrs["drug"] != "连花清瘟胶囊、奥司他韦" || got.RecordedBy != "unit:u-phxijin" {
			t.Fatalf("fact %+v", got)
		}
		if err := fact.Validate(got.Fact.Kind, got.Fact.At, got.Fact.Until, got.Fact.Attrs); err != nil {
			t.Fatalf("the fact does not validate: %v", err)
		}

		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   pharmacy.PurchaseInput
			want error
		}{
			{"an unknown class", clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "aspirin"}, pharmacy.ErrDrugClassUnknown},
			{"no class", clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin")}, pharmacy.ErrDrugClassUnknown},
			{"too many items", clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "cough", Items: make([]pharmacy.Item, 21)}, pharmacy.ErrItemsInvalid},
			{"a quantity of 1000", clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "cough", Items: []pharmacy.Item{{Name: "x", Quantity: 1000}}}, pharmacy.ErrItemsInvalid},
			{"another pharmacy's subject", clerk("phnanshan"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "cough"}, gateway.ErrSubjectForeign},
			{"a hospital", clerk("hospital1"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "hospital1"), DrugClass: "cough"}, org.ErrScopeMissing},
			{"an operator", admin, pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "cough"}, org.ErrOrgOnly},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Register(ctx, c.by, c.in)
				wantErr(t, err, c.want)
			})
		}
		if n := count(t, d, "pharmacy_purchases"); n != 1 || len(f.facts.got) != 1 {
			t.Fatalf("refused purchases wrote: %d purchases, %d facts", n, len(f.facts.got))
		}

		// The status engine is down: the purchase is kept and its fact is
		// recorded by the worker later, once.
		f.facts.broken = true
		if _, err := f.svc.Register(ctx, clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[1], "phxijin"), DrugClass: "cough"}); err == nil {
			t.Fatal("a purchase whose fact could not be recorded was answered as done")
		}
		f.facts.broken = false
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 1 {
			t.Fatalf("a purchase only just stored was taken as left behind (%v)", err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 2 || f.facts.got[1].Person != f.nums[1] {
			t.Fatalf("pending: %v, %d facts", err, len(f.facts.got))
		}
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 2 {
			t.Fatalf("recorded twice: %v", err)
		}
	})
}

func TestDrugClassesAreDataTheAuthorityEdits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		cs, err := f.svc.Classes(ctx, false)
		if err != nil || len(cs) != 4 || cs[0].Code != "antipyretic" || cs[0].Name.ZH != "退热药" {
			t.Fatalf("seeded classes: %v %v", cs, err)
		}
		c, err := f.svc.SaveClass(ctx, admin, pharmacy.ClassInput{Code: "antigen_test", NameZH: "抗原检测试剂", NameEN: "antigen tests", Active: true})
		if err != nil || c.Position != 5 {
			t.Fatalf("add: %+v %v", c, err)
		}
		if _, err := f.svc.Register(ctx, clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "antigen_test"}); err != nil {
			t.Fatalf("a purchase of the new class: %v", err)
		}
		// Retiring a class refuses it for new purchases; its name stays.
		if _, err := f.svc.SaveClass(ctx, admin, pharmacy.ClassInput{Code: "cough", NameZH: "止咳药", NameEN: "cough medicine"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Register(ctx, clerk("phxijin"), pharmacy.PurchaseInput{Subject: ref(f.nums[0], "phxijin"), DrugClass: "cough"})
		wantErr(t, err, pharmacy.ErrDrugClassUnknown)
		if cs, _ := f.svc.Classes(ctx, false); len(cs) != 4 {
			t.Fatalf("classes in use after retiring one: %d", len(cs))
		}
		if cs, _ := f.svc.Classes(ctx, true); len(cs) != 5 || cs[3].Code != "cough" || cs[3].Active {
			t.Fatalf("every class: %v", cs)
		}
		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   pharmacy.ClassInput
			want error
		}{
			{"a viewer", viewer, pharmacy.ClassInput{Code: "x1", NameZH: "x", NameEN: "x"}, pharmacy.ErrForbidden},
			{"a town's officer", town, pharmacy.ClassInput{Code: "x1", NameZH: "x", NameEN: "x"}, pharmacy.ErrForbidden},
			{"a pharmacy", clerk("phxijin"), pharmacy.ClassInput{Code: "x1", NameZH: "x", NameEN: "x"}, pharmacy.ErrForbidden},
			{"a bad code", admin, pharmacy.ClassInput{Code: "X-1", NameZH: "x", NameEN: "x"}, pharmacy.ErrDrugClassInvalid},
			{"no English name", admin, pharmacy.ClassInput{Code: "x1", NameZH: "x"}, pharmacy.ErrClassNameInvalid},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.SaveClass(ctx, c.by, c.in)
				wantErr(t, err, c.want)
			})
		}
		if n := count(t, d, "drug_classes"); n != 5 {
			t.Fatalf("%d classes stored", n)
		}
	})
}

// Each pharmacy sees its own day; the authority sees the towns of its scope.
func TestReportsAndSummary(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		buy := func(orgID string, num int64, class string) {
			t.Helper()
			if _, err := f.svc.Register(ctx, clerk(orgID), pharmacy.PurchaseInput{Subject: ref(num, orgID), DrugClass: class}); err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
		}
		buy("phxijin", f.nums[0], "antipyretic")
		buy("phxijin", f.nums[0], "cough")
		buy("phxijin", f.nums[1], "antipyretic")
		buy("phnanshan", f.nums[1], "antibiotic")
		f.now = f.now.Add(15 * time.Hour) // 01:04 the next day in Ningguo
		buy("phxijin", f.nums[1], "antiviral")

		day, _ := f.svc.ParseDay("2022-04-01")
		r, err := f.svc.Report(ctx, clerk("phxijin"), "", day)
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != 3 || r.Buyers != 2 || len(r.Purchases) != 3 || r.Purchases[0].DrugClass != "antipyretic" || r.Purchases[0].MaskedName != "李*英" {
			t.Fatalf("the pharmacy's day: %+v", r)
		}
		want := []pharmacy.ClassCount{{"antipyretic", 2}, {"antiviral", 0}, {"antibiotic", 0}, {"cough", 1}}
		if fmt.Sprint(r.Counts) != fmt.Sprint(want) {
			t.Fatalf("counts %v, want %v", r.Counts, want)
		}
		var csv bytes.Buffer
		if err := f.svc.WriteCSV(ctx, &csv, r, "en"); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Split(strings.TrimSpace(csv.String()), "\n"); len(lines) != 4 || lines[0] != "time,buyer,drug class,drugs,id" ||
			!strings.HasPrefix(lines[1], "2022-04-01 10:02:00,李*英,antipyretics,,") {
			t.Fatalf("CSV:\n%s", csv.String())
		}
		_, err = f.svc.Report(ctx, clerk("phxijin"), "phnanshan", day)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Report(ctx, clerk("hospital1"), "", day)
		wantErr(t, err, org.ErrScopeMissing)
		if r, err := f.svc.Report(ctx, admin, "phnanshan", day); err != nil || r.Total != 1 {
			t.Fatalf("an operator's view: %+v %v", r, err)
		}
		_, err = f.svc.Report(ctx, town, "phnanshan", day)
		wantErr(t, err, org.ErrNotFound)

		sum, err := f.svc.Summary(ctx, admin, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Towns) != 2 || sum.Towns[0].Region != "341881001" || sum.Towns[0].Total != 3 || sum.Towns[0].Buyers != 2 ||
			sum.Towns[0].Pharmacies != 1 || sum.Towns[0].Counts["antipyretic"] != 2 || sum.Towns[1].Counts["antibiotic"] != 1 ||
			sum.Total.Total != 4 || sum.Total.Buyers != 2 || sum.Total.Pharmacies != 2 {
			t.Fatalf("summary: %+v %+v %+v", sum.Towns[0], sum.Towns[1], sum.Total)
		}
		if sum, err := f.svc.Summary(ctx, town, day); err != nil || len(sum.Towns) != 1 || sum.Total.Total != 3 {
			t.Fatalf("the town's summary: %+v %v", sum, err)
		}
		_, err = f.svc.Summary(ctx, clerk("phxijin"), day)
		wantErr(t, err, pharmacy.ErrForbidden)
		_, err = f.svc.ParseDay("2022-13-01")
		wantErr(t, err, pharmacy.ErrDateInvalid)
	})
}
