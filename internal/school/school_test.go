package school_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/school"
)

// orgs stands in for the organisation service: a unit principal acts for
// its organisation, with the scopes its kind allows.
type orgs = orgtest.Orgs

// scanner stands in for the gateway: a "code" is the scan it answers.
type scanner map[string]*gateway.Scan

func (s scanner) Scan(_ context.Context, _ *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error) {
	sc := s[in.Code]
	if sc == nil {
		return nil, gateway.ErrCodeForged
	}
	if sc.Kind == "certificate" && !in.Slip {
		return nil, gateway.ErrCodeInvalid
	}
	return sc, nil
}

func (s scanner) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	var num int64
	if _, err := fmt.Sscanf(ref, "person-%d", &num); err != nil {
		return gateway.Subject{}, gateway.ErrSubjectInvalid
	}
	return gateway.Subject{Person: num}, nil
}

type nobody struct{}

func (nobody) ActingFor(context.Context, *auth.Principal, string) (person.Profile, error) {
	return person.Profile{}, auth.ErrForbidden
}

type fixture struct {
	svc  *school.Service
	d    *db.DB
	desk *auth.Principal
	now  time.Time
}

// newFixture is a school with n persons (numbers 1..n) and no classes.
func newFixture(t testing.TB, d *db.DB, n int, sc scanner) *fixture {
	t.Helper()
	ctx := context.Background()
	o := &org.Org{ID: "sch", Num: 1, Kind: org.School, Name: "津河小学", Region: "341881001"}
	if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
		VALUES ($1, $2, $3, $4, 'u1', $5, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, o.Region); err != nil {
		t.Fatal(err)
	}
	ins := db.Insert{Head: `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, created_at, created_by) VALUES `, Cols: 10}
	var args []any
	for i := 1; i <= n; i++ {
		b := []byte(fmt.Sprint(i))
		args = append(args, i, fmt.Sprintf("P%d", i), "resident", b, b, b, b, "341881001", 0, "test")
	}
	if n > 0 {
		if _, err := ins.Exec(ctx, d, d.Engine(), args); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{d: d, desk: &auth.Principal{Kind: auth.Unit, ID: "u", Org: o.ID, Role: auth.UnitStaff, Region: o.Region},
		now: time.Date(2022, 4, 1, 7, 40, 0, 0, time.FixedZone("CST", 8*3600))}
	f.svc = school.New(school.Deps{DB: d, Orgs: orgs{o.ID: o}, Gateway: sc, Persons: nobody{}})
	f.svc.SetClock(func() time.Time { return f.now })
	return f
}

// At the gate a code or a paper slip admits by its own rules: a negative
// certificate of at most 72 hours and a green holder; a fever measured
// there refuses; a code the gateway refuses or a person who is not a pupil
// records nothing.
func TestGate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sampled := time.Date(2022, 3, 31, 9, 0, 0, 0, time.UTC)
		sc := scanner{
			"green":    {Subject: "person-1", Kind: "dynamic", Color: rules.Green, Admitted: true, MaskedName: "张*一"},
			"yellow":   {Subject: "person-2", Kind: "dynamic", Color: rules.Yellow, Reasons: []string{codes.ReasonYellow}, MaskedName: "张*二"},
			"care":     {Subject: "person-3", Kind: "care", Color: rules.Green, Admitted: true, MaskedName: "张*三"},
			"cert":     {Subject: "person-1", Kind: "certificate", Color: rules.Green, Admitted: true, Result: "negative", ResultAt: sampled},
			"old-cert": {Subject: "person-1", Kind: "certificate", Color: rules.Green, Admitted: true, Result: "negative", ResultAt: sampled.Add(-72 * time.Hour)},
			"pos-cert": {Subject: "person-1", Kind: "certificate", Color: rules.Green, Admitted: true, Result: "positive", ResultAt: sampled},
			"stranger": {Subject: "person-4", Kind: "dynamic", Color: rules.Green, Admitted: true},
		}
		f := newFixture(t, d, 4, sc)
		c, err := f.svc.CreateClass(ctx, f.desk, "一年级（1）班")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ImportPupils(ctx, c.ID, []school.ImportPupil{{1, "张*一"}, {2, "张*二"}, {3, "张*三"}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			code     string
			temp     float64
			admitted bool
			reasons  string
			err      error
		}{
			{code: "green", temp: 36.5, admitted: true, reasons: "[]"},
			{code: "yellow", reasons: "[color_yellow]"},
			{code: "care", admitted: true, reasons: "[]"},
			{code: "care", temp: 37.9, reasons: "[fever]"},
			{code: "cert", admitted: true, reasons: "[]"},
			{code: "old-cert", reasons: "[certificate_stale]"},
			{code: "pos-cert", reasons: "[certificate_positive]"},
			{code: "stranger", err: school.ErrPupilNotFound},
			{code: "forged", err: gateway.ErrCodeForged},
			{code: "green", temp: 50, err: school.ErrTemperatureInvalid},
		} {
			before := count(t, d, "school_entries")
			e, err := f.svc.Gate(ctx, f.desk, school.GateInput{Code: tc.code, Temperature: tc.temp})
			if tc.err != nil {
				if !errors.Is(err, tc.err) || count(t, d, "school_entries") != before {
					t.Fatalf("%s: %v, want %v and nothing recorded", tc.code, err, tc.err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.code, err)
			}
			if e.Admitted != tc.admitted || fmt.Sprint(e.Reasons) != tc.reasons || e.Class != c.Name {
				t.Fatalf("%s: admitted %v reasons %v class %q", tc.code, e.Admitted, e.Reasons, e.Class)
			}
		}
		today, _ := f.svc.ParseDay("")
		rep, err := f.svc.Day(ctx, f.desk, today, school.Morning)
		if err != nil {
			t.Fatal(err)
		}
		// Two temperatures taken at the gate: 张*一 36.5 and 张*三 37.9.
		if rep.Total.Reported != 2 || rep.Total.Fever != 1 || rep.Total.AtSchool != 2 || len(rep.Classes[0].Absent) != 1 ||
			rep.Classes[0].Absent[0].MaskedName != "张*二" || rep.Admitted != 3 || rep.Refused != 4 {
			t.Fatalf("report: %+v, %d admitted, %d refused", rep.Total, rep.Admitted, rep.Refused)
		}
		// The authority sees the same day in figures; another town sees no
		// school; the school's own desk is refused the overview.
		admin := &auth.Principal{Kind: auth.Operator, ID: "a", Role: auth.Admin, Region: "341881"}
		ov, err := f.svc.Overview(ctx, admin, today)
		if err != nil || len(ov.Schools) != 1 {
			t.Fatalf("overview: %+v %v", ov, err)
		}
		if x := ov.Schools[0]; x.Pupils != int64(rep.Total.Pupils) || x.Morning != 2 || x.MorningAbsent() != 1 || x.Noon != 0 ||
			x.Fever != 1 || x.Admitted != 3 || x.Refused != 4 || x.Classes != 1 {
			t.Fatalf("the school's figures: %+v", x)
		}
		other := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.Viewer, Region: "341881101"}
		if ov, err := f.svc.Overview(ctx, other, today); err != nil || len(ov.Schools) != 0 {
			t.Fatalf("another town's overview: %+v %v", ov, err)
		}
		if _, err := f.svc.Figures(ctx, other, "sch", today); !errors.Is(err, org.ErrNotFound) {
			t.Fatalf("another town's figures: %v", err)
		}
		if _, err := f.svc.Overview(ctx, f.desk, today); !errors.Is(err, auth.ErrForbidden) {
			t.Fatalf("the desk's overview: %v", err)
		}
		if x, err := f.svc.Figures(ctx, f.desk, "", today); err != nil || x.Morning != 2 {
			t.Fatalf("the desk's own figures: %+v %v", x, err)
		}
	})
}

func count(t testing.TB, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkSchoolMorningReport reads the morning report of a school of
// 3,000 pupils in 60 classes, 2,900 of whom reported (the rest absent,
// listed by name), with fevers and symptoms here and there.
func BenchmarkSchoolMorningReport(b *testing.B) {
	for _, e := range dbtest.Engines {
		b.Run(string(e), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.New(b, e)
			const pupils, classes = 3000, 60
			f := newFixture(b, d, pupils, scanner{})
			var ids []string
			for i := range classes {
				c, err := f.svc.CreateClass(ctx, f.desk, fmt.Sprintf("%d年级（%d）班", i/10+1, i%10+1))
				if err != nil {
					b.Fatal(err)
				}
				var ps []school.ImportPupil
				for j := i * pupils / classes; j < (i+1)*pupils/classes; j++ {
					ps = append(ps, school.ImportPupil{Num: int64(j + 1), MaskedName: fmt.Sprintf("学*%d", j)})
				}
				if err := f.svc.ImportPupils(ctx, c.ID, ps); err != nil {
					b.Fatal(err)
				}
				_, list, err := f.svc.Pupils(ctx, f.desk, c.ID)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range list {
					ids = append(ids, p.ID)
				}
			}
			var checks []school.ImportCheck
			for i, id := range ids {
				if i%30 == 29 {
					continue
				}
				ch := school.ImportCheck{PupilID: id, Slot: school.Morning, Temperature: 36.5, Source: school.ByParent, At: f.now.Add(-time.Hour)}
				if i%97 == 0 {
					ch.Temperature = 37.8
				}
				if i%89 == 0 {
					ch.Symptoms = []string{"dry_cough"}
				}
				checks = append(checks, ch)
			}
			if err := f.svc.ImportChecks(ctx, checks); err != nil {
				b.Fatal(err)
			}
			day, _ := f.svc.ParseDay("")
			b.ResetTimer()
			for range b.N {
				rep, err := f.svc.Day(ctx, f.desk, day, school.Morning)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Total.Pupils != pupils || rep.Total.Reported != len(checks) {
					b.Fatalf("report: %+v", rep.Total)
				}
			}
		})
	}
}
