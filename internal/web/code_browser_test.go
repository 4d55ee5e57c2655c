package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/server"
)

// shortCodes makes dynamic codes live 12 s, so that the page's refresh
// (a quarter of the lifetime before expiry) comes within the test.
func shortCodes(c *server.Config) { c.CodeTTL = 12 * time.Second }

// codeOnScreen reads the QR of the code card off the screen and decodes
// the code it holds.
func (u *ui) codeOnScreen() (string, codeformat.Claims) {
	u.t.Helper()
	// The symbol with its quiet zone, as a scanner frames it; the frame's
	// spinning ring around it is decoration a decoder may take for part
	// of a finder pattern in some frames of the animation.
	png := u.elementShot("#code-card .qr-frame .qr")
	if d := os.Getenv("HEALTHCODE_SCREENSHOTS"); d != "" {
		os.WriteFile(filepath.Join(d, "qr-element.png"), png, 0o644)
	}
	text := decodeQR(u.t, png)
	d, err := codeformat.Decode(text)
	if err != nil {
		u.t.Fatalf("the QR on screen is not a code: %v", err)
	}
	return text, d.Claims
}

// The resident's code page: the colour band, the masked name, a QR that is
// the signed code, a running clock and animated border, and a new code
// fetched before the shown one expires.
func TestBrowserResidentCodePageRefreshes(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true, shortCodes)
	u := newUI(t, e, phoneW, phoneH)
	u.residentLogin("13800000001") // 张三丰, with two dependents in the demo
	if p := u.path(); p != "/me" {
		t.Fatalf("logged in to %s", p)
	}
	u.wantText("#code-name", "张*丰")
	u.wantText("#code-state", "绿码")
	if cls := eval[string](u, `document.getElementById("band").className`); cls != "band green" {
		t.Fatalf("the band is %q", cls)
	}
	first, claims := u.codeOnScreen()
	if claims.MaskedName != "张*丰" || claims.Kind != codeformat.KindDynamic || claims.Color != codeformat.ColorGreen {
		t.Fatalf("the QR holds %+v", claims)
	}
	if got := eval[string](u, `document.getElementById("code-card").dataset.code`); got != first {
		t.Fatal("the QR on screen is not the page's code")
	}
	// The border moves and the clock runs: a screenshot is visibly stale.
	if a := eval[string](u, `getComputedStyle(document.querySelector(".qr-frame"), "::before").animationName`); a != "spin" {
		t.Fatalf("the code's border is not animated (%q)", a)
	}
	c1 := u.text("#clock")
	time.Sleep(1100 * time.Millisecond)
	if c2 := u.text("#clock"); c2 == c1 || !strings.HasPrefix(c2, time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")) {
		t.Fatalf("the clock shows %q then %q", c1, c2)
	}
	u.shot("code")

	// Before the 12 s code expires, the page has a new one, on screen.
	deadline := time.Now().Add(20 * time.Second)
	var second string
	for time.Now().Before(deadline) {
		second = eval[string](u, `document.getElementById("code-card").dataset.code`)
		if second != first {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if second == first {
		t.Fatal("the page did not fetch a new code before the old one expired")
	}
	onScreen, claims2 := u.codeOnScreen()
	if onScreen != second || !claims2.Expires.After(claims.Expires) {
		t.Fatalf("after the refresh the QR holds a code expiring %v (first %v)", claims2.Expires, claims.Expires)
	}
	if u.has("#code-card.stale") {
		t.Fatal("the fresh code is shown as stale")
	}

	// Switching to a dependent shows their code.
	u.do(chromedp.Click(chromedp.CSS(".switcher a:nth-child(2)")))
	u.do(chromedp.WaitVisible(chromedp.CSS(".switcher a[aria-current]:nth-child(2)")))
	u.wantText("#code-name", "张*汉")
	if _, c := u.codeOnScreen(); c.MaskedName != "张*汉" {
		t.Fatalf("the dependent's QR holds %+v", c)
	}
	u.shot("dependent-code")

	// In English on request.
	u.open("/me?lang=en")
	u.wantText("#code-state", "Green")
}

// A care code is printed for a dependent: a QR that is a care code, with
// no colour, and it can be revoked.
func TestBrowserDependentCareCode(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, phoneW, phoneH)
	u.residentLogin("13800000001")
	u.open("/me/dependents")
	u.wantText(".people", "张*汉", "张*宝")
	u.do(chromedp.Click(chromedp.CSS(".person:first-child a.secondary")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#issue-care")))
	u.wantText("main h1", "张*汉")
	u.submit("#issue-care")
	u.wantText("#care-name", "张*汉")
	text := decodeQR(t, u.elementShot(".care svg.qr"))
	d, err := codeformat.Decode(text)
	if err != nil || d.Claims.Kind != codeformat.KindCare || d.Claims.MaskedName != "张*汉" || d.Claims.Color != codeformat.ColorNone {
		t.Fatalf("the printed QR: %+v %v", d.Claims, err)
	}
	if d.Claims.Expires.Sub(d.Claims.IssuedAt) != 14*24*time.Hour {
		t.Fatalf("a care code lives %v", d.Claims.Expires.Sub(d.Claims.IssuedAt))
	}
	u.media("print")
	if v := eval[string](u, `getComputedStyle(document.querySelector(".print-bar")).display`); v != "none" {
		t.Fatal("the print bar is printed")
	}
	u.media("")
	u.shot("care")
	u.do(chromedp.Click(chromedp.CSS(".print-bar a")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#care-codes")))
	u.wantText("#care-codes", "有效")
	u.acceptDialogs()
	u.submit("#care-codes form button")
	u.wantText(".flash", "已作废")
	u.wantText("#care-codes", "已作废")
}
