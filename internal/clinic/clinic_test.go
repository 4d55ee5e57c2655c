package clinic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
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
// organisation, which may use what its kind allows.
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
		return gateway.Subject{Person: n}, gateway.ErrSubjectForeign
	}
	return gateway.Subject{Person: n}, nil
}

// facts records what it is given (once per key), or fails while broken.
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
	svc   *clinic.Service
	facts *facts
	nums  []int64
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
	f := &fixture{facts: &facts{keys: map[string]bool{}}, now: time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)} // 10:00 in Ningguo
	for i, name := range []string{"王小明", "李秀英"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := persons.Create(ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881002"})
		if err != nil {
			t.Fatal(err)
		}
		f.nums = append(f.nums, p.Num)
	}
	os := orgs{}
	for i, o := range []*org.Org{
		{ID: "fcxijin", Num: 1, Kind: org.FeverClinic, Name: "宁国市人民医院发热门诊", Region: "341881001"},
		{ID: "hospnanshan", Num: 2, Kind: org.Hospital, Name: "宁国市中医院", Region: "341881002"},
		{ID: "pharmacy1", Num: 3, Kind: org.Pharmacy, Name: "国胜大药房", Region: "341881001"},
	} {
		if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		os[o.ID] = o
	}
	f.svc = clinic.New(clinic.Deps{DB: d, Orgs: os, Subjects: subjects{}, Persons: persons, Facts: f.facts, Colors: f.facts}, clinic.Config{})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

func staff(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.Unit, ID: "u-" + orgID, Org: orgID, Role: auth.UnitStaff}
}

func ref(num int64, orgID string) string { return fmt.Sprintf("ref:%d:%s", num, orgID) }

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func count(t *testing.T, d *db.DB, where string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM clinic_visits WHERE `+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func validates(t *testing.T, nf status.NewFact) {
	t.Helper()
	if err := fact.Validate(nf.Fact.Kind, nf.Fact.At, nf.Fact.Until, nf.Fact.Attrs); err != nil {
		t.Fatalf("the fact %s does not validate: %v", nf.Fact.Kind, err)
	}
}

// A visit becomes clinic.fever; its follow-up closes once, with the test
// the clinic took recorded as the patient's nat.result at the sampling
// time. Refused input writes nothing.
func TestVisitAndFollowUp(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		v, err := f.svc.Register(ctx, staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[0], "fcxijin"), Temperature: 38.14,
			Symptoms: []string{"fever", " dry_cough"}, Diagnosis: " 上呼吸道感染 ", Doctor: "刘医生"})
		if err != nil {
			t.Fatal(err)
		}
		if v.MaskedName != "王*明" || v.Temperature != 38.1 || !v.Fever() || !v.Open() || v.Diagnosis != "上呼吸道感染" || v.Color != rules.Yellow {
			t.Fatalf("visit %+v", v)
		}
		if len(f.facts.got) != 1 {
			t.Fatalf("%d facts recorded", len(f.facts.got))
		}
		got := f.facts.got[0]
		if got.Person != f.nums[0] || got.Fact.Kind != fact.ClinicFever || got.Fact.Attrs["clinic"] != "fcxijin" ||
			got.Fact.Attrs["temperature"] != 38.1 || !got.Fact.At.Equal(f.now) || got.RecordedBy != "unit:u-fcxijin" {
			t.Fatalf("fact %+v", got)
		}
		validates(t, got)

		for _, c := range []struct {
			name string
			by   *auth.Principal
			in   clinic.VisitInput
			want error
		}{
			{"no temperature", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Doctor: "刘医生"}, clinic.ErrTemperatureInvalid},
			{"a temperature of 45", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 45, Doctor: "刘医生"}, clinic.ErrTemperatureInvalid},
			{"an unknown symptom", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Symptoms: []string{"hiccups"}, Doctor: "刘医生"}, clinic.ErrSymptomsInvalid},
			{"a symptom twice", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Symptoms: []string{"fever", "fever"}, Doctor: "刘医生"}, clinic.ErrSymptomsInvalid},
			{"no doctor", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Doctor: "  "}, clinic.ErrDoctorInvalid},
			{"a long diagnosis", staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Doctor: "刘", Diagnosis: strings.Repeat("咳", 201)}, clinic.ErrDiagnosisTooLong},
			{"another clinic's subject", staff("hospnanshan"), clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Doctor: "刘"}, gateway.ErrSubjectForeign},
			{"a pharmacy", staff("pharmacy1"), clinic.VisitInput{Subject: ref(f.nums[1], "pharmacy1"), Temperature: 38, Doctor: "刘"}, org.ErrScopeMissing},
			{"an operator", admin, clinic.VisitInput{Subject: ref(f.nums[1], "fcxijin"), Temperature: 38, Doctor: "刘"}, org.ErrOrgOnly},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Register(ctx, c.by, c.in)
				wantErr(t, err, c.want)
			})
		}
		if n := count(t, d, "1 = 1"); n != 1 || len(f.facts.got) != 1 {
			t.Fatalf("refused visits wrote: %d visits, %d facts", n, len(f.facts.got))
		}

		// Closing: refusals first, nothing written.
		for _, c := range []struct {
			name string
			by   *auth.Principal
			id   string
			in   clinic.CloseInput
			want error
		}{
			{"another clinic", staff("hospnanshan"), v.ID, clinic.CloseInput{Outcome: clinic.Negative}, clinic.ErrVisitNotFound},
			{"no such visit", staff("fcxijin"), "nope", clinic.CloseInput{Outcome: clinic.Negative}, clinic.ErrVisitNotFound},
			{"an unknown outcome", staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: "cured"}, clinic.ErrOutcomeInvalid},
			{"a swab before the visit", staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: clinic.Negative, SampledAt: f.now.Add(-time.Minute)}, clinic.ErrSampledAtInvalid},
			{"a swab in the future", staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: clinic.Negative, SampledAt: f.now.Add(time.Hour)}, clinic.ErrSampledAtInvalid},
			{"a discharge with a swab", staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: clinic.Discharged, SampledAt: f.now}, clinic.ErrSampledAtInvalid},
			{"a pharmacy", staff("pharmacy1"), v.ID, clinic.CloseInput{Outcome: clinic.Negative}, org.ErrScopeMissing},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Close(ctx, c.by, c.id, c.in)
				wantErr(t, err, c.want)
			})
		}
		if n := count(t, d, "closed_at IS NULL"); n != 1 || len(f.facts.got) != 1 {
			t.Fatalf("refused closes wrote: %d open, %d facts", n, len(f.facts.got))
		}

		f.now = f.now.Add(6 * time.Hour)
		closed, err := f.svc.Close(ctx, staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: clinic.Negative, SampledAt: v.At.Add(10 * time.Minute), Note: "核酸阴性，居家观察"})
		if err != nil {
			t.Fatal(err)
		}
		if closed.Open() || closed.Outcome != clinic.Negative || !closed.SampledAt.Equal(v.At.Add(10*time.Minute)) || !closed.ClosedAt.Equal(f.now) {
			t.Fatalf("closed %+v", closed)
		}
		test := f.facts.got[1]
		if test.Person != f.nums[0] || test.Fact.Kind != fact.NATResult || test.Fact.Attrs["result"] != fact.ResultNegative ||
			!test.Fact.At.Equal(v.At.Add(10*time.Minute)) || test.Fact.Attrs["lab"] != "宁国市人民医院发热门诊" {
			t.Fatalf("test fact %+v", test)
		}
		validates(t, test)
		_, err = f.svc.Close(ctx, staff("fcxijin"), v.ID, clinic.CloseInput{Outcome: clinic.Positive})
		wantErr(t, err, clinic.ErrVisitClosed)
		if len(f.facts.got) != 2 {
			t.Fatalf("a second close recorded a fact")
		}

		// A discharge closes without a fact; the rules keep the patient
		// yellow until a test.
		v2, err := f.svc.Register(ctx, staff("hospnanshan"), clinic.VisitInput{Subject: ref(f.nums[1], "hospnanshan"), Temperature: 37.0, Doctor: "张医生"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Close(ctx, staff("hospnanshan"), v2.ID, clinic.CloseInput{Outcome: clinic.Discharged}); err != nil {
			t.Fatal(err)
		}
		if len(f.facts.got) != 3 || f.facts.got[2].Fact.Kind != fact.ClinicFever {
			t.Fatalf("facts after a discharge: %d", len(f.facts.got))
		}
	})
}

// The status engine is down: the visit (and the close) are kept and their
// facts recorded by the worker later, once each.
func TestPendingFactsAreRecordedOnce(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.facts.broken = true
		if _, err := f.svc.Register(ctx, staff("fcxijin"), clinic.VisitInput{Subject: ref(f.nums[0], "fcxijin"), Temperature: 38.5, Doctor: "刘医生"}); err == nil {
			t.Fatal("a visit whose fact could not be recorded was answered as done")
		}
		var id string
		d.QueryRowContext(ctx, `SELECT id FROM clinic_visits`).Scan(&id)
		if _, err := f.svc.Close(ctx, staff("fcxijin"), id, clinic.CloseInput{Outcome: clinic.Negative}); err == nil {
			t.Fatal("a close whose test could not be recorded was answered as done")
		}
		f.facts.broken = false
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 0 {
			t.Fatalf("a visit only just stored was taken as left behind (%v)", err)
		}
		f.now = f.now.Add(2 * time.Minute)
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 2 ||
			f.facts.got[0].Fact.Kind != fact.ClinicFever || f.facts.got[1].Fact.Kind != fact.NATResult {
			t.Fatalf("pending: %v, %d facts", err, len(f.facts.got))
		}
		if err := f.svc.RecordPending(ctx); err != nil || len(f.facts.got) != 2 {
			t.Fatalf("recorded twice: %v", err)
		}
	})
}

// Each clinic sees its own open and closed visits; the authority sees
// the towns of its scope.
func TestListsAndSummary(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		visit := func(orgID string, num int64, temp float64) *clinic.Visit {
			t.Helper()
			v, err := f.svc.Register(ctx, staff(orgID), clinic.VisitInput{Subject: ref(num, orgID), Temperature: temp, Doctor: "刘医生"})
			if err != nil {
				t.Fatal(err)
			}
			f.now = f.now.Add(time.Minute)
			return v
		}
		a := visit("fcxijin", f.nums[0], 38.2)
		b := visit("fcxijin", f.nums[1], 36.9)
		visit("hospnanshan", f.nums[1], 37.5)
		if _, err := f.svc.Close(ctx, staff("fcxijin"), a.ID, clinic.CloseInput{Outcome: clinic.Negative}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(15 * time.Hour) // 01:04 the next day in Ningguo
		c := visit("fcxijin", f.nums[0], 39.0)
		if _, err := f.svc.Close(ctx, staff("fcxijin"), b.ID, clinic.CloseInput{Outcome: clinic.Discharged}); err != nil {
			t.Fatal(err)
		}

		day, _ := f.svc.ParseDay("2022-04-01")
		l, err := f.svc.Visits(ctx, staff("fcxijin"), "", day)
		if err != nil {
			t.Fatal(err)
		}
		if l.Registered != 2 || l.Fever != 1 || len(l.Open) != 1 || l.Open[0].ID != c.ID || len(l.Closed) != 1 || l.Closed[0].ID != a.ID ||
			l.Closed[0].Outcome != clinic.Negative || l.Open[0].MaskedName != "王*明" {
			t.Fatalf("the clinic's day: %+v", l)
		}
		next, _ := f.svc.ParseDay("2022-04-02")
		if l, err := f.svc.Visits(ctx, staff("fcxijin"), "", next); err != nil || l.Registered != 1 || len(l.Closed) != 1 || l.Closed[0].ID != b.ID {
			t.Fatalf("the next day: %+v %v", l, err)
		}
		_, err = f.svc.Visits(ctx, staff("fcxijin"), "hospnanshan", day)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Visits(ctx, staff("pharmacy1"), "", day)
		wantErr(t, err, org.ErrScopeMissing)
		if l, err := f.svc.Visits(ctx, admin, "hospnanshan", day); err != nil || l.Registered != 1 || len(l.Open) != 1 {
			t.Fatalf("an operator's view: %+v %v", l, err)
		}
		_, err = f.svc.Visits(ctx, town, "hospnanshan", day)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Visits(ctx, admin, "pharmacy1", day)
		wantErr(t, err, clinic.ErrNotClinic)

		sum, err := f.svc.Summary(ctx, admin, day)
		if err != nil {
			t.Fatal(err)
		}
		x, n := sum.Towns[0], sum.Towns[1]
		if len(sum.Towns) != 2 || x.Region != "341881001" || x.Visits != 2 || x.Fever != 1 || x.Negative != 1 || x.Open != 1 || x.Clinics != 1 ||
			n.Region != "341881002" || n.Visits != 1 || n.Fever != 1 || n.Open != 1 ||
			sum.Total.Visits != 3 || sum.Total.Open != 2 || sum.Total.Clinics != 2 {
			t.Fatalf("summary: %+v %+v %+v", x, n, sum.Total)
		}
		// The next day: b discharged, c registered and open, the clinic in
		// 南山 still open.
		if sum, err := f.svc.Summary(ctx, admin, next); err != nil || sum.Total.Visits != 1 || sum.Total.Discharged != 1 || sum.Total.Open != 2 {
			t.Fatalf("the next day's summary: %+v %v", sum.Total, err)
		}
		if sum, err := f.svc.Summary(ctx, town, day); err != nil || len(sum.Towns) != 1 || sum.Total.Visits != 2 {
			t.Fatalf("the town's summary: %+v %v", sum, err)
		}
		_, err = f.svc.Summary(ctx, staff("fcxijin"), day)
		wantErr(t, err, clinic.ErrForbidden)
		if _, err := f.svc.Summary(ctx, viewer, day); err != nil {
			t.Fatalf("a viewer reads statistics: %v", err)
		}
		_, err = f.svc.ParseDay("2022-13-01")
		wantErr(t, err, clinic.ErrDateInvalid)
	})
}
