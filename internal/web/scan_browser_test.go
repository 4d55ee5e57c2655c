package web_test

import (
	"strings"
	"testing"
	"time"

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
	u.do(chromedp.WaitVisible(chromedp.CSS("#checkpoint-name"))) // hidden until the answer names it
	u.wantText("#checkpoint-name", "西津街道卡口", "西津街道")
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

	if s := stripe(u); s != "" {
		t.Fatalf("a green result carries a stripe: %s", s)
	}

	// Not a health code: invalid, and why, in plain words; nobody was
	// checked, so the day's count stays.
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), "HELLO WORLD\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='invalid']")))
	u.wantText("#result-word", "无效码")
	u.wantText("#result-detail", "不是健康码")
	u.wantText("#today-count", "1")
	if s := stripe(u); s != "" {
		t.Fatalf("an invalid result carries a stripe: %s", s)
	}
	u.shot("invalid")

	// A fever with a valid code: not admitted, and why.
	u.fill("#temp-input", "38.2")
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), resident+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='red']")))
	u.wantText("#result-word", "体温异常")
	u.wantText("#result-detail", "37.3")
	if s := stripe(u); s != "" {
		t.Fatalf("a red result carries a stripe: %s", s)
	}
	u.wantText("#today-count", "2")

	// A refused ID number leaves its field with its answer.
	u.do(chromedp.Click(chromedp.CSS("#id-fallback summary")))
	u.fill("#id-number", "341881199001011234")
	u.do(chromedp.Click(chromedp.CSS("#id-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='invalid']")))
	if v := eval[string](u, `document.getElementById("id-number").value`); v != "" {
		t.Fatalf("the refused ID number %q stays in its field", v)
	}
	u.do(chromedp.Click(chromedp.CSS("#id-fallback summary"))) // closed again

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

// stripe describes a coloured edge of the result panel ("" for none): the
// result's colour is the whole panel, never a stripe of another colour.
func stripe(u *ui) string {
	return eval[string](u, `(function () {
		var s = getComputedStyle(document.getElementById("result"));
		var out = [];
		["Left", "Top", "Right", "Bottom"].forEach(function (side) {
			if (s["border" + side + "Style"] !== "none" && parseFloat(s["border" + side + "Width"]) > 0) {
				out.push(side + " " + s["border" + side + "Color"]);
			}
		});
		return out.join(", ");
	})()`)
}

// A checkpoint's key at creation is a QR that signs a tablet's scanner in
// (the key in the fragment, never sent) and can be copied; a new key for a
// checkpoint in use replaces the old one without disabling it.
func TestBrowserCheckpointKeyQR(t *testing.T) {
	browserTest(t)
	e := newEnv(t, false)
	u := newUI(t, e, desktopW, desktopH)
	u.acceptDialogs()
	u.operatorLogin("admin", adminPassword)
	u.open("/console/checkpoints")
	u.fill("#cp-name", "河沥溪卡口")
	u.choose("#cp-region", "341881003")
	u.submit("form[action='/console/checkpoints'] button")
	key := u.wantText("#api-key", "hck_")
	key = strings.TrimSpace(key)
	u.do(chromedp.Click(chromedp.CSS("#copy-key")))
	// The clipboard answers asynchronously: wait a bounded while for it.
	copied := false
	for i := 0; i < 50 && !copied; i++ {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		copied = eval[bool](u, `document.getElementById("copy-key").textContent === "已复制" || window.getSelection().toString().trim() === `+jsString(key))
	}
	if !copied {
		t.Fatal("the copy button neither copied nor selected the key")
	}
	link := decodeQR(t, u.elementShot("#key-qr svg"))
	if link != e.URL+"/scan#key="+key {
		t.Fatalf("the QR holds %q, want the scanner's address with the key in its fragment", link)
	}

	// The tablet's camera opens the link: signed in, the key gone from the
	// address bar, the checkpoint named.
	tablet := newUI(t, e, tabletW, tabletH)
	tablet.open(strings.TrimPrefix(link, e.URL))
	tablet.do(chromedp.WaitVisible(chromedp.CSS("#scanner")), chromedp.WaitVisible(chromedp.CSS("#checkpoint-name")))
	tablet.wantText("#checkpoint-name", "河沥溪卡口")
	if loc := eval[string](tablet, `location.href`); strings.Contains(loc, "key") {
		t.Fatalf("the key stays in the address bar: %s", loc)
	}

	// A new key, the checkpoint still enabled: the old key stops.
	u.open("/console/checkpoints")
	u.submit("#checkpoints tbody tr:last-child form[action$='/key'] button")
	fresh := strings.TrimSpace(u.wantText("#api-key", "hck_"))
	if fresh == key {
		t.Fatal("the new key is the old one")
	}
	if !strings.Contains(u.text("#checkpoints tbody tr:last-child"), "是") {
		t.Fatal("a new key disabled the checkpoint")
	}
	e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": ""}), 401, "")
	e.Want(e.Do("POST", "/api/v1/verify", fresh, map[string]any{"code": ""}), 400, "code_missing")
}
