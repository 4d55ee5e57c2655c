package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/demo"
	hallpkg "github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/server"
)

func TestDemoLoadsNingguo(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			cfg := server.Config{DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
			logins, err := demo.Load(ctx, srv, demo.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Loading twice changes nothing, passwords included, and
			// returns no password to print again.
			if again, err := demo.Load(ctx, srv, demo.Options{}); err != nil || len(again) != 0 {
				t.Fatalf("second load: %v, %d logins to print again", err, len(again))
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

			var cov struct {
				Rows []struct {
					Name                           string
					Population, Target, Registered int64
					PublishedTarget                int64 `json:"published_target"`
				}
				Total struct{ Population, Target int64 }
			}
			// Vaccination: sites with slots for the coming week, and doses.
			var vs struct{ Count int }
			get(t, hs.URL+"/api/v1/vaccination/sites", "", &vs)
			var towns struct{ Towns []struct{ Doses int64 } }
			get(t, hs.URL+"/api/v1/admin/vaccination/doses", token, &towns)
			var days struct {
				Days []struct{ Places, Booked int64 }
			}
			get(t, hs.URL+"/api/v1/admin/vaccination/appointments", token, &days)
			if vs.Count != 3 || len(towns.Towns) != 1 || towns.Towns[0].Doses != 5 || len(days.Days) != 7 || days.Days[1].Places == 0 ||
				days.Days[1].Booked != 1 {
				t.Fatalf("vaccination demo: %+v %+v %+v", vs, towns, days)
			}
			// The trip card: the national list's risk area is open data.
			var areas struct {
				Areas []struct{ Region, Level string }
			}
			get(t, hs.URL+"/api/v1/risk-areas", "", &areas)
			if len(areas.Areas) != 1 || areas.Areas[0].Region != "320102" || areas.Areas[0].Level != "medium" {
				t.Fatalf("risk areas in the demo: %+v", areas)
			}
			// It has a shape, for the GeoJSON and the public page's map.
			var fc struct {
				Features []struct {
					Geometry *struct {
						Type        string
						Coordinates [][][2]float64
					}
				}
			}
			get(t, hs.URL+"/api/v1/risk-areas?format=geojson", "", &fc)
			if len(fc.Features) != 1 || fc.Features[0].Geometry == nil || fc.Features[0].Geometry.Type != "Polygon" ||
				len(fc.Features[0].Geometry.Coordinates[0]) < 4 {
				t.Fatalf("the demo's risk area as GeoJSON: %+v", fc)
			}
			// Entertainment venues' entry policy.
			var pols struct {
				Policies []struct {
					Scope, Ref    string
					UntestedHours int `json:"untested_hours"`
				}
			}
			get(t, hs.URL+"/api/v1/admin/venue-policies", token, &pols)
			if len(pols.Policies) != 1 || pols.Policies[0].Ref != "entertainment" || pols.Policies[0].UntestedHours != 72 {
				t.Fatalf("venue policies in the demo: %+v", pols)
			}
			// Closed loop: 王建国 in the isolation hotel after his transfer,
			// a half-day without his temperature, 陈静's open 12345 ticket.
			var stays struct {
				Stays []struct {
					ID         string
					MaskedName string `json:"masked_name"`
				}
			}
			get(t, hs.URL+"/api/v1/admin/isolation/stays?open=true", token, &stays)
			var missing struct{ Missing []struct{} }
			get(t, hs.URL+"/api/v1/admin/isolation/readings/missing", token, &missing)
			var transfers struct {
				Transfers []struct {
					State string
					Trail []struct{}
				}
			}
			get(t, hs.URL+"/api/v1/admin/transfers", token, &transfers)
			var tickets struct{ Tickets []struct{ Category string } }
			get(t, hs.URL+"/api/v1/admin/hotline/tickets", token, &tickets)
			if len(stays.Stays) != 1 || stays.Stays[0].MaskedName != "王*国" || len(missing.Missing) == 0 || len(transfers.Transfers) != 1 ||
				transfers.Transfers[0].State != "arrived" || len(transfers.Transfers[0].Trail) != 3 || len(tickets.Tickets) != 1 {
				t.Fatalf("closed-loop demo: %+v %d missing %+v %+v", stays, len(missing.Missing), transfers, tickets)
			}
			var readings struct{ Readings []struct{} }
			get(t, hs.URL+"/api/v1/admin/isolation/stays/"+stays.Stays[0].ID, token, &readings)
			if len(readings.Readings) == 0 {
				t.Fatal("the demo's isolated person has no temperature")
			}
			get(t, hs.URL+"/api/v1/admin/coverage", token, &cov)
			if len(cov.Rows) != 19 {
				t.Fatalf("coverage has %d towns, want 19", len(cov.Rows))
			}
			found := false
			for _, r := range cov.Rows {
				if r.Name == "西津街道" {
					found = true
					if r.Population != 59377 || r.Target != 53440 {
						t.Fatalf("西津街道 %d / %d, want 59377 / 53440", r.Population, r.Target)
					}
					if r.Registered != 4 { // 张三丰, 李秀英 and 张三丰's two dependents
						t.Fatalf("西津街道 registered %d, want 4", r.Registered)
					}
				}
				if r.Name == "南极乡" && (r.Target != 10161 || r.PublishedTarget != 10162) {
					t.Fatalf("南极乡 target %d (published %d); the plan's rule gives 10161, the plan printed 10162", r.Target, r.PublishedTarget)
				}
				if r.Name == "天湖街道" && r.Registered != 1 {
					t.Fatalf("天湖街道 (local region) registered %d, want 1", r.Registered)
				}
			}
			if !found {
				t.Fatal("no 西津街道 row")
			}
			var cps struct{ Total, Built, Enabled int }
			get(t, hs.URL+"/api/v1/admin/checkpoints", token, &cps)
			if cps.Total != 88 || cps.Built != 72 || cps.Enabled != 70 {
				t.Fatalf("checkpoint table %d/%d/%d, want 88 rows, 72 built, 70 enabled", cps.Total, cps.Built, cps.Enabled)
			}
			var stats struct {
				Total struct{ Green, Yellow, Red int64 }
			}
			get(t, hs.URL+"/api/v1/admin/stats", token, &stats)
			// The residents, and then the two inbound travellers the border
			// desk registered: one in central quarantine (red), one in home
			// monitoring (yellow).
			if stats.Total.Red != 1+1 || stats.Total.Yellow != 1+1 || stats.Total.Green != 8 {
				t.Fatalf("demo colours %+v, want one red (close contact), one yellow (companion), the other 8 green, and the arrivals' red and yellow", stats.Total)
			}
			var arrivals struct {
				Arrivals []struct{ Color, Rule, Origin string }
			}
			get(t, hs.URL+"/api/v1/admin/arrivals", token, &arrivals)
			if a := arrivals.Arrivals; len(a) != 2 || a[0].Color != "red" || a[0].Rule != "inbound_quarantine" || a[0].Origin != "DEU" ||
				a[1].Color != "yellow" || a[1].Rule != "inbound_monitoring" || a[1].Origin != "FRA" {
				t.Fatalf("demo arrivals: %+v", a)
			}
			// The gateway: the pharmacy's two purchases, seen by the
			// authority and through the till's printed key; a unit
			// account signs in with its printed password.
			var key, unitPW string
			for _, l := range logins {
				if l.Org == "宁国市国胜大药房（西津店）" && l.Key != "" {
					key = l.Key
				}
				if l.Username == "pharmacy" {
					unitPW = l.Password
				}
			}
			var sum struct{ Total struct{ Total, Buyers int } }
			get(t, hs.URL+"/api/v1/admin/pharmacy/summary", token, &sum)
			if sum.Total.Total != 2 || sum.Total.Buyers != 2 {
				t.Fatalf("pharmacy summary %+v, want 2 purchases by 2 buyers", sum.Total)
			}
			var day struct{ Total int }
			get(t, hs.URL+"/gateway/v1/pharmacy/purchases", key, &day)
			if day.Total != 2 {
				t.Fatalf("the till's key sees %d purchases today", day.Total)
			}
			if _, _, err := srv.Auth.UnitLogin(ctx, "pharmacy", unitPW); err != nil {
				t.Fatalf("the printed unit login: %v", err)
			}
			// The scenarios, through the keys printed for them: the fever
			// clinic's two visits (one open), the hospital's queue (a yellow
			// code sent to the fever clinic), the platform's four drivers (one
			// red).
			keys := map[string]string{}
			for _, l := range logins {
				if l.Key != "" {
					keys[l.Org] = l.Key
				}
			}
			var visits struct {
				Open, Closed []struct{ Outcome string }
			}
			get(t, hs.URL+"/gateway/v1/clinic/visits", keys["宁国市人民医院发热门诊"], &visits)
			if len(visits.Open) != 1 || len(visits.Closed) != 1 || visits.Closed[0].Outcome != "negative" {
				t.Fatalf("the fever clinic's visits: %+v", visits)
			}
			var queue struct {
				Routed  int
				Tickets []struct{ Department string }
			}
			get(t, hs.URL+"/gateway/v1/hospital/queue", keys["宁国市人民医院"], &queue)
			if len(queue.Tickets) != 3 || queue.Routed != 1 {
				t.Fatalf("the hospital's queue: %+v", queue)
			}
			// The service hall's morning: three tickets, the yellow one at
			// the designated window, one served and rated; the scenic spot's
			// slots with three open bookings and one cancelled.
			var hall struct {
				Routed, Done, Rated int
				Tickets             []struct{ Line string }
			}
			get(t, hs.URL+"/gateway/v1/hall/tickets", keys["宁国市政务服务中心"], &hall)
			if len(hall.Tickets) != 3 || hall.Routed != 1 || hall.Done != 1 || hall.Rated != 1 {
				t.Fatalf("the hall's tickets: %+v", hall)
			}
			// 张三丰 has yesterday's ticket, served, to rate.
			acct, err := srv.Auth.EnsureAccount(ctx, "13800000001")
			if err != nil {
				t.Fatal(err)
			}
			mine, err := srv.Hall.MyTickets(ctx, &auth.Principal{Kind: auth.Resident, ID: acct}, "")
			toRate := 0
			for _, tk := range mine {
				if tk.State == hallpkg.Done && tk.Rating == 0 {
					toRate++
				}
			}
			if err != nil || len(mine) != 2 || toRate != 1 {
				t.Fatalf("张三丰's hall tickets: %v, %d, %d to rate", err, len(mine), toRate)
			}
			var booked, cancelled int
			if err := srv.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM bk_bookings WHERE state = 'booked'`).Scan(&booked); err != nil {
				t.Fatal(err)
			}
			if err := srv.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM bk_bookings WHERE state = 'cancelled'`).Scan(&cancelled); err != nil {
				t.Fatal(err)
			}
			if booked != 3 || cancelled != 1 {
				t.Fatalf("the scenic spot's bookings: %d booked, %d cancelled", booked, cancelled)
			}
			var handles []string
			rows, err := srv.DB.QueryContext(ctx, `SELECT handle FROM ride_handles ORDER BY granted_at`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var h string
				rows.Scan(&h)
				handles = append(handles, h)
			}
			rows.Close()
			body, _ := json.Marshal(map[string]any{"handles": handles})
			req, _ := http.NewRequest("POST", hs.URL+"/gateway/v1/ride/check/batch", strings.NewReader(string(body)))
			req.Header.Set("Authorization", "Bearer "+keys["宁国畅行网约车平台"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var batch struct {
				Checked int
				Counts  struct{ Green, Red int }
			}
			json.NewDecoder(res.Body).Decode(&batch)
			res.Body.Close()
			if res.StatusCode != 200 || batch.Checked != 4 || batch.Counts.Green != 3 || batch.Counts.Red != 1 {
				t.Fatalf("the platform's drivers: %d %+v", res.StatusCode, batch)
			}

			var ops struct{ Operators []struct{ Username string } }
			get(t, hs.URL+"/api/v1/admin/operators", token, &ops)
			if len(ops.Operators) != 6+1 { // and the border desk's
				t.Fatalf("%d operators, want 6 and the border desk's", len(ops.Operators))
			}
		})
	}
}

func post(t *testing.T, url, body string) map[string]any {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 200 {
		t.Fatalf("POST %s: %d %v", url, res.StatusCode, out)
	}
	return out
}

func get(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
