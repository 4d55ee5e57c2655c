package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The console's venue entry policies: an operator sets a kind's policy and
// sees it listed in Chinese and English, a bad test window is a 400 with
// the reason that stores nothing, and removing the policy empties the list
// (twice is a 404 saying so, in the language last chosen).
func TestVenuePoliciesConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := consoleClient(t, e, "admin", adminPassword)
	policies := func() string {
		t.Helper()
		return string(e.Want(e.Do("GET", "/api/v1/admin/venue-policies", e.Admin(), nil), 200, "").Raw)
	}
	st, body := e.get(c, "/console/venue-policies")
	if st != 200 || !strings.Contains(body, "尚未设置准入规则") || !strings.Contains(body, `id="policy-form"`) {
		t.Fatalf("empty page: %d", st)
	}
	csrf := csrfOf(body)

	res, body := e.post(c, "/console/venue-policies", url.Values{"csrf": {csrf}, "kind": {"mall"}, "starred": {"1"}, "untested_hours": {"two days"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "核酸检测时限超出范围") {
		t.Fatalf("bad window: %d", res.StatusCode)
	}
	if p := policies(); strings.Contains(p, `"mall"`) {
		t.Fatalf("a refused form stored a policy: %s", p)
	}

	res, _ = e.post(c, "/console/venue-policies", url.Values{"csrf": {csrf}, "kind": {"mall"}, "starred": {"1"}, "yellow": {"1"}, "untested_hours": {"48"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set: %d", res.StatusCode)
	}
	if p := policies(); !strings.Contains(p, `"scope":"kind","ref":"mall"`) || !strings.Contains(p, `"untested_hours":48`) {
		t.Fatalf("after setting: %s", p)
	}
	_, zh := e.get(c, "/console/venue-policies")
	_, en := e.get(c, "/console/venue-policies?lang=en")
	for _, want := range []string{"场所类型: 商场", "黄码", "行程卡带星号", "48小时内阴性"} {
		if !strings.Contains(zh, want) {
			t.Fatalf("zh list lacks %q", want)
		}
	}
	for _, want := range []string{"Kind of venue: Mall", "Starred trip card", "negative within 48 h"} {
		if !strings.Contains(en, want) {
			t.Fatalf("en list lacks %q", want)
		}
	}

	remove := url.Values{"csrf": {csrf}, "scope": {"kind"}, "ref": {"mall"}}
	if res, _ = e.post(c, "/console/venue-policies/remove", remove); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if p := policies(); strings.Contains(p, `"mall"`) {
		t.Fatalf("after removing: %s", p)
	}
	res, body = e.post(c, "/console/venue-policies/remove", remove)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, `data-code="venue_policy_not_found"`) || !strings.Contains(body, "No such venue entry policy") {
		t.Fatalf("remove twice: %d", res.StatusCode)
	}
}
