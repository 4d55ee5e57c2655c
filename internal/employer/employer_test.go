package employer_test

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
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

type orgs = orgtest.Orgs

// scanner stands in for the gateway: a "code" is the scan it answers.
type scanner map[string]*gateway.Scan

func (s scanner) Scan(_ context.Context, _ *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error) {
	if sc := s[in.Code]; sc != nil {
		return sc, nil
	}
	return nil, gateway.ErrCodeForged
}

func (s scanner) Resolve(_ *org.Org, ref string) (gateway.Subject, error) {
	var num int64
	if _, err := fmt.Sscanf(ref, "person-%d", &num); err != nil {
		return gateway.Subject{}, gateway.ErrSubjectInvalid
	}
	return gateway.Subject{Person: num}, nil
}

// residents maps an account to the person it is.
type residents map[string]int64

func (r residents) ActingFor(_ context.Context, by *auth.Principal, _ string) (person.Profile, error) {
	if by.Kind != auth.Resident {
		return person.Profile{}, auth.ErrForbidden
	}
	return person.Profile{Num: r[by.ID], ID: fmt.Sprint("P", r[by.ID])}, nil
}

type colors map[int64]rules.Color

func (c colors) Color(num int64) (rules.Color, uint64) { return c[num], 1 }

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRosterGateAndDay(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		emp := &org.Org{ID: "emp", Num: 1, Kind: org.Employer, Name: "中溪机械", Region: "341881001"}
		shop := &org.Org{ID: "shop", Num: 2, Kind: org.Pharmacy, Name: "药房", Region: "341881001"}
		for i, o := range []*org.Org{emp, shop} {
			if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprint("u", i), o.Region); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i <= 4; i++ {
			b := []byte(fmt.Sprint(i))
			if _, err := d.ExecContext(ctx, `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, created_at, created_by)
				VALUES ($1, $2, 'resident', $3, $3, $3, $3, '341881001', 0, 'test')`, i, fmt.Sprint("P", i), b); err != nil {
				t.Fatal(err)
			}
		}
		sc := scanner{
			"green":    {Subject: "person-1", Color: rules.Green, Admitted: true, MaskedName: "周*国"},
			"yellow":   {Subject: "person-2", Color: rules.Yellow, Reasons: []string{codes.ReasonYellow}, MaskedName: "吴*华"},
			"red":      {Subject: "person-3", Color: rules.Red, Reasons: []string{codes.ReasonRed}, MaskedName: "郑*强"},
			"stranger": {Subject: "person-4", Color: rules.Green, Admitted: true},
		}
		svc := employer.New(employer.Deps{DB: d, Orgs: orgs{emp.ID: emp, shop.ID: shop}, Gateway: sc,
			Persons: residents{"acct-2": 2}, Colors: colors{1: rules.Green, 2: rules.Yellow, 3: rules.Red}})
		gate := &auth.Principal{Kind: auth.Unit, ID: "u", Org: emp.ID, Role: auth.UnitStaff, Region: emp.Region}
		till := &auth.Principal{Kind: auth.Unit, ID: "t", Org: shop.ID, Role: auth.UnitStaff, Region: shop.Region}
		me := &auth.Principal{Kind: auth.Resident, ID: "acct-2"}

		// Only an employer keeps a roster; refused, nothing is written.
		for _, by := range []*auth.Principal{till, me} {
			if _, err := svc.Import(ctx, by, "E1,张三"); err == nil || count(t, d, "employer_staff") != 0 {
				t.Fatalf("an import by %s: %v", by.Kind, err)
			}
		}
		rep, err := svc.Import(ctx, gate, "E001,周建国,总装\nE002,吴丽华\nE003,郑强,总装\nE004,钱\nE002,吴二,质检")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported != 3 || rep.Refused != 2 || rep.Lines[3].Code != "staff_name_invalid" || rep.Lines[4].Code != "staff_no_repeated" {
			t.Fatalf("import: %+v", rep)
		}
		roster, err := svc.Roster(ctx, gate)
		if err != nil || len(roster) != 3 || roster[0].MaskedName != "周*国" {
			t.Fatalf("roster: %v %v", roster, err)
		}

		for _, tc := range []struct {
			name string
			in   employer.GateInput
			err  error
		}{
			{"not on the roster", employer.GateInput{Code: "stranger"}, employer.ErrStaffNotFound},
			{"an unknown staff number", employer.GateInput{Code: "stranger", StaffNo: "E404"}, employer.ErrStaffNoUnknown},
			{"a forged code", employer.GateInput{Code: "forged", StaffNo: "E001"}, gateway.ErrCodeForged},
		} {
			if _, err := svc.Gate(ctx, gate, tc.in); !errors.Is(err, tc.err) || count(t, d, "employer_gate") != 0 {
				t.Fatalf("%s: %v, want %v and nothing written", tc.name, err, tc.err)
			}
		}
		if _, err := svc.Gate(ctx, till, employer.GateInput{Code: "green"}); !errors.Is(err, org.ErrScopeMissing) {
			t.Fatalf("a pharmacy at the gate: %v", err)
		}

		g, err := svc.Gate(ctx, gate, employer.GateInput{Code: "green", StaffNo: "E001"})
		if err != nil || !g.Admitted || !g.LinkedNow || g.Staff.StaffNo != "E001" {
			t.Fatalf("green: %+v %v", g, err)
		}
		if _, err := svc.Gate(ctx, gate, employer.GateInput{Code: "stranger", StaffNo: "E001"}); !errors.Is(err, employer.ErrStaffLinked) {
			t.Fatalf("a second person on a linked line: %v", err)
		}
		// By consent: the resident themselves, with their consent.
		code := roster[1].JoinCode
		if _, err := svc.Join(ctx, gate, code, true); !errors.Is(err, employer.ErrResidentOnly) {
			t.Fatalf("a join by the gate: %v", err)
		}
		if _, err := svc.Join(ctx, me, code, false); !errors.Is(err, employer.ErrConsentRequired) {
			t.Fatalf("a join without consent: %v", err)
		}
		if m, err := svc.Join(ctx, me, code, true); err != nil || m.StaffNo != "E002" || m.LinkedHow != "consent" {
			t.Fatalf("join: %+v %v", m, err)
		}
		y, err := svc.Gate(ctx, gate, employer.GateInput{Code: "yellow"})
		if err != nil || y.Admitted || y.Reason != codes.ReasonYellow {
			t.Fatalf("yellow: %+v %v", y, err)
		}
		r, err := svc.Gate(ctx, gate, employer.GateInput{Code: "red", StaffNo: "E003"})
		if err != nil || r.Admitted || r.Reason != codes.ReasonRed {
			t.Fatalf("red: %+v %v", r, err)
		}

		today, _ := svc.ParseDay("")
		day, err := svc.Day(ctx, gate, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(day.Present) != 1 || len(day.Refused) != 2 || len(day.Absent) != 0 || day.ByReason[codes.ReasonYellow] != 1 ||
			day.ByReason[codes.ReasonRed] != 1 || day.Admission != 1 || day.Refusals != 2 {
			t.Fatalf("day: %+v", day)
		}
		// The authority's figures of the same day: the operator of the
		// town sees them, in numbers; another town sees no employer; a unit
		// or a resident is refused the overview.
		admin := &auth.Principal{Kind: auth.Operator, ID: "a", Role: auth.Admin, Region: "341881"}
		other := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.Viewer, Region: "341881101"}
		ov, err := svc.Overview(ctx, admin, today)
		if err != nil || len(ov.Employers) != 1 {
			t.Fatalf("overview: %+v %v", ov, err)
		}
		if f := ov.Employers[0]; f.Org.ID != emp.ID || f.Staff != 3 || f.Linked != 3 || f.Present != 1 || f.Refused != 2 || f.Absent != 0 ||
			f.Refusals != 2 || f.ByReason[codes.ReasonRed] != 1 || f.ByReason[codes.ReasonYellow] != 1 || ov.Total.Present != 1 {
			t.Fatalf("an employer's figures: %+v", f)
		}
		if f, err := svc.Figures(ctx, admin, emp.ID, today); err != nil || f.Present != 1 || f.Refused != 2 {
			t.Fatalf("figures: %+v %v", f, err)
		}
		if ov, err := svc.Overview(ctx, other, today); err != nil || len(ov.Employers) != 0 || ov.Total.Staff != 0 {
			t.Fatalf("another town's overview: %+v %v", ov, err)
		}
		for _, tc := range []struct {
			name string
			by   *auth.Principal
			id   string
			err  error
		}{
			{"another town", other, emp.ID, org.ErrNotFound},
			{"a pharmacy", admin, shop.ID, employer.ErrNotEmployer},
			{"another organisation's unit", till, emp.ID, org.ErrScopeMissing},
			{"an operator naming none", admin, "", employer.ErrOrgMissing},
		} {
			if _, err := svc.Figures(ctx, tc.by, tc.id, today); !errors.Is(err, tc.err) {
				t.Fatalf("figures for %s: %v, want %v", tc.name, err, tc.err)
			}
		}
		for _, by := range []*auth.Principal{gate, me, nil} {
			if _, err := svc.Overview(ctx, by, today); !errors.Is(err, auth.ErrForbidden) {
				t.Fatalf("an overview for %v: %v", by, err)
			}
		}

		days, recs, err := svc.Records(ctx, gate, 3)
		if err != nil || len(days) != 3 || len(recs) != 3 {
			t.Fatalf("records: %v %v %v", days, recs, err)
		}
		var got []string
		for _, rec := range recs {
			line := ""
			for _, c := range rec.Colors {
				if !c.Valid() {
					line += "- "
				} else {
					line += c.String() + " "
				}
			}
			got = append(got, line)
		}
		if fmt.Sprint(got) != "[- - green  - - yellow  - - red ]" {
			t.Fatalf("records by staff number: %v", got)
		}
		if _, err := svc.Purge(ctx, time.Now().Add(time.Hour)); err != nil || count(t, d, "employer_gate") != 0 {
			t.Fatalf("purge: %v", err)
		}
	})
}
