package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/server"
)

// The tab bar says where the resident is: the current tab carries
// aria-current="page" and looks different from the others.
func TestBrowserResidentTabBarMarksCurrentTab(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, phoneW, phoneH)
	u.residentLogin("13800000002")
	for _, c := range []struct{ path, tab string }{
		{"/me", "健康码"},
		{"/me/dependents", "家人代办"},
		{"/me/more", "更多"},
		{"/me/declare", "更多"},
	} {
		u.open(c.path)
		if got := u.text(`.tabs a[aria-current="page"]`); got != c.tab {
			t.Errorf("on %s the current tab is %q, want %q", c.path, got, c.tab)
		}
		if n := eval[int](u, `document.querySelectorAll('.tabs a[aria-current="page"]').length`); n != 1 {
			t.Errorf("on %s %d tabs are current, want 1", c.path, n)
		}
		on := eval[string](u, `(s => s.color + s.backgroundColor + s.boxShadow)(getComputedStyle(document.querySelector('.tabs a[aria-current="page"]')))`)
		off := eval[string](u, `(s => s.color + s.backgroundColor + s.boxShadow)(getComputedStyle(document.querySelector('.tabs a:not([aria-current])')))`)
		if on == off {
			t.Errorf("on %s the current tab looks like the others (%s)", c.path, on)
		}
	}
}

// Asking again within the per-phone limit keeps the person on the code
// form, told in their language to wait; "已发送" is said only when a text
// went out, and the code already sent still logs in.
func TestBrowserResidentResendWithinLimitStaysOnCodeForm(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true, func(c *server.Config) { c.Auth.OTPInterval = time.Hour })
	u := newUI(t, e, phoneW, phoneH)
	u.open("/login")
	u.fill("#phone", "13800000003")
	u.submit("form[action='/login/otp'] button")
	u.wantText(".flash", "验证码已发送至 138****0003")
	code := e.OTP("13800000003")

	if st := u.submit("form[action='/login/otp'] button.link"); st != 200 {
		t.Fatalf("a resend within the limit answered %d, want 200", st)
	}
	if !u.has("#otp") {
		t.Fatalf("a resend within the limit left the code form: %q", u.text("main"))
	}
	if msg := u.wantText(".flash", "请稍候"); strings.Contains(msg, "已发送至") {
		t.Fatalf("the page says a code was sent when none was: %q", msg)
	}
	if u.has(".error") {
		t.Fatalf("a resend within the limit shows an error: %q", u.text(".error"))
	}

	// From the phone form again, in English: no claim of a new text either.
	u.open("/login?lang=en")
	u.fill("#phone", "13800000003")
	u.submit("form[action='/login/otp'] button")
	if msg := u.wantText(".flash", "wait"); strings.Contains(msg, "was sent to") {
		t.Fatalf("the page says a code was sent when none was: %q", msg)
	}
	u.fill("#otp", code)
	u.submit("form[action='/login'] button")
	if p := u.path(); p != "/me" {
		t.Fatalf("the first code, kept, lands on %s, want /me", p)
	}
}

// A reason is written to the person ("您…"); shown to a family member for
// a dependent, or to an operator, it speaks about the person instead.
func TestBrowserReasonsForOthersDoNotSayYou(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, phoneW, phoneH)
	u.residentLogin("13800000001")
	u.open("/me/declare")
	u.do(chromedp.Click(chromedp.CSS(".switcher a:nth-child(2)")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#declare-form")))
	dep := u.path()
	if !strings.Contains(dep, "for=") {
		t.Fatalf("the second person of the switcher is on %s, want a dependent", dep)
	}
	u.fill("#temperature", "38.4")
	u.submit("#declare-form button")
	u.wantText("#declare-color", "黄码")
	notYou := func(where, got string) {
		t.Helper()
		if strings.Contains(got, "您") || !strings.Contains(got, "此人") {
			t.Errorf("%s: the dependent's reason reads %q, want it about 此人, not 您", where, got)
		}
	}
	notYou("declaration", u.text(".status-line"))

	u.open("/me")
	u.do(chromedp.Click(chromedp.CSS(".switcher a:nth-child(2)")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#reason")))
	notYou("code page", u.text("#reason"))
	u.open("/me?lang=en")
	u.do(chromedp.Click(chromedp.CSS(".switcher a:nth-child(2)")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#reason")))
	if got := u.text("#reason"); strings.Contains(got, "Your ") || strings.Contains(got, "You ") || !strings.Contains(got, "Their") {
		t.Errorf("the dependent's reason in English reads %q, want it about them", got)
	}
	u.open("/me/appeals?lang=zh")
	u.fill("#a-reason", "体温计故障")
	u.choose("#a-person", eval[string](u, `document.querySelector("#a-person option:nth-child(2)").value`))
	u.submit("#appeal-form button")

	// Her own reason still speaks to her.
	u.open("/me/declare")
	u.fill("#temperature", "38.2")
	u.submit("#declare-form button")
	if got := u.text(".status-line"); !strings.Contains(got, "您") {
		t.Errorf("her own reason reads %q, want it to speak to her", got)
	}

	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console/appeals")
	notYou("appeal card", op.text(".appeal .named"))
	notYou("appeal card", op.text(".appeal .current"))
}
