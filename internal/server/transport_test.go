package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/server"
)

// A bus operator registers a bus with its own code; passengers scan it to
// ride (a check-in); a tracing run finds the co-rider within the vehicle
// window and not the later passenger; a station refuses a fever and a red
// code with the reason; forged and expired codes are 4xx that write nothing.
func TestTransportThroughTheGateway(t *testing.T) {
	t.Parallel()
	vehicles10 := func(c *server.Config) { c.TracingWindows = map[string]time.Duration{"vehicle": 10 * time.Minute} }
	forEachWith(t, vehicles10, func(t *testing.T, e *env) {
		admin := e.Admin()
		bus := e.org(admin, "bus", "宁国市公共交通有限公司", "MA2N9T5B", "341881001")
		ph := e.org(admin, "pharmacy", "国胜大药房", "MA2N7T5D", "341881001")
		_, key := e.orgKey(admin, bus, map[string]any{"name": "调度", "scopes": []string{"scan", "transport"}})
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+ph+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"transport"}}), 400, "scope_not_for_kind")

		v := e.Want(e.Do("POST", "/gateway/v1/transport/vehicles", key, map[string]any{"plate": "皖P·A1234", "route": "1路"}), 201, "")
		if v.Str("kind") != "bus" || v.Str("venue_token") == "" || !strings.HasSuffix(v.Str("poster_url"), "/poster.png") {
			t.Fatalf("vehicle: %s", v.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/transport/vehicles", key, map[string]any{"plate": "皖P·A1234"}), 409, "vehicle_exists")
		e.Want(e.Do("POST", "/gateway/v1/transport/vehicles", key, map[string]any{"plate": " "}), 400, "plate_missing")

		caseTok, caseID := e.Resident("13900002501", "陈乘客", rid("19750101", 251), "341881001")
		coTok, coID := e.Resident("13900002502", "林同车", rid("19760101", 252), "341881001")
		lateTok, _ := e.Resident("13900002503", "吴晚车", rid("19770101", 253), "341881001")

		clk := &clock{}
		e.App.Checkins.SetClock(clk.now)
		// The rides fall on one day in China (UTC+8, no daylight saving),
		// the day the list is asked for: two hours ago was yesterday there
		// between 16:00 and 18:00 UTC.
		cst := time.FixedZone("CST", 8*3600)
		base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
		if base.In(cst).Day() != base.Add(30*time.Minute).In(cst).Day() {
			base = base.Add(-time.Hour)
		}
		ride := func(tok string, at time.Time) {
			t.Helper()
			clk.set(at)
			e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": v.Str("venue_token")}), 201, "")
		}
		before := e.Count("checkins")
		e.Want(e.Do("POST", "/api/v1/checkins", coTok, map[string]any{"venue_token": v.Str("venue_token") + "x"}), 404, "")
		if got := e.Count("checkins"); got != before {
			t.Fatalf("a forged vehicle code wrote %d check-ins", got-before)
		}
		ride(caseTok, base)
		ride(coTok, base.Add(5*time.Minute))
		ride(lateTok, base.Add(30*time.Minute)) // outside the 10 min vehicle window

		list := e.Want(e.Do("GET", "/gateway/v1/transport/vehicles?date="+base.In(cst).Format(time.DateOnly), key, nil), 200, "")
		if list.Body["rides"] != 3.0 || len(list.Body["vehicles"].([]any)) != 1 || strings.Contains(string(list.Raw), "林") {
			t.Fatalf("vehicles of the day: %s", list.Raw)
		}

		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "")
		done := e.waitRun(admin, run.Str("id"))
		rows := reportOf(done)
		if done.Str("status") != "done" || len(rows) != 1 || rows[0]["person"].(map[string]any)["id"] != coID ||
			rows[0]["venue"].(map[string]any)["kind"] != "vehicle" {
			t.Fatalf("co-riders: %s", done.Raw)
		}

		// Stations: code and temperature.
		feverTok, _ := e.Resident("13900002504", "郑发热", rid("19780101", 254), "341881001")
		redTok, redID := e.Resident("13900002505", "钱红码", rid("19790101", 255), "341881001")
		ok := e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": e.myCode(lateTok), "temperature": 36.5}), 200, "")
		if ok.Body["admitted"] != true {
			t.Fatalf("green at the station: %s", ok.Raw)
		}
		f := e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": e.myCode(feverTok), "temperature": 37.3}), 200, "")
		if f.Body["admitted"] != false || !strings.Contains(string(f.Raw), `"fever"`) {
			t.Fatalf("fever at the station: %s", f.Raw)
		}
		e.Want(e.fact(admin, redID, "contact.close", time.Now().Add(-time.Hour), map[string]any{"case_person": "p-1"}), 201, "")
		r := e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": e.myCode(redTok), "temperature": 36.6}), 200, "")
		if r.Body["admitted"] != false || r.Str("color") != "red" || !strings.Contains(string(r.Raw), `"color_red"`) {
			t.Fatalf("red at the station: %s", r.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": e.myCode(redTok)}), 400, "temperature_required")

		facts := e.Count("facts")
		e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": "HELLO WORLD", "temperature": 38.5}), 422, "code_unreadable")
		code := e.myCode(coTok)
		e.App.Codes.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		e.Want(e.Do("POST", "/gateway/v1/transport/station", key, map[string]any{"code": code, "temperature": 38.5}), 422, "code_expired")
		e.App.Codes.SetClock(time.Now)
		if got := e.Count("facts"); got != facts {
			t.Fatalf("refused codes wrote %d facts", got-facts)
		}
		// Drivers: green goes on duty in the bus, red is refused and the
		// driver before stays.
		driverTok, _ := e.Resident("13900002506", "孙司机", rid("19800101", 256), "341881001")
		d := e.Want(e.Do("POST", "/gateway/v1/transport/vehicles/"+v.Str("id")+"/driver", key, map[string]any{"code": e.myCode(driverTok)}), 200, "")
		if d.Body["bound"] != true || d.Body["vehicle"].(map[string]any)["driver"] != "孙*机" {
			t.Fatalf("driver on duty: %s", d.Raw)
		}
		rd := e.Want(e.Do("POST", "/gateway/v1/transport/vehicles/"+v.Str("id")+"/driver", key, map[string]any{"code": e.myCode(redTok)}), 200, "")
		if rd.Body["bound"] != false || rd.Body["admitted"] != false || rd.Body["vehicle"].(map[string]any)["driver"] != "孙*机" {
			t.Fatalf("red driver: %s", rd.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/transport/vehicles/nosuch/driver", key, map[string]any{"code": e.myCode(driverTok)}), 404, "vehicle_not_found")
		e.Want(e.Do("POST", "/gateway/v1/transport/vehicles/"+v.Str("id")+"/driver", key, map[string]any{"code": "HELLO WORLD"}), 422, "code_unreadable")
		after := e.Want(e.Do("GET", "/gateway/v1/transport/vehicles", key, nil), 200, "")
		if after.Body["vehicles"].([]any)[0].(map[string]any)["driver"] != "孙*机" || e.Count("transport_drivers") != 1 {
			t.Fatalf("the driver after a refused one: %s", after.Raw)
		}

		_, phKey := e.orgKey(admin, ph, map[string]any{"name": "收银台", "scopes": []string{"scan"}})
		e.Want(e.Do("GET", "/gateway/v1/transport/vehicles", phKey, nil), 403, "")
	})
}
