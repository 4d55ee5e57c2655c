package hall_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/metricstest"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/org/orgtest"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
)

var admin = &auth.Principal{Kind: auth.Operator, ID: "admin", Role: auth.Admin, Region: "341881"}

type orgs = orgtest.Orgs

// scanner reads "code:N:COLOR" as person N's code; "foreign:COLOR" as
// another region's code verified through the federation; "unknown",
// "forged" and "expired" are the gateway's refusals.
type scanner struct{}

func (scanner) Scan(_ context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error) {
	switch in.Code {
	case "forged":
		return nil, gateway.ErrCodeForged
	case "expired":
		return nil, gateway.ErrCodeExpired
	case "unknown":
		if in.Foreign {
			return nil, gateway.ErrIssuerUnknown
		}
		return nil, gateway.ErrCodeForged
	}
	parts := strings.Split(in.Code, ":")
	if len(parts) == 2 && parts[0] == "foreign" && in.Foreign {
		c, _ := rules.ParseColor(parts[1])
		return &gateway.Scan{Color: c, MaskedName: "*外", Issuer: "330100"}, nil
	}
	if len(parts) != 3 {
		return nil, gateway.ErrCodeUnreadable
	}
	c, _ := rules.ParseColor(parts[2])
	return &gateway.Scan{Subject: "ref:" + parts[1] + ":" + p.Org, Color: c, MaskedName: "*" + parts[1], Issuer: "341881"}, nil
}

func (scanner) Resolve(o *org.Org, ref string) (gateway.Subject, error) {
	parts := strings.Split(ref, ":")
	if len(parts) != 3 || parts[2] != o.ID {
		return gateway.Subject{}, gateway.ErrSubjectForeign
	}
	var n int64
	fmt.Sscan(parts[1], &n)
	return gateway.Subject{Person: n, Ref: ref}, nil
}

// persons: a resident principal's ID is the index of their person.
type persons []person.Profile

func (p persons) ActingFor(_ context.Context, by *auth.Principal, personID string) (person.Profile, error) {
	var i int
	if by == nil || by.Kind != auth.Resident || personID != "" {
		return person.Profile{}, auth.ErrForbidden
	}
	fmt.Sscan(by.ID, &i)
	return p[i], nil
}

// bookings: the persons in the set have a booking for now.
type bookings map[int64]bool

func (b bookings) Arrive(_ context.Context, _ *org.Org, num int64, _, _ string) (*booking.Booking, error) {
	if b[num] {
		delete(b, num)
		return &booking.Booking{}, nil
	}
	return nil, booking.ErrEntryNoBooking
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	d       *db.DB
	svc     *hall.Service
	persons persons
	now     time.Time
	reg     *prometheus.Registry
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), d: d, now: time.Date(2022, 5, 1, 1, 0, 0, 0, time.UTC), reg: prometheus.NewRegistry()}
	keys, _ := secret.New(bytes.Repeat([]byte{7}, 32))
	ps, err := person.New(d, keys, region.Default(), person.Config{Region: "341881"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"王小明", "李秀英", "赵红"} {
		first17 := fmt.Sprintf("341881198001%02d%03d", i+1, 500+i)
		c, _ := idnum.ResidentCheckChar(first17)
		p, err := ps.Create(f.ctx, admin, person.Input{Name: name, IDType: "resident_id", IDNumber: first17 + string(c), Region: "341881001"})
		if err != nil {
			t.Fatal(err)
		}
		f.persons = append(f.persons, person.Profile{Num: p.Num, ID: p.ID, MaskedName: idnum.MaskName(p.Name), Region: p.Region})
	}
	os := orgs{}
	for i, o := range []*org.Org{
		{ID: "hall", Num: 1, Kind: org.ServiceHall, Name: "宁国市政务服务中心", Region: "341881001"},
		{ID: "hall2", Num: 2, Kind: org.ServiceHall, Name: "港口镇便民服务中心", Region: "341881002"},
		{ID: "spot", Num: 3, Kind: org.ScenicSpot, Name: "夏霖风景区", Region: "341881001"},
	} {
		if _, err := d.ExecContext(f.ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, '', 0, 'test')`, o.ID, o.Num, string(o.Kind), o.Name, fmt.Sprintf("USCC%d", i), o.Region); err != nil {
			t.Fatal(err)
		}
		os[o.ID] = o
	}
	hosp := hospital.New(hospital.Deps{DB: d, Orgs: os, Persons: ps}, hospital.Config{})
	f.svc = hall.New(hall.Deps{DB: d, Orgs: os, Scanner: scanner{}, Persons: f.persons, Identities: hosp,
		Bookings: bookings{f.persons[2].Num: true}}, hall.Config{Metrics: f.reg})
	f.svc.SetClock(func() time.Time { return f.now })
	hosp.SetClock(func() time.Time { return f.now })
	return f
}

func machine(orgID string) *auth.Principal {
	return &auth.Principal{Kind: auth.APIKey, ID: "m-" + orgID, Org: orgID, Scopes: []string{org.ScopeScan, org.ScopeHallQueue, org.ScopeHallTerminal}}
}

func resident(i int) *auth.Principal { return &auth.Principal{Kind: auth.Resident, ID: fmt.Sprint(i)} }

func (f *fixture) code(i int, c string) string { return fmt.Sprintf("code:%d:%s", f.persons[i].Num, c) }

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// wantCounts fails unless each label value of the family counted as given.
func (f *fixture) wantCounts(t *testing.T, family, label string, want map[string]float64) {
	t.Helper()
	for v, n := range want {
		if got := metricstest.Value(t, f.reg, family, label, v); got != n {
			t.Errorf("%s{%s=%q} = %v, want %v", family, label, v, got, n)
		}
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// The queue machine decides by the colour: green gets a number for the
// service, yellow the designated window (or a refusal, by policy), red a
// refusal; another region's code is served when it verifies through the
// federation; nothing is written for a refusal.
func TestTake(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		m := machine("hall")
		for _, c := range []struct {
			name    string
			by      *auth.Principal
			code    string
			service string
			want    error
		}{
			{"red", m, f.code(0, "red"), "户籍办理", hall.ErrRefusedRed},
			{"forged", m, "forged", "户籍办理", gateway.ErrCodeForged},
			{"expired", m, "expired", "户籍办理", gateway.ErrCodeExpired},
			{"not federated", m, "unknown", "户籍办理", gateway.ErrIssuerUnknown},
			{"another region's red", m, "foreign:red", "户籍办理", hall.ErrRefusedRed},
			{"no service", m, f.code(0, "green"), " ", hall.ErrServiceInvalid},
			{"a scenic spot", machine("spot"), f.code(0, "green"), "户籍办理", org.ErrScopeMissing},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Take(f.ctx, c.by, c.code, c.service)
				wantErr(t, err, c.want)
				if n := f.count(`SELECT COUNT(*) FROM hall_tickets`); n != 0 {
					t.Fatal("a refused ticket was stored")
				}
			})
		}
		g1, err := f.svc.Take(f.ctx, m, f.code(0, "green"), "户籍办理")
		if err != nil || g1.Number != 1 || g1.Line != "户籍办理" || g1.Routed || g1.Booked {
			t.Fatalf("green: %+v, %v", g1, err)
		}
		g2, err := f.svc.Take(f.ctx, m, f.code(2, "green"), "户籍办理")
		if err != nil || g2.Number != 2 || !g2.Booked {
			t.Fatalf("green with a booking: %+v, %v", g2, err)
		}
		y, err := f.svc.Take(f.ctx, m, f.code(1, "yellow"), "户籍办理")
		if err != nil || y.Line != hall.DefaultWindow || !y.Routed || y.Number != 1 || strings.Join(y.Reasons, ",") != "color_yellow" {
			t.Fatalf("yellow: %+v, %v", y, err)
		}
		fg, err := f.svc.Take(f.ctx, m, "foreign:green", "社保业务")
		if err != nil || fg.Issuer != "330100" || fg.PersonNum != 0 {
			t.Fatalf("another region's green: %+v, %v", fg, err)
		}
		_, err = f.svc.SetPolicy(f.ctx, m, hall.Policy{Yellow: "maybe"})
		wantErr(t, err, hall.ErrPolicyInvalid)
		_, err = f.svc.SetPolicy(f.ctx, m, hall.Policy{Yellow: hall.YellowWindow, Window: ""})
		wantErr(t, err, hall.ErrPolicyInvalid)
		if _, err := f.svc.SetPolicy(f.ctx, m, hall.Policy{Yellow: hall.YellowRefuse}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Take(f.ctx, m, f.code(1, "yellow"), "户籍办理")
		wantErr(t, err, hall.ErrRefusedYellow)
		if p, _ := f.svc.Policy(f.ctx, machine("hall2")); p.Yellow != hall.YellowWindow {
			t.Fatalf("another hall's policy changed: %+v", p)
		}

		// Codes that are not valid are the gateway's to count, bad input no
		// ticket asked for.
		f.wantCounts(t, "healthcode_hall_tickets_total", "outcome", map[string]float64{"number": 3, "routed": 1,
			"refused_red": 2, "refused_yellow": 1})

		day, err := f.svc.Tickets(f.ctx, m, "", f.now)
		if err != nil || len(day.Tickets) != 4 || day.Routed != 1 || day.Booked != 1 || day.Foreign != 1 || len(day.Lines) != 3 {
			t.Fatalf("day: %+v, %v", day, err)
		}
		_, err = f.svc.Tickets(f.ctx, machine("hall2"), "hall", f.now)
		wantErr(t, err, org.ErrNotFound)
	})
}

// A served ticket is rated once by its holder; anything else is refused
// and changes nothing.
func TestRate(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		m := machine("hall")
		tk, err := f.svc.Take(f.ctx, m, f.code(0, "green"), "不动产登记")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Rate(f.ctx, resident(0), "", tk.ID, 5, "")
		wantErr(t, err, hall.ErrNotServed)
		_, err = f.svc.Finish(f.ctx, machine("hall2"), tk.ID)
		wantErr(t, err, hall.ErrTicketNotFound)
		if _, err := f.svc.Finish(f.ctx, m, tk.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Finish(f.ctx, m, tk.ID)
		wantErr(t, err, hall.ErrTicketDone)
		for _, c := range []struct {
			name  string
			by    *auth.Principal
			stars int
			want  error
		}{
			{"zero", resident(0), 0, hall.ErrRatingInvalid},
			{"six", resident(0), 6, hall.ErrRatingInvalid},
			{"another's ticket", resident(1), 4, hall.ErrTicketNotFound},
			{"an operator", admin, 4, auth.ErrForbidden},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.Rate(f.ctx, c.by, "", tk.ID, c.stars, "")
				wantErr(t, err, c.want)
				if n := f.count(`SELECT COUNT(*) FROM hall_tickets WHERE rating IS NOT NULL`); n != 0 {
					t.Fatal("a refused rating was stored")
				}
			})
		}
		r, err := f.svc.Rate(f.ctx, resident(0), "", tk.ID, 4, "办得很快")
		if err != nil || r.Rating != 4 {
			t.Fatalf("rate: %+v, %v", r, err)
		}
		_, err = f.svc.Rate(f.ctx, resident(0), "", tk.ID, 1, "")
		wantErr(t, err, hall.ErrAlreadyRated)
		if n := f.count(`SELECT rating FROM hall_tickets WHERE id = $1`, tk.ID); n != 4 {
			t.Fatalf("rating %d after a second try, want 4", n)
		}
		f.wantCounts(t, "healthcode_hall_ratings_total", "stars", map[string]float64{"1": 0, "4": 1, "5": 0})
		mine, err := f.svc.MyTickets(f.ctx, resident(0), "")
		if err != nil || len(mine) != 1 || mine[0].Rating != 4 {
			t.Fatalf("my tickets: %+v, %v", mine, err)
		}

		// The authority's figures of the day: per hall of the operator's
		// scope, never a name.
		if _, err := f.svc.Take(f.ctx, m, f.code(1, "yellow"), "社保业务"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Take(f.ctx, machine("hall2"), f.code(1, "green"), "社保业务"); err != nil {
			t.Fatal(err)
		}
		today, _ := f.svc.ParseDay("")
		ov, err := f.svc.Overview(f.ctx, admin, today)
		if err != nil || len(ov.Halls) != 2 || ov.Total.Tickets != 3 || ov.Total.Rated != 1 || ov.Total.Rating != 4 {
			t.Fatalf("overview: %+v %v", ov, err)
		}
		if x := ov.Halls[0]; x.Org.ID != "hall" || x.Tickets != 2 || x.Green != 1 || x.Yellow != 1 || x.Routed != 1 || x.Done != 1 ||
			x.Waiting != 1 || x.Rated != 1 || x.Rating != 4 {
			t.Fatalf("the hall's figures: %+v", x)
		}
		town := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Viewer, Region: "341881002"}
		if ov, err := f.svc.Overview(f.ctx, town, today); err != nil || len(ov.Halls) != 1 || ov.Halls[0].Org.ID != "hall2" || ov.Total.Tickets != 1 {
			t.Fatalf("the town's overview: %+v %v", ov, err)
		}
		_, err = f.svc.Figures(f.ctx, town, "hall", today)
		wantErr(t, err, org.ErrNotFound)
		_, err = f.svc.Figures(f.ctx, admin, "spot", today)
		wantErr(t, err, hall.ErrNotHall)
		_, err = f.svc.Overview(f.ctx, m, today)
		wantErr(t, err, auth.ErrForbidden)
	})
}

// A terminal signs a resident in: it asks, the resident consents on their
// phone, the terminal receives the identity once (audited); a decline, an
// expired request, another terminal and a second collection get nothing.
func TestLogin(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		term := machine("hall")
		l, err := f.svc.StartLogin(f.ctx, term)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.Collect(f.ctx, term, l.ID); err != nil || got.State != hall.LoginPending || got.Identity != nil {
			t.Fatalf("pending: %+v, %v", got, err)
		}
		other := &auth.Principal{Kind: auth.APIKey, ID: "m-other", Org: "hall", Scopes: []string{org.ScopeHallTerminal}}
		if _, err := f.svc.Answer(f.ctx, resident(1), l.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Answer(f.ctx, resident(0), l.ID, true)
		wantErr(t, err, hall.ErrLoginDecided)
		_, err = f.svc.Collect(f.ctx, other, l.ID)
		wantErr(t, err, hall.ErrLoginNotFound)
		got, err := f.svc.Collect(f.ctx, term, l.ID)
		if err != nil || got.Identity == nil || got.Identity.Name != "李秀英" || got.Identity.Purpose != hall.PurposeLogin {
			t.Fatalf("collect: %+v, %v", got, err)
		}
		_, err = f.svc.Collect(f.ctx, term, l.ID)
		wantErr(t, err, hall.ErrLoginUsed)
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'person.read'`); n != 1 {
			t.Fatalf("%d person reads audited, want 1", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'person.read_refused'`); n != 1 {
			t.Fatalf("%d refused reads audited, want 1", n)
		}

		no, _ := f.svc.StartLogin(f.ctx, term)
		if _, err := f.svc.Answer(f.ctx, resident(0), no.ID, false); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Collect(f.ctx, term, no.ID)
		wantErr(t, err, hall.ErrLoginDeclined)

		late, _ := f.svc.StartLogin(f.ctx, term)
		f.now = f.now.Add(6 * time.Minute)
		_, err = f.svc.Answer(f.ctx, resident(0), late.ID, true)
		wantErr(t, err, hall.ErrLoginNotFound)
		_, err = f.svc.StartLogin(f.ctx, machine("spot"))
		wantErr(t, err, org.ErrScopeMissing)
		f.wantCounts(t, "healthcode_hall_logins_total", "outcome", map[string]float64{"started": 3, "consented": 1,
			"declined": 1, "delivered": 1})
	})
}
