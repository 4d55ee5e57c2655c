package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tripCities is the trip card's cities as "code" or "code*" (starred).
func tripCities(e *env, token, personID string) (string, bool) {
	e.t.Helper()
	path := "/api/v1/me/trip"
	if personID != "" {
		path += "?person_id=" + personID
	}
	r := e.Want(e.Do("GET", path, token, nil), 200, "")
	var out []string
	cities, _ := r.Body["cities"].([]any)
	for _, c := range cities {
		m := c.(map[string]any)
		s := m["code"].(string)
		if m["starred"] == true {
			s += "*"
		}
		out = append(out, s)
	}
	return strings.Join(out, ","), r.Body["starred"] == true
}

// A resident whose phone stayed in a city that then gets a medium-risk
// area sees a star and turns yellow, and clears with a negative test; a
// phone that never registered sees its trip card all the same; bad input
// is a precise 4xx that stores nothing; the areas are open data.
func TestTripCardAndRiskAreasThroughTheAPI(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		officer := e.NewOperator("cdc", "health_officer", "341881")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		tok, id := e.Resident("13800001001", "王小明", rid("19900101", 911), "341881001")
		stranger := e.ResidentToken("13800001009") // logged in, never registered

		// The carrier's file: two good stays of 6 hours in Xuancheng (3418,
		// written 341800 as carriers do), a bad city, a bad phone, a stay of
		// 3 hours that does not count, an inverted one.
		cst := time.FixedZone("CST", 8*3600)
		first := time.Now().In(cst).Add(-72 * time.Hour).Truncate(time.Minute)
		f := func(t time.Time) string { return t.Format("2006-01-02 15:04") }
		csv := "phone,city,first_seen,last_seen\n" +
			fmt.Sprintf("13800001001,341800,%s,%s\n", f(first), f(first.Add(6*time.Hour))) +
			fmt.Sprintf("+86 138-0000-1009,3418,%s,%s\n", f(first), f(first.Add(6*time.Hour))) +
			fmt.Sprintf("13800001001,999900,%s,%s\n", f(first), f(first.Add(6*time.Hour))) +
			fmt.Sprintf("12345,3418,%s,%s\n", f(first), f(first.Add(6*time.Hour))) +
			fmt.Sprintf("13800001001,3201,%s,%s\n", f(first.Add(-24*time.Hour)), f(first.Add(-21*time.Hour))) +
			fmt.Sprintf("13800001001,3301,%s,%s\n", f(first), f(first.Add(-time.Hour)))
		e.Want(e.Send("POST", "/api/v1/admin/trip/stays/import", viewer, "text/csv", csv), 403, "forbidden")
		rep := e.Want(e.Send("POST", "/api/v1/admin/trip/stays/import", officer, "text/csv", csv), 200, "")
		if rep.Body["lines"] != 6.0 || rep.Body["accepted"] != 3.0 {
			t.Fatalf("stays import: %s", rep.Raw)
		}
		for _, want := range []string{`{"line":3,"code":"trip_city_invalid"`, `{"line":4,"code":"phone_`, `{"line":6,"code":"trip_seen_inverted"`} {
			if !strings.Contains(string(rep.Raw), want) {
				t.Fatalf("stays import lacks %s: %s", want, rep.Raw)
			}
		}
		if n := e.Count("trip_stays"); n != 3 {
			t.Fatalf("%d stays stored, want 3", n)
		}
		if got, _ := tripCities(e, tok, ""); got != "3418" {
			t.Fatalf("trip card before any area: %q (the 3-hour stay in 3201 must not count)", got)
		}
		if got, _ := tripCities(e, stranger, ""); got != "3418" {
			t.Fatalf("an unregistered phone's trip card: %q", got)
		}
		e.Want(e.Do("GET", "/api/v1/me/trip", "", nil), 401, "")

		// Bad areas: precise 400s, nothing stored.
		now := time.Now().UTC()
		area := func(region, level string, from, until *time.Time) map[string]any {
			m := map[string]any{"region": region, "level": level, "name": "西津街道某小区"}
			if from != nil {
				m["from"] = from.Format(time.RFC3339)
			}
			if until != nil {
				m["until"] = until.Format(time.RFC3339)
			}
			return m
		}
		from, until, early := now.Add(-time.Hour), now.Add(7*24*time.Hour), now.Add(-2*time.Hour)
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341881001", "medium", &from, nil)), 400, "risk_area_validity_missing")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341881001", "medium", nil, nil)), 400, "risk_area_validity_missing")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341881001", "medium", &from, &early)), 400, "risk_area_validity_inverted")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341899", "medium", &from, &until)), 400, "region_unknown")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("34", "medium", &from, &until)), 400, "risk_area_region_level")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341881001", "severe", &from, &until)), 400, "")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("320102", "medium", &from, &until)), 403, "out_of_scope")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", viewer, area("341881001", "medium", &from, &until)), 403, "forbidden")
		if n := e.Count("risk_areas"); n != 0 {
			t.Fatalf("%d areas stored after bad input", n)
		}

		// The dry run names who would change, and stores nothing.
		dry := e.Want(e.Do("POST", "/api/v1/admin/risk-areas/dry-run", officer, area("341881001", "medium", &from, &until)), 200, "")
		if dry.Body["changed"] != 1.0 || !strings.Contains(string(dry.Raw), `"person_id":"`+id+`"`) ||
			!strings.Contains(string(dry.Raw), `"to":"yellow"`) {
			t.Fatalf("dry run: %s", dry.Raw)
		}
		if n := e.Count("risk_areas"); n != 0 {
			t.Fatalf("the dry run stored %d areas", n)
		}
		// It looked at people, so it is audited: who, which area, how
		// many; never whom.
		log := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=risk_areas", admin, nil), 200, "")
		entries, _ := log.Body["entries"].([]any)
		if len(entries) != 1 {
			t.Fatalf("audit after one dry run: %s", log.Raw)
		}
		en := entries[0].(map[string]any)
		detail, _ := en["detail"].(map[string]any)
		if en["action"] != "risk_area.dry_run" || !strings.HasPrefix(en["actor"].(string), "operator:") || detail["changed"] != 1.0 ||
			detail["visitors"] != 1.0 || detail["level"] != "medium" || en["region"] != "341881001" || strings.Contains(string(log.Raw), id) {
			t.Fatalf("the dry run's audit entry: %s", log.Raw)
		}
		if c := colorOf(e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")); c != "green" {
			t.Fatalf("colour after the dry run: %s", c)
		}

		// Published: the city is starred and the resident turns yellow.
		pub := e.Want(e.Do("POST", "/api/v1/admin/risk-areas", officer, area("341881001", "medium", &from, &until)), 201, "")
		if pub.Body["facts"] != 1.0 || pub.Body["city"] != "3418" || pub.Body["active"] != true {
			t.Fatalf("publish: %s", pub.Raw)
		}
		if got, starred := tripCities(e, tok, ""); got != "3418*" || !starred {
			t.Fatalf("trip card after the area: %q %v", got, starred)
		}
		if got, _ := tripCities(e, stranger, ""); got != "3418*" {
			t.Fatalf("an unregistered phone's trip card after the area: %q", got)
		}
		me := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if colorOf(me) != "yellow" || !strings.Contains(string(me.Raw), "risk_area_visit") && !strings.Contains(string(me.Raw), "中高风险") {
			t.Fatalf("after the area: %s", me.Raw)
		}

		// Open data.
		list := e.Want(e.Do("GET", "/api/v1/risk-areas?region=3418", "", nil), 200, "")
		if !strings.Contains(string(list.Raw), `"id":"`+pub.Str("id")+`"`) || !strings.Contains(string(list.Raw), "西津街道某小区") {
			t.Fatalf("open data: %s", list.Raw)
		}
		if r := e.Want(e.Do("GET", "/api/v1/risk-areas?level=high", "", nil), 200, ""); strings.Contains(string(r.Raw), pub.Str("id")) {
			t.Fatalf("level filter: %s", r.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/risk-areas?level=severe", "", nil), 400, "risk_level_invalid")
		e.Want(e.Do("GET", "/api/v1/risk-areas?region=99", "", nil), 400, "region_unknown")

		// A crowded venue keeps starred and yellow people out, with the
		// reason, and counts the refusals, never who.
		mall, mallToken := e.Venue(admin, "宁国万达广场", "mall", "341881001")
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", viewer, map[string]any{"kind": "mall", "refuse": []string{"starred"}}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", officer, map[string]any{"kind": "mall", "refuse": []string{"purple"}}), 400, "venue_policy_refuse")
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", officer, map[string]any{"kind": "mall", "venue_id": mall, "refuse": []string{}}), 400, "venue_policy_scope")
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", officer, map[string]any{"kind": "mall", "refuse": []string{"yellow", "starred"}}), 200, "")
		e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": mallToken}), 403, "venue_refused_yellow")

		// A negative test clears the yellow; the star stays with the area,
		// and so does the refusal.
		neg := e.fact(admin, id, "nat.result", now.Add(-30*time.Minute), map[string]any{"result": "negative"})
		if colorOf(e.Want(neg, 201, "")) != "green" {
			t.Fatalf("after a negative test: %s", neg.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": mallToken}), 403, "venue_refused_starred")
		if n := e.Count("checkins"); n != 0 {
			t.Fatalf("%d check-ins stored for refused entries", n)
		}
		counts := e.Want(e.Do("GET", "/api/v1/admin/venues/"+mall+"/counts", admin, nil), 200, "")
		if !strings.Contains(string(counts.Raw), `"refused":{"starred":1,"yellow":1}`) || strings.Contains(string(counts.Raw), id) {
			t.Fatalf("venue counts: %s", counts.Raw)
		}
		// A venue of another kind admits them.
		_, shopToken := e.Venue(admin, "西津超市", "supermarket", "341881001")
		e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": shopToken}), 201, "")

		// CSV import: per-line report, good lines kept.
		areas := "region,name,level,from,until\n" +
			fmt.Sprintf("341881002,,high,%s,%s\n", from.Format(time.RFC3339), until.Format(time.RFC3339)) +
			fmt.Sprintf("341881002,,high,%s,\n", from.Format(time.RFC3339)) +
			"999999,,low,2022-04-01,2022-04-08\n"
		imp := e.Want(e.Send("POST", "/api/v1/admin/risk-areas/import", officer, "text/csv", areas), 200, "")
		if imp.Body["accepted"] != 1.0 || !strings.Contains(string(imp.Raw), `{"line":3,"code":"risk_area_validity_missing"`) ||
			!strings.Contains(string(imp.Raw), `{"line":4,"code":"region_unknown"`) {
			t.Fatalf("areas import: %s", imp.Raw)
		}

		// A dependent's card is their own presence, not the proxy's phone;
		// someone else's is not found.
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{"name": "王奶奶", "id_type": "resident_id",
			"id_number": rid("19400101", 912), "relation": "grandparent"}), 201, "").Str("id")
		if got, _ := tripCities(e, tok, dep); got != "" {
			t.Fatalf("a dependent's card shows the proxy's stays: %q", got)
		}
		e.Want(e.Do("GET", "/api/v1/me/trip?person_id="+dep, stranger, nil), 404, "")

		// Withdrawn areas stop starring; the registry keeps them.
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas/"+pub.Str("id")+"/withdraw", viewer, nil), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas/"+pub.Str("id")+"/withdraw", officer, nil), 200, "")
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas/"+pub.Str("id")+"/withdraw", officer, nil), 409, "risk_area_withdrawn")
		if got, _ := tripCities(e, tok, ""); got != "3418*" {
			t.Fatalf("after one of two areas was withdrawn: %q", got)
		}
		reg := e.Want(e.Do("GET", "/api/v1/admin/risk-areas", officer, nil), 200, "")
		if !strings.Contains(string(reg.Raw), pub.Str("id")) {
			t.Fatalf("registry: %s", reg.Raw)
		}
	})
}
