package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/server"
)

var secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// Where admins must use two-step login, an admin without it reaches only
// the enrolment page; the page shows the key once (QR code and
// otpauth:// URI), a code confirms it, and later logins ask for the code.
func TestConsoleTwoStepLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, func(c *server.Config) { c.Auth.AdminTOTP = true })
	c := consoleClient(t, e, "admin", adminPassword)
	res, err := c.Get(e.URL + "/console/operators")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/totp" {
		t.Fatalf("an admin without the second factor: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	st, body := e.get(c, "/console/totp")
	if st != 200 || !strings.Contains(body, `id="totp-must"`) || !strings.Contains(body, "本系统要求管理员开启两步验证") {
		t.Fatalf("the enrolment page: %d\n%s", st, body)
	}
	res, body = e.post(c, "/console/totp/new", url.Values{"csrf": {csrfOf(body)}})
	m := secretRe.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil || !strings.Contains(body, "otpauth://totp/") || !strings.Contains(body, "<svg") {
		t.Fatalf("the new key: %d\n%s", res.StatusCode, body)
	}
	res, body = e.post(c, "/console/totp/confirm", url.Values{"csrf": {csrfOf(body)}, "code": {"000000"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "动态验证码与新密钥不符") || strings.Contains(body, m[1]) {
		t.Fatalf("a wrong code: %d (the key must not show again)\n%s", res.StatusCode, body)
	}
	code, _ := auth.TOTPCode(m[1], time.Now())
	if res, _ = e.post(c, "/console/totp/confirm", url.Values{"csrf": {csrfOf(body)}, "code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming: %d", res.StatusCode)
	}
	if st, _ := e.get(c, "/console/operators"); st != 200 {
		t.Fatalf("after enrolling: %d", st)
	}

	login := func(totp string) int {
		c := e.client()
		_, body := e.get(c, "/console/login")
		res, _ := e.post(c, "/console/login", url.Values{"username": {"admin"}, "password": {adminPassword}, "totp": {totp}, "csrf": {csrfOf(body)}})
		return res.StatusCode
	}
	if st := login(""); st != http.StatusUnauthorized {
		t.Errorf("without the code: %d, want 401", st)
	}
	// The confirming code is used; the next step's code logs in (the
	// window takes one step ahead).
	next, _ := auth.TOTPCode(m[1], time.Now().Add(30*time.Second))
	if st := login(next); st != http.StatusSeeOther {
		t.Errorf("with the code: %d, want 303", st)
	}
}

// An administrator resets a colleague's second factor from the operators
// page (a lost phone): the colleague's sessions end and the password alone
// logs in again; there is no button for one's own, and a second reset says
// there is nothing to reset.
func TestConsoleResetsALostSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	admin := consoleClient(t, e, "admin", adminPassword)
	_, body := e.get(admin, "/console/operators")
	res, _ := e.post(admin, "/console/operators", url.Values{"csrf": {csrfOf(body)}, "username": {"cdc.lost"},
		"password": {"long enough pw"}, "role": {"health_officer"}, "region": {"341881"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating the officer: %d", res.StatusCode)
	}
	officer := consoleClient(t, e, "cdc.lost", "long enough pw")
	_, body = e.get(officer, "/console/totp")
	_, body = e.post(officer, "/console/totp/new", url.Values{"csrf": {csrfOf(body)}})
	m := secretRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no key on the enrolment page:\n%s", body)
	}
	code, _ := auth.TOTPCode(m[1], time.Now())
	if res, _ := e.post(officer, "/console/totp/confirm", url.Values{"csrf": {csrfOf(body)}, "code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming: %d", res.StatusCode)
	}

	st, body := e.get(admin, "/console/operators")
	if st != 200 || !strings.Contains(body, `id="totp-reset-cdc.lost"`) || strings.Contains(body, `id="totp-reset-admin"`) {
		t.Fatalf("the operators page offers the wrong resets: %d\n%s", st, body)
	}
	action := regexp.MustCompile(`action="(/console/operators/[^/"]+/totp-reset)"`).FindStringSubmatch(body)
	if action == nil {
		t.Fatal("no reset form")
	}
	res, _ = e.post(admin, action[1], url.Values{"csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resetting: %d", res.StatusCode)
	}
	if res, err := officer.Get(e.URL + "/console/operators"); err != nil || res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/login") {
		t.Fatalf("the officer's session outlived the reset: %v %v", res.StatusCode, res.Header.Get("Location"))
	}
	consoleClient(t, e, "cdc.lost", "long enough pw") // the password alone

	_, body = e.get(admin, "/console/operators")
	res, body = e.post(admin, action[1], url.Values{"csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "该操作员未开启两步验证") {
		t.Fatalf("a second reset: %d\n%s", res.StatusCode, body)
	}
}
