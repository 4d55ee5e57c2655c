package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The scanner's refusals read in its language: a mistyped ID number says
// so in Chinese (it said "the check character does not match..."), and in
// English in English.
func TestBrowserScannerRefusalsInTheirLanguage(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	key := newCheckpoint(t, e, "西津街道卡口")
	bad := rid("19480101", 11)
	bad = bad[:17] + map[bool]string{true: "0", false: "1"}[bad[17] != '0'] // a wrong check character

	u := newUI(t, e, tabletW, tabletH)
	for _, tt := range []struct{ path, want string }{
		{"/scan", "身份证号码校验位不正确"},
		{"/scan?lang=en", "check digit is wrong"},
	} {
		u.open(tt.path)
		if eval[bool](u, `!document.getElementById("scanner").hidden`) {
			u.do(chromedp.Click(chromedp.CSS("#signout")))
		}
		u.do(chromedp.WaitVisible(chromedp.CSS("#signin")))
		u.fill("#api-key", key)
		u.do(chromedp.Click(chromedp.CSS("#signin-form button")))
		u.do(chromedp.WaitVisible(chromedp.CSS("#scanner")))
		u.do(chromedp.Click(chromedp.CSS("#id-fallback summary")))
		u.fill("#id-number", bad)
		u.do(chromedp.Click(chromedp.CSS("#id-form button")))
		u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='invalid']")))
		u.wantText("#result-detail", tt.want)
	}
}
