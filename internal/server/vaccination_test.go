package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// A resident books a place, is vaccinated by scanning their code at the
// site, and sees the dose and a certificate that verifies offline; bad
// input is a precise 4xx that writes nothing; the open data lists the site.
func TestVaccinationThroughTheAPI(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("cdc", "health_officer", "341881")
		nurse := e.NewOperator("nurse", "sampler", "341881")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/vaccination/sites", officer, map[string]any{"name": "西津街道接种点",
			"address": "宁国市西津街道", "lat": 30.63, "lng": 118.98, "region": "341881001"}), 201, "")
		e.Want(e.Do("POST", "/api/v1/admin/vaccination/sites", viewer, map[string]any{"name": "x"}), 403, "forbidden")
		vac := e.Want(e.Do("POST", "/api/v1/admin/vaccination/vaccines", officer, map[string]any{"name": "克尔来福", "maker": "科兴",
			"doses": 2, "interval_days": 21}), 201, "")
		start := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
		if start.Add(time.Hour).In(time.FixedZone("CST", 8*3600)).Day() != start.In(time.FixedZone("CST", 8*3600)).Day() {
			start = start.Add(2 * time.Hour)
		}
		slot := e.Want(e.Do("POST", "/api/v1/admin/vaccination/slots", officer, map[string]any{"site_id": site.Str("id"),
			"vaccine_id": vac.Str("id"), "starts_at": start, "ends_at": start.Add(30 * time.Minute), "capacity": 1}), 201, "")
		// Yesterday 10:00-10:30 in China: past, and within one day whatever the hour the test runs.
		y := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1)
		past := time.Date(y.Year(), y.Month(), y.Day(), 10, 0, 0, 0, y.Location())
		e.Want(e.Do("POST", "/api/v1/admin/vaccination/slots", officer, map[string]any{"site_id": site.Str("id"),
			"vaccine_id": vac.Str("id"), "starts_at": past, "ends_at": past.Add(30 * time.Minute), "capacity": 5}), 422, "slot_past")

		// Open data.
		list := e.Want(e.Do("GET", "/api/v1/vaccination/sites?near=30.6,118.9", "", nil), 200, "")
		if list.Body["count"] != 1.0 {
			t.Fatalf("sites: %s", list.Raw)
		}
		_, body := e.Get("/api/v1/vaccination/sites?format=csv")
		if !strings.Contains(string(body), "西津街道接种点") {
			t.Fatalf("csv: %s", body)
		}
		res, body := e.Get("/api/v1/vaccination/sites?format=geojson")
		if res.Header.Get("Content-Type") != "application/geo+json" || !strings.Contains(string(body), `"coordinates":[118.98,30.63]`) ||
			!strings.Contains(string(body), "西津街道接种点") {
			t.Fatalf("geojson: %s %s", res.Header.Get("Content-Type"), body)
		}
		slots := e.Want(e.Do("GET", "/api/v1/vaccination/sites/"+site.Str("id")+"/slots", "", nil), 200, "")
		if !strings.Contains(string(slots.Raw), `"remaining":1`) {
			t.Fatalf("slots: %s", slots.Raw)
		}

		tok, id := e.Resident("13800001001", "王小明", rid("19900101", 911), "341881001")
		other, _ := e.Resident("13800001002", "李小红", rid("19920202", 922), "341881001")
		e.Want(e.Do("POST", "/api/v1/me/appointments", tok, map[string]any{}), 400, "slot_id_missing")
		appt := e.Want(e.Do("POST", "/api/v1/me/appointments", tok, map[string]any{"slot_id": slot.Str("id")}), 201, "")
		e.Want(e.Do("POST", "/api/v1/me/appointments", tok, map[string]any{"slot_id": slot.Str("id")}), 409, "slot_full")
		e.Want(e.Do("POST", "/api/v1/me/appointments", other, map[string]any{"slot_id": slot.Str("id")}), 409, "slot_full")
		e.Want(e.Do("DELETE", "/api/v1/me/appointments/"+appt.Str("id"), other, nil), 404, "appointment_not_found")
		if n := e.Count("vac_appointments"); n != 1 {
			t.Fatalf("%d appointments stored", n)
		}

		code := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
		dose := map[string]any{"code": code, "vaccine_id": vac.Str("id"), "lot": "202106A01", "dose": 1, "site_id": site.Str("id")}
		bad := func(k string, v any) map[string]any {
			m := map[string]any{}
			for a, b := range dose {
				m[a] = b
			}
			m[k] = v
			return m
		}
		e.Want(e.Do("POST", "/api/v1/vaccination/doses", nurse, bad("lot", "!")), 400, "lot_invalid")
		e.Want(e.Do("POST", "/api/v1/vaccination/doses", nurse, bad("dose", 7)), 400, "dose_invalid")
		e.Want(e.Do("POST", "/api/v1/vaccination/doses", nurse, bad("dose", 2)), 422, "dose_out_of_order")
		unknown := bad("code", "")
		unknown["id_number"] = "11010519491231002X"
		e.Want(e.Do("POST", "/api/v1/vaccination/doses", nurse, unknown), 404, "person_not_found")
		e.Want(e.Do("POST", "/api/v1/vaccination/doses", viewer, dose), 403, "forbidden")
		if n := e.Count("vac_doses"); n != 0 {
			t.Fatalf("%d doses stored by refused registrations", n)
		}
		reg := e.Want(e.Do("POST", "/api/v1/vaccination/doses", nurse, dose), 201, "")
		if reg.Str("person_id") != id {
			t.Fatalf("registered: %s", reg.Raw)
		}
		rec := e.Want(e.Do("GET", "/api/v1/me/vaccinations", tok, nil), 200, "")
		if !strings.Contains(string(rec.Raw), `"lot":"202106A01"`) || rec.Body["complete"] != false {
			t.Fatalf("record: %s", rec.Raw)
		}
		appts := e.Want(e.Do("GET", "/api/v1/me/appointments", tok, nil), 200, "")
		if !strings.Contains(string(appts.Raw), `"state":"done"`) {
			t.Fatalf("appointments: %s", appts.Raw)
		}
		cert := e.Want(e.Do("GET", "/api/v1/me/vaccinations/certificate", tok, nil), 200, "")
		v := codeformat.NewVerifier(e.App.CodeKeys.TrustList(), codeformat.Options{Kinds: []codeformat.Kind{codeformat.KindCertificate}})
		if r := v.Verify(cert.Str("code"), time.Now()); !r.Valid || r.Claims.Result != codeformat.Vaccinated {
			t.Fatalf("certificate: %s %v", cert.Raw, r.Reasons)
		}
		e.Want(e.Do("GET", "/api/v1/me/vaccinations/certificate", other, nil), 404, "no_doses")
		// A checkpoint accepts it as kind certificate, with what it certifies.
		_, key := e.Checkpoint(e.Admin(), "接种查验", "341881001")
		ver := e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": cert.Str("code")}), 200, "")
		if ver.Body["valid"] != true || ver.Str("kind") != "certificate" || ver.Str("result") != "vaccinated" || ver.Str("result_at") == "" {
			t.Fatalf("verify: %s", ver.Raw)
		}

		days := e.Want(e.Do("GET", "/api/v1/admin/vaccination/appointments", viewer, nil), 200, "")
		towns := e.Want(e.Do("GET", "/api/v1/admin/vaccination/doses", viewer, nil), 200, "")
		cov := e.Want(e.Do("GET", "/api/v1/admin/vaccination/coverage", viewer, nil), 200, "")
		if !strings.Contains(string(towns.Raw), `"doses":1`) || !strings.Contains(string(cov.Raw), `"band":"18-59"`) ||
			!strings.Contains(string(days.Raw), `"done":1`) {
			t.Fatalf("counts: %s %s %s", days.Raw, towns.Raw, cov.Raw)
		}
		imp := e.Send("POST", "/api/v1/admin/vaccination/doses/import", nurse, "text/csv",
			"id_type,id_number,vaccine,dose,lot,site,given_at\n"+
				fmt.Sprintf("resident_id,%[2]s,克尔来福,1,202101C03,%[1]s,2021-03-01 09:00\n", site.Str("id"), rid("19920202", 922))+
				fmt.Sprintf("resident_id,%s,克尔来福,1,202101C03,nowhere,2021-03-01 09:00\n", rid("19920202", 922)))
		e.Want(imp, 200, "")
		if imp.Body["accepted"] != 1.0 || !strings.Contains(string(imp.Raw), `"line":3`) {
			t.Fatalf("import: %s", imp.Raw)
		}
	})
}

// Who may register a dose and for whom a resident may book are decided by
// the vaccination service; the API and the pages refuse alike and write
// nothing.
func TestVaccinationRulesHoldAtBothDoors(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("cdc", "health_officer", "341881")
		e.NewOperator("viewer", "viewer", "341881")
		e.NewOperator("far", "sampler", "341881002")
		site := e.Want(e.Do("POST", "/api/v1/admin/vaccination/sites", officer, map[string]any{"name": "西津街道接种点",
			"address": "宁国市西津街道", "lat": 30.63, "lng": 118.98, "region": "341881001"}), 201, "")
		vac := e.Want(e.Do("POST", "/api/v1/admin/vaccination/vaccines", officer, map[string]any{"name": "克尔来福", "maker": "科兴",
			"doses": 2, "interval_days": 21}), 201, "")
		start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
		slot := e.Want(e.Do("POST", "/api/v1/admin/vaccination/slots", officer, map[string]any{"site_id": site.Str("id"),
			"vaccine_id": vac.Str("id"), "starts_at": start, "ends_at": start.Add(30 * time.Minute), "capacity": 5}), 201, "")
		tok, _ := e.Resident("13900000801", "张三", rid("19800101", 801), "341881001")
		_, stranger := e.Resident("13900000802", "李四", rid("19810101", 802), "341881001")
		code := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
		dose := map[string]any{"code": code, "vaccine_id": vac.Str("id"), "lot": "202106A01", "dose": 1, "site_id": site.Str("id")}
		form := url.Values{"code": {code}, "vaccine": {vac.Str("id")}, "lot": {"202106A01"}, "dose": {"1"}, "site": {site.Str("id")}}
		for _, c := range []struct{ who, code string }{{"viewer", "forbidden"}, {"far", "vaccination_site_not_found"}} {
			status := 403
			if c.who == "far" {
				status = 404
			}
			r := e.Do("POST", "/api/v1/vaccination/doses", e.OperatorToken(c.who, "a long password"), dose)
			wantRefused(t, "API "+c.who, r.Status, r.ErrCode(), status, c.code)
			p := e.console(c.who, "a long password").Do("POST", "/console/vaccination/register", form)
			wantRefused(t, "console "+c.who, p.Status, p.code, status, c.code)
		}
		r := e.Do("POST", "/api/v1/me/appointments", tok, map[string]any{"slot_id": slot.Str("id"), "person_id": stranger})
		wantRefused(t, "API booking", r.Status, r.ErrCode(), 404, "person_not_found")
		p := e.residentPages(tok).Do("POST", "/me/vaccination/appointments", url.Values{"slot": {slot.Str("id")}, "for": {stranger}})
		wantRefused(t, "pages booking", p.Status, p.code, 404, "person_not_found")
		if e.Count("vac_doses") != 0 || e.Count("vac_appointments") != 0 {
			t.Fatal("a refusal stored something")
		}
	})
}
