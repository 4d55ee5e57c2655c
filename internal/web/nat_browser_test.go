package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// Testing from site to certificate: an operator adds a sampling site,
// opens a 5-in-1 tube, scans two residents' codes into it with a scanner
// gun and one person by ID number, seals it and hands it to the lab; the
// lab reports it negative; the resident sees the result and shows a
// signed negative certificate.
func TestBrowserSamplingToCertificate(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true, withFacts(&recorder{}))
	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)

	op.open("/console/nat/sites")
	op.fill("#s-name", "西津街道核酸采样点")
	op.fill("#s-address", "宁国市西津街道中山路1号")
	op.fill("#s-hours", "08:00-17:00")
	op.fill("#s-phone", "0563-4012345")
	op.fill("#s-lat", "30.63")
	op.fill("#s-lng", "118.98")
	op.choose("#s-region", "341881001")
	op.submit("#site-form button")
	op.wantText("#sites", "西津街道核酸采样点", "开放")

	// Two residents show their codes; the sampler's gun reads them.
	var codes []string
	for _, phone := range []string{"13800000001", "13800000002"} {
		r := newUI(t, e, phoneW, phoneH)
		r.residentLogin(phone)
		c, _ := r.codeOnScreen()
		codes = append(codes, c)
	}
	op.open("/console/nat/tubes")
	op.fill("#t-barcode", "NG20261121001")
	op.choose("#t-capacity", "5")
	op.submit("#open-tube button")
	op.wantText("#tube-count", "0 / 5")
	for i, c := range codes {
		// The gun's Enter submits the form: wait for the page it loads,
		// not for an element the page before it also had.
		if _, err := chromedp.RunResponse(op.ctx, chromedp.SendKeys(chromedp.CSS("#s-code"), c+"\r")); err != nil {
			op.shot("failure")
			t.Fatalf("scan %d: %v", i+1, err)
		}
		op.wantText("#tube-count", []string{"1 / 5", "2 / 5"}[i])
	}
	op.wantText("#last-sample", "第 2 位")
	op.do(chromedp.Click(chromedp.CSS("#sample-form details summary")))
	op.fill("#s-idnumber", rid("19480101", 11)) // 张老汉, no phone
	op.submit("#sample-form button")
	op.wantText("#last-sample", "张*汉")
	op.wantText("#tube-count", "3 / 5")
	op.shot("tube")
	op.acceptDialogs()
	op.submit("#seal")
	op.wantText("#tube-state", "已封管")
	op.open("/console/nat/tubes")
	op.fill("#x-barcodes", "NG20261121001")
	op.fill("#x-lab", "宁国市人民医院检验科")
	op.submit("form[action='/console/nat/transfers'] button")
	op.wantText("#transfer", "1", "宁国市人民医院检验科")

	// The lab's result.
	op.open("/console/nat/results")
	op.fill("#r-barcode", "NG20261121001")
	op.choose("#r-result", "negative")
	op.submit("#result-form button")
	op.wantText("#result-report", "已接受", "涉及 3 人")

	// The resident sees it and shows a certificate.
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000001")
	r.open("/me/tests")
	r.wantText("#tests", "阴性", "西津街道核酸采样点", "5人混采")
	r.shot("tests")
	r.submit("#tests a.button")
	r.wantText("#cert-name", "张*丰")
	text := decodeQR(t, r.elementShot(".cert svg.qr"))
	d, err := codeformat.Decode(text)
	if err != nil || d.Claims.MaskedName != "张*丰" || !strings.Contains(d.Claims.Kind.String(), "cert") {
		t.Fatalf("the certificate's QR: %+v %v", d.Claims, err)
	}
	r.shot("certificate")

	// The dependent's test, through the family switch.
	r.open("/me/tests")
	r.do(chromedp.Click(chromedp.CSS(".switcher a:nth-child(2)")))
	r.do(chromedp.WaitVisible(chromedp.CSS(".switcher a[aria-current]:nth-child(2)")))
	r.wantText("#tests", "阴性")

	// Follow-up: the city's untested list no longer holds them.
	op.open("/console/nat/followup")
	op.wantText(".tiles", "应检未检")
	if got := op.text("#untested"); strings.Contains(got, "张*丰") {
		t.Fatalf("a tested resident is on the untested list: %q", got)
	}
	op.shot("followup")
}
