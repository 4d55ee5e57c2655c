package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

const adminPassword = servertest.AdminPassword

// env is a running product and its URL. Browser tests use the embedded
// engine: both engines run every store test already, and pages only call
// the services.
type env struct {
	*servertest.Server
	t *testing.T
}

type envOpt = func(*server.Config)

// newEnv runs the product on SQLite, with the demo if withDemo, and its
// background workers (status recompute and scheduler, code-show counts,
// ...) as `serve` runs them.
func newEnv(t *testing.T, withDemo bool, opts ...envOpt) *env {
	t.Helper()
	return newEnvOn(t, db.SQLite, withDemo, opts...)
}

func newEnvOn(t *testing.T, engine db.Engine, withDemo bool, opts ...envOpt) *env {
	t.Helper()
	o := []servertest.Option{servertest.WithWorkers(), servertest.WithConfig(opts...)}
	if withDemo {
		// The fixed demo without its simulated history: these tests count
		// what they do on it; newEnvHistory has the living city.
		o = append(o, servertest.WithDemoResidents(0))
	}
	return &env{Server: servertest.Start(t, engine, o...), t: t}
}

// newEnvHistory is the demo with its simulated history (servertest's
// small size), as `serve --demo` starts, for tests of what the history
// shows.
func newEnvHistory(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	return &env{Server: servertest.Start(t, db.SQLite, servertest.WithWorkers(), servertest.WithConfig(opts...), servertest.WithDemo()), t: t}
}

// client is a cookie-keeping HTTP client that does not follow redirects,
// for tests of the page plumbing that need no browser.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches a page and returns its status and body.
func (e *env) get(c *http.Client, path string) (int, string) {
	e.t.Helper()
	res, err := c.Get(e.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post sends a form.
func (e *env) post(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(e.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(body string) string {
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// The browser: one Chromium for the whole test binary, a new tab per test.

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
	browserStop func()
)

func chromiumPath() string {
	if p := os.Getenv("HEALTHCODE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browserStop != nil {
		browserStop()
	}
	os.Exit(code)
}

// browserTest, first in a browser test, skips it under -short (the quick
// loop), or when there is no Chromium (it fails instead under CI=true).
// Browser tests do not run in parallel: one keeps both cores of the machine
// busy in Chromium, and two at once only make each slower.
func browserTest(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped under -short")
	}
	if chromiumPath() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("Chromium is not installed; browser tests need it under CI")
		}
		t.Skip("Chromium is not installed; skipping the browser test")
	}
}

// tab opens a new tab of the shared browser, sized width x height.
func tab(t *testing.T, width, height int64) context.Context {
	t.Helper()
	browserTest(t)
	path := chromiumPath()
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "healthcode-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path), chromedp.Headless, chromedp.UserDataDir(dir),
			chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
			// Without these Chromium waits on the network that this
			// machine does not have.
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-default-apps", true), chromedp.Flag("disable-extensions", true),
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
			chromedp.Flag("lang", "zh-CN"),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		// The first Run starts the browser; its context must outlive
		// every test.
		if err := chromedp.Do(bctx); err != nil {
			browserErr = err
		}
		browserCtx = bctx
		browserStop = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
	})
	if browserErr != nil {
		t.Fatalf("start Chromium: %v", browserErr)
	}
	// Each tab is its own browser context, like a separate phone: cookies
	// ignore ports, so tabs of one profile would share sessions.
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(tcancel)
	return tctx
}

// Device sizes.
const (
	phoneW, phoneH     = 390, 844
	tabletW, tabletH   = 1024, 768
	desktopW, desktopH = 1366, 900
)

// ui drives one tab against one env.
type ui struct {
	t   *testing.T
	ctx context.Context
	e   *env
	dir string
}

func newUI(t *testing.T, e *env, width, height int64) *ui {
	return &ui{t: t, ctx: tab(t, width, height), e: e, dir: t.TempDir()}
}

func (u *ui) do(steps ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if err := chromedp.Do(u.ctx, steps...); err != nil {
		u.shot("failure")
		u.t.Fatal(err)
	}
}

// open loads a page and returns its HTTP status.
func (u *ui) open(path string) int64 {
	u.t.Helper()
	res, err := chromedp.Run(u.ctx, chromedp.NavigateResponse(u.e.URL+path))
	if err != nil {
		u.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status
}

// submit clicks a button that submits a form and waits for the next page.
func (u *ui) submit(sel string) int64 {
	u.t.Helper()
	res, err := chromedp.RunResponse(u.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		u.shot("failure")
		u.t.Fatalf("submit %s: %v", sel, err)
	}
	return res.Status
}

// fill types into a field, replacing what is there.
func (u *ui) fill(sel, v string) {
	u.t.Helper()
	u.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).value = ""`),
		chromedp.SendKeys(chromedp.CSS(sel), v))
}

func (u *ui) choose(sel, v string) {
	u.t.Helper()
	u.do(chromedp.SetValue(chromedp.CSS(sel), v))
}

// text is the visible text of the first element matching sel.
func (u *ui) text(sel string) string {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		u.shot("failure")
		u.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval runs JavaScript in the page.
func eval[T any](u *ui, js string) T {
	u.t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		u.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// has reports whether an element matches sel now.
func (u *ui) has(sel string) bool {
	u.t.Helper()
	return eval[bool](u, `document.querySelector(`+jsString(sel)+`) !== null`)
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// wantText fails unless the element's text contains every want within a
// few seconds: pages fill some parts after loading (the code page's panels).
func (u *ui) wantText(sel string, want ...string) string {
	u.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := u.text(sel)
		missing := ""
		for _, w := range want {
			if !strings.Contains(got, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			u.shot("failure")
			u.t.Fatalf("%s shows %q, want it to contain %q", sel, got, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot saves a screenshot of the whole page under the test's temp dir (and
// in $HEALTHCODE_SCREENSHOTS, if set, to look at after the test).
func (u *ui) shot(name string) []byte {
	u.t.Helper()
	buf, err := chromedp.Run(u.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		u.t.Logf("screenshot %s: %v", name, err)
		return nil
	}
	file := strings.ReplaceAll(u.t.Name(), "/", "_") + "-" + name + ".png"
	os.WriteFile(filepath.Join(u.dir, file), buf, 0o644)
	if d := os.Getenv("HEALTHCODE_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, file), buf, 0o644)
	}
	return buf
}

// residentLogin logs a phone in through the pages, reading the one-time
// code from the outbox as the person would read their SMS.
func (u *ui) residentLogin(phone string) {
	u.t.Helper()
	u.open("/login")
	u.fill("#phone", phone)
	u.submit("form[action='/login/otp'] button")
	u.fill("#otp", u.e.OTP(phone))
	u.submit("form[action='/login'] button")
}

// operatorLogin logs an operator in to the console.
func (u *ui) operatorLogin(username, password string) {
	u.t.Helper()
	u.open("/console/login")
	u.fill("#username", username)
	u.fill("#password", password)
	u.submit("form[action='/console/login'] button")
}

// path is the current page's path and query.
func (u *ui) path() string {
	u.t.Helper()
	loc, err := chromedp.Run(u.ctx, chromedp.Location())
	if err != nil {
		u.t.Fatal(err)
	}
	p, _ := url.Parse(loc)
	return p.RequestURI()
}

// acceptDialogs answers every confirm() of the tab with OK, as a person
// would who meant to press the button.
func (u *ui) acceptDialogs() {
	dialogs := chromedp.Events(u.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(u.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

// media emulates a CSS media type ("print", or "" for the screen).
func (u *ui) media(m string) {
	u.t.Helper()
	if _, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		u.t.Fatal(err)
	}
}
