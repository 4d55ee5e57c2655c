package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// newCheckpoint adds a checkpoint and returns its scanner key.
func newCheckpoint(t *testing.T, e *env, name string) string {
	t.Helper()
	_, key := e.Checkpoint(e.Admin(), name, "341881001")
	return key
}

// The checkpoint scanner on a tablet: sign in with the key, then a scanner
// gun types a resident's code and Enter; the result is large and plain;
// a bad code says why; the ID-number fallback works; the day's count runs.
func TestBrowserScannerGun(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	key := newCheckpoint(t, e, "西津街道卡口")

	// The resident's phone shows the code; the gun reads it off the QR.
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001")
	resident, _ := phone.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.open("/scan")
	u.wantText("#signin h1", "核验点登录")
	u.fill("#api-key", "hck_wrong")
	u.do(chromedp.Click(chromedp.CSS("#signin-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	u.wantText("#signin-error", "密钥无效")
	u.fill("#api-key", key)
	u.do(chromedp.Click(chromedp.CSS("#signin-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#scanner")))
	u.wantText("#today-count", "0")
	if got := eval[string](u, `localStorage.getItem("healthcode.scanner.key")`); got != key {
		t.Fatal("the key is not kept in the browser")
	}
	if u.has("#api-key") && eval[string](u, `document.getElementById("api-key").value`) != "" {
		t.Fatal("the key is left in the form")
	}

	// A scanner gun: the code's characters, then Enter.
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), resident+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='green']")))
	u.wantText("#result-word", "绿码", "通行")
	u.wantText("#result-name", "张*丰")
	u.wantText("#today-count", "1")
	if v := eval[string](u, `document.getElementById("code-input").value`); v != "" {
		t.Fatalf("the input keeps %q after a scan", v)
	}
	if !eval[bool](u, `document.activeElement === document.getElementById("code-input")`) {
		t.Fatal("the input lost the focus: the next scan would go nowhere")
	}
	u.shot("green")

	// Not a health code: invalid, and why, in plain words.
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), "HELLO WORLD\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='invalid']")))
	u.wantText("#result-word", "无效码")
	u.wantText("#result-detail", "不是健康码")
	u.wantText("#today-count", "2")
	u.shot("invalid")

	// A fever with a valid code: not admitted, and why.
	u.fill("#temp-input", "38.2")
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), resident+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='red']")))
	u.wantText("#result-word", "体温异常")
	u.wantText("#result-detail", "37.3")

	// The ID-number fallback for a person without a phone.
	u.do(chromedp.Click(chromedp.CSS("#id-fallback summary")))
	u.fill("#id-number", rid("19480101", 11)) // 张老汉, a demo dependent
	u.do(chromedp.Click(chromedp.CSS("#id-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='green']")))
	u.wantText("#result-name", "张*汉")
	u.wantText("#result-detail", "证件核验")

	// Signing out forgets the key.
	u.do(chromedp.Click(chromedp.CSS("#signout")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#signin")))
	if eval[bool](u, `localStorage.getItem("healthcode.scanner.key") !== null`) {
		t.Fatal("signing out kept the key")
	}
	// In English the words change too.
	u.open("/scan?lang=en")
	u.wantText("#signin h1", "Sign in")
	if !strings.Contains(eval[string](u, `document.getElementById("scan-reasons").textContent`), "not a health code") {
		t.Fatal("the English scanner has Chinese reasons")
	}
}
