package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/idnum"
)

// unitLogin signs a unit account in through the unit pages.
func (u *ui) unitLogin(username string) {
	u.t.Helper()
	if err := u.e.App.Auth.SetUnitPassword(context.Background(), username, unitPassword); err != nil {
		u.t.Fatal(err)
	}
	u.open("/unit/login")
	u.fill("#username", username)
	u.fill("#password", unitPassword)
	u.submit("#unit-login button")
}

// A pharmacy's till on a tablet: sign in, see the day, scan a resident's
// code with a scanner gun, register a purchase of an antipyretic; the
// resident's own page turns yellow and the purchase is in the day's list.
// A code that is not valid says why; a person without a phone is found by
// ID number.
func TestBrowserPharmacyTill(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001")
	code, _ := phone.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.open("/unit")
	if p := u.path(); !strings.HasPrefix(p, "/unit/login") {
		t.Fatalf("signed out, /unit is %s", p)
	}
	u.wantText("h1", "单位账号登录")
	u.fill("#username", "pharmacy")
	u.fill("#password", "wrong password")
	u.submit("#unit-login button")
	u.wantText(".error", "用户名或密码不正确")
	u.unitLogin("pharmacy")
	if p := u.path(); p != "/unit" {
		t.Fatalf("after sign-in the till is on %s", p)
	}
	u.wantText(".top .brand", "国胜大药房")
	u.wantText("#today-total", "2") // the demo's two purchases
	u.shot("home")

	// A scanner gun types the code and Enter.
	u.open("/unit/scan")
	if !eval[bool](u, `document.activeElement === document.getElementById("code-input")`) {
		t.Fatal("the code input does not have the focus: a scanner gun would type into nothing")
	}
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), code+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='green']")))
	u.wantText("#result-word", "绿码")
	u.wantText("#result-name", "张*丰")
	u.wantText("#purchase", "登记购药", "张*丰")
	if n := eval[int](u, `document.querySelectorAll("#purchase-form input[name=drug_class]").length`); n != 4 {
		t.Fatalf("the form offers %d drug classes, want the 4 in use", n)
	}
	u.shot("scanned")
	u.do(chromedp.Click(chromedp.CSS("#purchase-form input[value=antipyretic]")))
	u.fill("#purchase-form input[name=item_name]", "布洛芬缓释胶囊")
	u.submit("#purchase-form button")
	u.wantText(".flash", "已登记购药", "张*丰", "退热药", "黄码")
	if p := u.path(); p != "/unit/scan" {
		t.Fatalf("after the purchase the till is on %s", p)
	}

	// The resident's own page says yellow, and why.
	phone.open("/me")
	phone.wantText(".band", "黄码")
	phone.wantText("main", "退热、止咳、抗病毒或抗菌")

	// The day's list: the purchase, masked, with the drug.
	u.open("/unit/purchases")
	u.wantText("#day-total", "3")
	u.wantText("#purchases tbody tr:first-child", "张*丰", "退热药", "布洛芬缓释胶囊 ×1")
	if strings.Contains(u.text("main"), "张三丰") {
		t.Fatal("the pharmacy sees the buyer's full name")
	}
	href := eval[string](u, `document.getElementById("csv-link").href`)
	csv, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`fetch(`+jsString(href)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv, "张*丰") || !strings.Contains(csv, "时间,购药人") {
		t.Fatalf("the CSV: %q", csv)
	}
	u.shot("purchases")

	// Not a health code: invalid, and why; no purchase form.
	u.open("/unit/scan")
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), "HELLO WORLD\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='invalid']")))
	u.wantText("#result-detail", "不是健康码")
	if u.has("#purchase-form") {
		t.Fatal("an invalid code is offered the purchase form")
	}
	// A person without a phone, by ID number at the counter.
	u.do(chromedp.Click(chromedp.CSS("#id-fallback summary")))
	u.fill("#id-number", rid("19480101", 11)) // 张老汉, a demo dependent
	u.submit("#id-form button")
	u.wantText("#result-name", "张*汉")
	u.wantText("#result-detail", "证件核验")
	if !u.has("#purchase-form") {
		t.Fatal("a person found by ID number cannot buy")
	}

	// The admin account makes a key for the till's system, shown once.
	u.open("/unit/keys")
	u.fill("#key-name", "自助收银机")
	u.do(chromedp.Click(chromedp.CSS("#key-form input[value=scan]")))
	if st := u.submit("#key-form button"); st != 201 {
		t.Fatalf("making a key answered %d", st)
	}
	key := u.wantText("#api-key", "hck_")
	u.open("/unit/keys")
	if strings.Contains(u.text("main"), key) {
		t.Fatal("the key is shown again")
	}
	u.wantText("#key-table", "自助收银机")

	// In English the words change too.
	u.open("/unit/scan?lang=en")
	u.wantText(".unit-nav", "Scan", "Purchases", "API keys")
}

// The console: the demo's organisations, a new pharmacy with a key (shown
// once) and an account, the drug classes, the day per town.
func TestBrowserConsoleOrganisations(t *testing.T) {
	e := newEnv(t, true)
	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	u.wantText(".side", "接入单位", "药店购药登记", "监测药品类别")
	u.open("/console/orgs")
	if n := eval[int](u, `document.querySelectorAll("#orgs tbody tr").length`); n != 12 {
		t.Fatalf("%d organisations listed, want the demo's 12 (the gateway's 4, the cold chain's 3, the scenic spot, the service hall, the employer, the school, the bus operator)", n)
	}
	u.choose("#org-kind", "pharmacy")
	u.fill("#org-name", "宁国市百姓缘大药房")
	u.fill("#org-uscc", "91341881MA2N7T1D0X") // mistyped
	u.choose("#org-region", "341881002")
	u.submit("#org-form button")
	u.wantText(".error", "校验位")
	u.fill("#org-uscc", usccForTest(t))
	u.submit("#org-form button")
	u.wantText(".flash", "已登记单位")
	u.wantText("#org-facts", "药店", "南山街道")
	u.shot("org")

	// Only the scopes a pharmacy may hold are offered.
	if n := eval[int](u, `document.querySelectorAll("#key-form input[name=scopes]").length`); n != 3 {
		t.Fatalf("a pharmacy is offered %d scopes, want scan, scan_id and pharmacy.purchase", n)
	}
	u.fill("#key-name", "收银系统")
	u.do(chromedp.Click(chromedp.CSS("#key-form input[value='pharmacy.purchase']")))
	u.do(chromedp.Click(chromedp.CSS("#key-form input[value=scan]")))
	u.fill("#key-quota", "5000")
	if st := u.submit("#key-form button"); st != 201 {
		t.Fatalf("making a key answered %d", st)
	}
	u.wantText("#new-key", "只显示这一次")
	u.wantText("#api-key", "hck_")
	u.wantText("#key-table", "收银系统", "5000", "pharmacy.purchase")
	u.submit("#key-table button.danger")
	u.wantText(".flash", "已吊销")
	u.wantText("#key-table", "已吊销")

	u.fill("#acc-username", "baixingyuan")
	u.fill("#acc-password", "a long password")
	u.submit("#account-form button")
	u.wantText(".flash", "baixingyuan")
	u.wantText("#account-table", "baixingyuan")

	// The drug classes: the authority adds one; pharmacies can pick it.
	u.open("/console/drugs")
	u.wantText("#drug-classes", "退热药", "抗病毒药", "抗菌药", "止咳药")
	u.fill("#drug-code", "antigen_test")
	u.fill("#drug-zh", "抗原检测试剂")
	u.fill("#drug-en", "antigen tests")
	u.submit("#drug-form button")
	u.wantText("#drug-classes", "抗原检测试剂")

	// The day per town: the demo's two purchases in 西津街道.
	u.open("/console/pharmacy")
	u.wantText("#summary tbody", "西津街道")
	u.wantText("#summary tfoot", "2")
	u.shot("summary")
}

func usccForTest(t *testing.T) string {
	t.Helper()
	c, err := idnum.BuildUSCC("91", "341881", "MA2N7T2F")
	if err != nil {
		t.Fatal(err)
	}
	return c
}
