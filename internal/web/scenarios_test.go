package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Each organisation's scenario pages show its own data and refuse what
// its kind may not do, as the services decide; the console shows the
// authority's day and each organisation's lists in scope.
func TestScenarioPagesShowEachTheirOwn(t *testing.T) {
	e := newEnv(t, true)
	// The hospital is registered before its fever clinic: the first match.
	fc, hosp, ph := e.demoOrg("发热门诊"), e.demoOrg("人民医院"), e.demoOrg("国胜大药房")

	clinic := e.unitClient("feverclinic")
	for path, want := range map[string]string{
		"/unit":        "today-registered",
		"/unit/visits": "王*国", // the demo's open visit
	} {
		if st, body := e.get(clinic, path); st != 200 || !strings.Contains(body, want) {
			t.Errorf("%s for the fever clinic: %d, want %q in it", path, st, want)
		}
	}
	if _, body := e.get(clinic, "/unit/visits"); !strings.Contains(body, "孙*强") || strings.Contains(body, "孙志强") {
		t.Error("the fever clinic's closed visit is missing, or names the patient in full")
	}
	for _, path := range []string{"/unit/queue", "/unit/ride", "/unit/purchases"} {
		if st, _ := e.get(clinic, path); st != 403 {
			t.Errorf("%s for the fever clinic: %d, want 403", path, st)
		}
	}

	desk := e.unitClient("hospital")
	if st, body := e.get(desk, "/unit/queue"); st != 200 || !strings.Contains(body, "陈*") || !strings.Contains(body, "发热门诊") {
		t.Errorf("the hospital's queue: %d", st)
	}
	if st, body := e.get(desk, "/unit/visits"); st != 200 || strings.Contains(body, "王*国") {
		t.Errorf("the hospital sees its fever clinic's visits: %d", st)
	}
	if st, _ := e.get(desk, "/unit/ride"); st != 403 {
		t.Errorf("the hospital's ride page: %d", st)
	}

	platform := e.unitClient("ride")
	if st, body := e.get(platform, "/unit/ride"); st != 200 || !strings.Contains(body, "ride-batch") {
		t.Errorf("the platform's page: %d", st)
	}
	for _, path := range []string{"/unit/visits", "/unit/queue"} {
		if st, _ := e.get(platform, path); st != 403 {
			t.Errorf("%s for the platform: %d, want 403", path, st)
		}
	}

	// Posting what another kind does: refused, nothing written.
	till := e.unitClient("pharmacy")
	_, body := e.get(till, "/unit/scan")
	before := count(t, e, "clinic_visits")
	res, _ := e.post(till, "/unit/visits", url.Values{"csrf": {csrfOf(body)}, "subject": {"hcs_x"}, "temperature": {"38.5"}, "doctor": {"x"}})
	if res.StatusCode != 403 || count(t, e, "clinic_visits") != before {
		t.Errorf("a pharmacy registered a fever-clinic visit: %d", res.StatusCode)
	}
	_, body = e.get(platform, "/unit/scan")
	res, _ = e.post(platform, "/unit/queue", url.Values{"csrf": {csrfOf(body)}, "subject": {"hcs_x"}, "department": {"内科"}})
	if res.StatusCode != 403 {
		t.Errorf("a platform gave a queue number: %d", res.StatusCode)
	}
	_, body = e.get(clinic, "/unit/visits")
	res, _ = e.post(clinic, "/unit/visits/nope/close", url.Values{"csrf": {csrfOf(body)}, "outcome": {"negative"}})
	if res.StatusCode != 404 {
		t.Errorf("closing a visit that is not there: %d", res.StatusCode)
	}

	// The console: the authority's day and each organisation's lists (the
	// service tests and the API's hold the scope).
	admin := e.consoleClient("admin", adminPassword)
	if st, body := e.get(admin, "/console/clinics"); st != 200 || !strings.Contains(body, "西津街道") {
		t.Errorf("the fever-clinic summary: %d", st)
	}
	for _, path := range []string{"/console/orgs/" + fc.ID + "/visits", "/console/orgs/" + hosp.ID + "/queue"} {
		if st, _ := e.get(admin, path); st != 200 {
			t.Errorf("%s for the admin: %d", path, st)
		}
	}
	if st, _ := e.get(admin, "/console/orgs/"+ph.ID+"/visits"); st != 403 {
		t.Errorf("a pharmacy's visits: %d, want 403 (not a clinic)", st)
	}
	// A resident's own page lists the platform with the handle they share.
	zhao := e.residentClient("13800000006")
	if st, body := e.get(zhao, "/me/platforms"); st != 200 || !strings.Contains(body, "宁国畅行网约车平台") || !strings.Contains(body, "hch_") {
		t.Errorf("the driver's platforms page: %d", st)
	}
}

// residentClient logs a phone in through the pages.
func (e *env) residentClient(phone string) *http.Client {
	e.t.Helper()
	c := e.client()
	_, body := e.get(c, "/login")
	_, body = e.post(c, "/login/otp", url.Values{"csrf": {csrfOf(body)}, "phone": {phone}})
	res, _ := e.post(c, "/login", url.Values{"csrf": {csrfOf(body)}, "phone": {phone}, "otp": {e.OTP(phone)}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("resident login of %s: %d", phone, res.StatusCode)
	}
	return c
}
