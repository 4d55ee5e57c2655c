package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

func findCookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Forms need the session's token; a POST without it, with another
// session's, or from another site is refused and changes nothing.
func TestFormsRefuseMissingOrForeignCSRFToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.client()
	_, body := e.get(c, "/login")
	token := csrfOf(body)
	if token == "" {
		t.Fatal("the login form has no CSRF token")
	}
	before := countOutbox(t, e)
	for name, form := range map[string]url.Values{
		"no token":    {"phone": {"13900000009"}},
		"wrong token": {"phone": {"13900000009"}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAA"}},
	} {
		res, body := e.post(c, "/login/otp", form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "页面已过期") {
			t.Errorf("%s: %d, want 403 with the reason", name, res.StatusCode)
		}
	}
	// Another visitor's token does not work with this visitor's cookie.
	other := e.client()
	_, otherBody := e.get(other, "/login")
	if res, _ := e.post(c, "/login/otp", url.Values{"phone": {"13900000009"}, "csrf": {csrfOf(otherBody)}}); res.StatusCode != 403 {
		t.Errorf("a foreign token: %d, want 403", res.StatusCode)
	}
	// A cross-site POST is refused even with the right token.
	req, _ := http.NewRequest("POST", e.URL+"/login/otp", strings.NewReader(url.Values{"phone": {"13900000009"}, "csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("cross-site POST: %d, want 403", res.StatusCode)
	}
	if n := countOutbox(t, e); n != before {
		t.Fatalf("refused forms sent %d messages", n-before)
	}
	if res, _ := e.post(c, "/login/otp", url.Values{"phone": {"13900000009"}, "csrf": {token}}); res.StatusCode != 200 {
		t.Fatalf("the right token: %d, want 200", res.StatusCode)
	}
	if countOutbox(t, e) != before+1 {
		t.Fatal("the one-time code was not sent")
	}
}

func countOutbox(t *testing.T, e *env) int {
	var n int
	if err := e.App.DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sms_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The session cookie holds an API session token: HttpOnly, SameSite=Lax,
// Secure behind HTTPS; logging out ends the session itself.
func TestSessionCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.client()
	_, body := e.get(c, "/login")
	e.post(c, "/login/otp", url.Values{"phone": {"13900000010"}, "csrf": {csrfOf(body)}})
	res, _ := e.post(c, "/login", url.Values{"phone": {"13900000010"}, "otp": {e.OTP("13900000010")}, "csrf": {csrfOf(body)}, "next": {"//evil.example/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/register?next=%2Fme" {
		t.Fatalf("login answered %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	ck := findCookie(res, "hc_r")
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Fatalf("resident cookie %+v", ck)
	}
	// The cookie's token is the API's: it works as a bearer token.
	req, _ := http.NewRequest("GET", e.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+ck.Value)
	api, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	api.Body.Close()
	if api.StatusCode != 404 { // logged in, not yet registered
		t.Fatalf("the page session is not an API session: %d", api.StatusCode)
	}
	// Logging out ends the token everywhere.
	_, body = e.get(c, "/me/more")
	if res, _ := e.post(c, "/logout", url.Values{"csrf": {csrfOf(body)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	api, _ = http.DefaultClient.Do(req)
	api.Body.Close()
	if api.StatusCode != 401 {
		t.Fatalf("the token still works after logging out: %d", api.StatusCode)
	}

	// Behind an HTTPS proxy the cookies are Secure; the operator's is
	// sent only to the console.
	c2 := e.client()
	get, _ := http.NewRequest("GET", e.URL+"/console/login", nil)
	get.Header.Set("X-Forwarded-Proto", "https")
	res, err = c2.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if a := findCookie(res, "hc_a"); a == nil || !a.Secure {
		t.Fatalf("anonymous cookie over HTTPS: %+v", a)
	}
	form := url.Values{"username": {"admin"}, "password": {adminPassword}, "csrf": {csrfOf(string(b))}}
	post, _ := http.NewRequest("POST", e.URL+"/console/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("X-Forwarded-Proto", "https")
	res, err = c2.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	op := findCookie(res, "hc_o")
	if op == nil || !op.Secure || !op.HttpOnly || op.Path != "/console" || op.SameSite != http.SameSiteLaxMode {
		t.Fatalf("operator cookie %+v", op)
	}
}

// Pages need their session: a resident page sends a stranger to log in
// and back; the console refuses a role without the permission.
func TestPagesNeedTheirSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.client()
	res, _ := c.Get(e.URL + "/me/dependents")
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fme%2Fdependents" {
		t.Fatalf("stranger at /me/dependents: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = c.Get(e.URL + "/console/audit")
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/login") {
		t.Fatalf("stranger at /console/audit: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if st, body := e.get(c, "/no/such/page"); st != 404 || !strings.Contains(body, "页面不存在") {
		t.Fatalf("unknown page: %d", st)
	}
	if st, body := e.get(c, "/no/such/page?lang=en"); st != 404 || !strings.Contains(body, "There is no such page") {
		t.Fatalf("unknown page in English: %d", st)
	}
}

// residentClient logs a phone in through the pages.
func residentClient(t *testing.T, e *env, phone string) *http.Client {
	t.Helper()
	c := e.client()
	_, body := e.get(c, "/login")
	e.post(c, "/login/otp", url.Values{"phone": {phone}, "csrf": {csrfOf(body)}})
	res, _ := e.post(c, "/login", url.Values{"phone": {phone}, "otp": {e.OTP(phone)}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	return c
}

// Every code a page shows is counted for the dashboard, in the holder's
// region, and only operators whose scope holds the region see it.
func TestCodeShowsAreCounted(t *testing.T) {
	t.Parallel()
	// No simulated history; the demo's own scenes (a hall's queue machine
	// read codes shown to it) are counted before these shows.
	e := &env{Server: servertest.Start(t, db.SQLite, servertest.WithWorkers(), servertest.WithDemoResidents(0)), t: t}
	showsRe := regexp.MustCompile(`<span class="tile-value">(\d+)</span><span class="tile-label">近24小时亮码</span>`)
	shows := func(c *http.Client) int {
		t.Helper()
		_, body := e.get(c, "/console")
		m := showsRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the dashboard has no count of shows:\n%s", body)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	admin := consoleClient(t, e, "admin", adminPassword)
	admin2 := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
	if _, err := e.App.Auth.CreateOperator(t.Context(), admin2, auth.NewOperator{Username: "meilin", Password: "a long password", Role: "viewer", Region: "341881101"}); err != nil {
		t.Fatal(err)
	}
	meilin := consoleClient(t, e, "meilin", "a long password")
	city, town := shows(admin), shows(meilin)

	c := residentClient(t, e, "13800000001") // 西津街道
	for _, path := range []string{"/me", "/me/card", "/me/card"} {
		if st, _ := e.get(c, path); st != 200 {
			t.Fatalf("%s: %d", path, st)
		}
	}
	if n := shows(admin); n != city+3 {
		t.Fatalf("the dashboard counts %d shows, want %d + 3", n, city)
	}
	e.App.Auth.SetPassword(t.Context(), "viewer", "a long password")
	if n := shows(consoleClient(t, e, "viewer", "a long password")); n != city+3 {
		t.Fatalf("a city viewer sees %d shows, want %d", n, city+3)
	}
	if n := shows(meilin); n != town {
		t.Fatalf("a 梅林镇 viewer sees %d shows, want %d: shows of 西津街道 counted", n, town)
	}
}
