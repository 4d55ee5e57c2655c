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
