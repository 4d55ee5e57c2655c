package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/demo"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/server"
)

// The demo's city lives: its history fills what the dashboard counts
// (shows, verifications, swabs), the registration table, the sampling
// sites, the tracing tasks of its cases and the appeals queue; loading
// again adds nothing.
func TestDemoHistory(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			cfg := server.Config{DataDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if engine == db.Postgres {
				cfg.DB = dbtest.PostgresURL(t)
			}
			if err := demo.Prepare(ctx, &cfg); err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if _, err := srv.EnsureAdmin(ctx); err != nil {
				t.Fatal(err)
			}
			const residents = 600
			logins, err := demo.Load(ctx, srv, demo.Options{Residents: residents})
			if err != nil {
				t.Fatal(err)
			}
			// A second start adds no second history.
			if _, err := demo.Load(ctx, srv, demo.Options{Residents: residents}); err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			var adminPW string
			for _, l := range logins {
				if l.Username == "admin" {
					adminPW = l.Password
				}
			}
			token := post(t, hs.URL+"/api/v1/auth/operator", `{"username":"admin","password":"`+adminPW+`"}`)["token"].(string)

			var stats struct {
				Total struct{ Registered, Green, Yellow, Red int64 }
			}
			get(t, hs.URL+"/api/v1/admin/stats", token, &stats)
			if stats.Total.Registered != residents+12 {
				t.Fatalf("registered %d, want the %d simulated residents, the 10 fixed ones and the 2 arrivals from abroad, once", stats.Total.Registered, residents)
			}
			if stats.Total.Red < 3 || stats.Total.Yellow < 2 {
				t.Fatalf("colours %+v: want the two cases and the close contact red, their companions yellow", stats.Total)
			}
			var sites struct{ Count int }
			get(t, hs.URL+"/api/v1/sites", "", &sites)
			if sites.Count != 6 {
				t.Fatalf("%d sampling sites, want 6", sites.Count)
			}
			var appeals struct {
				Appeals []struct {
					State       string
					Credentials []struct {
						Format   string
						Verified bool
						Result   string
					}
				}
			}
			get(t, hs.URL+"/api/v1/admin/appeals?state=pending", token, &appeals)
			if len(appeals.Appeals) != 2 {
				t.Fatalf("%d appeals pending, want 2", len(appeals.Appeals))
			}
			// One appeal carries outside evidence, verified: an EU DCC of a negative test.
			verified := 0
			for _, a := range appeals.Appeals {
				for _, c := range a.Credentials {
					if c.Format == "eu_dcc" && c.Verified && c.Result == "negative" {
						verified++
					}
				}
			}
			if verified != 1 {
				t.Fatalf("appeals' outside evidence: %+v", appeals.Appeals)
			}
			var tasks struct{ Tasks []struct{ Kind string } }
			get(t, hs.URL+"/api/v1/admin/tasks", token, &tasks)
			if len(tasks.Tasks) == 0 {
				t.Fatal("the tracing run of the cases left no tasks")
			}

			// What the dashboard reads, as it reads it.
			op := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: demo.Region}
			day := time.Now().Add(-24 * time.Hour).Truncate(time.Hour)
			shows, err := srv.Codes.ShowsPerHour(ctx, op, day)
			if err != nil {
				t.Fatal(err)
			}
			if sum(shows) < residents/2 {
				t.Fatalf("%d codes shown in the last day, want about one per resident", sum(shows))
			}
			cps, err := srv.Checkpoints.List(ctx, op)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, cp := range cps.Checkpoints {
				ids = append(ids, cp.ID)
			}
			verifs, err := srv.Checkins.VerificationsPerHour(ctx, ids, day)
			if err != nil {
				t.Fatal(err)
			}
			if sum(verifs) == 0 {
				t.Fatal("no verifications in the last day")
			}
			swabs, err := srv.NAT.SwabsPerDay(ctx, op, time.Now().AddDate(0, 0, -demo.HistoryDays))
			if err != nil {
				t.Fatal(err)
			}
			var negative, total int64
			for _, d := range swabs {
				negative, total = negative+d.Negative, total+d.Total()
			}
			if total < 2*residents || negative < residents || len(swabs) < demo.HistoryDays-1 {
				t.Fatalf("swabs: %d (%d negative) over %d days, want two or three per resident on most days", total, negative, len(swabs))
			}
			// The school: its simulated pupils and this morning's reports, a
			// few absent, one fever; the employer's gate today.
			unit := func(username string) *auth.Principal {
				for _, l := range logins {
					if l.Username == username {
						tok, _, err := srv.Auth.UnitLogin(ctx, username, l.Password)
						if err != nil {
							t.Fatal(err)
						}
						p, err := srv.Auth.Authenticate(ctx, tok)
						if err != nil {
							t.Fatal(err)
						}
						return p
					}
				}
				t.Fatalf("no login %s", username)
				return nil
			}
			today, _ := srv.School.ParseDay("")
			rep, err := srv.School.Day(ctx, unit("school"), today, school.Morning)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Total.Pupils < 100 || rep.Total.Reported >= rep.Total.Pupils || rep.Total.Reported < rep.Total.Pupils*8/10 || rep.Total.Fever < 1 {
				t.Fatalf("the school's morning: %+v", rep.Total)
			}
			att, err := srv.Employer.Day(ctx, unit("employer"), today)
			if err != nil {
				t.Fatal(err)
			}
			if len(att.Present) != 2 || len(att.Refused) != 2 || len(att.Absent) != 2 {
				t.Fatalf("the employer's day: %d present, %d refused, %d absent", len(att.Present), len(att.Refused), len(att.Absent))
			}
			// The authority's overviews of the same day show it, in figures.
			emps, err := srv.Employer.Overview(ctx, op, today)
			if err != nil || emps.Total.Present != 2 || emps.Total.Refused != 2 {
				t.Fatalf("the employers' overview: %v %+v", err, emps)
			}
			schools, err := srv.School.Overview(ctx, op, today)
			if err != nil || schools.Total.Pupils != int64(rep.Total.Pupils) || schools.Total.Morning != int64(rep.Total.Reported) {
				t.Fatalf("the schools' overview: %v %+v", err, schools)
			}
			halls, err := srv.Hall.Overview(ctx, op, today)
			if err != nil || halls.Total.Tickets != 3 || halls.Total.Routed != 1 {
				t.Fatalf("the halls' overview: %v %+v", err, halls)
			}
			spots, err := srv.Booking.Overview(ctx, op, org.ScenicSpot, today.AddDate(0, 0, 1))
			if err != nil || spots.Total.Booked != 3 || spots.Total.Cancelled != 1 {
				t.Fatalf("the scenic spots' overview of tomorrow: %v %+v", err, spots)
			}
			rides, err := srv.Transport.Overview(ctx, op, today)
			if err != nil || rides.Total.Vehicles != 1 || rides.Total.Rides < 3 {
				t.Fatalf("the transport overview: %v %+v", err, rides)
			}

			// The community's grids, and the grid worker's open visits to
			// the red and yellow of the first grid, with its login printed.
			var gridPW string
			for _, l := range logins {
				if l.Username == "wangge" {
					gridPW = l.Password
				}
			}
			if gridPW == "" {
				t.Fatal("the grid worker's login was not printed")
			}
			var grids struct {
				Grids []struct {
					Code    string
					Persons int64
				}
			}
			get(t, hs.URL+"/api/v1/admin/grids", token, &grids)
			if len(grids.Grids) == 0 || grids.Grids[0].Persons == 0 {
				t.Fatalf("grids: %+v", grids)
			}
			worker := post(t, hs.URL+"/api/v1/auth/operator", `{"username":"wangge","password":"`+gridPW+`"}`)["token"].(string)
			var visits struct {
				Tasks []struct{ Kind, Status, Reason, Region string }
			}
			get(t, hs.URL+"/api/v1/admin/tasks?kind=colour&status=open", worker, &visits)
			if len(visits.Tasks) == 0 || visits.Tasks[0].Reason == "" || visits.Tasks[0].Region != grids.Grids[0].Code {
				t.Fatalf("the grid worker's open visits: %+v", visits)
			}
		})
	}
}

func sum(m map[int64]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
