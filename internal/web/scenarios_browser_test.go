package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// scanGun types a code into the unit scanner as a scanner gun does and
// waits for the answer.
func (u *ui) scanGun(code, state string) {
	u.t.Helper()
	u.open("/unit/scan")
	u.do(chromedp.SendKeys(chromedp.CSS("#code-input"), code+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#result[data-state='" + state + "']")))
}

// A fever clinic on a tablet: scan a resident's code, register the visit
// (the resident turns yellow), close the follow-up with a negative test
// (green again); the clinic's list and the authority's day show it.
func TestBrowserFeverClinic(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000002") // 李秀英, green
	code, _ := phone.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("feverclinic")
	u.wantText(".unit-nav", "扫码", "就诊随访")
	u.wantText("#today-open", "1") // the demo's open visit
	u.scanGun(code, "green")
	u.wantText("#visit", "登记发热门诊就诊", "李*英")
	if u.has("#purchase-form") || u.has("#queue-form") {
		t.Fatal("a fever clinic is offered a pharmacy's or a hospital's form")
	}
	// A typo in the temperature keeps the scan and what was typed.
	u.fill("#visit-temp", "386")
	u.fill("#visit-doctor", "刘医生")
	u.do(chromedp.Click(chromedp.CSS("#visit-form input[value=fever]")))
	if st := u.submit("#visit-form button.big"); st != 400 {
		t.Fatalf("a temperature of 386 answered %d", st)
	}
	u.wantText(".error", "34至43")
	if !eval[bool](u, `document.querySelector("#visit-form input[value=fever]").checked`) || eval[string](u, `document.getElementById("visit-doctor").value`) != "刘医生" {
		t.Fatal("the refused form lost what was typed")
	}
	u.fill("#visit-temp", "38.6")
	u.fill("#visit-diagnosis", "发热待查")
	u.submit("#visit-form button.big")
	u.wantText(".flash", "已登记就诊", "李*英", "38.6", "黄码")
	if p := u.path(); p != "/unit/visits" {
		t.Fatalf("after the visit the clinic is on %s", p)
	}
	row := u.wantText("#open-visits tbody", "李*英", "38.6", "发热", "刘医生")
	if strings.Contains(row, "李秀英") {
		t.Fatal("the clinic's list names the patient in full")
	}
	u.shot("visits")

	phone.open("/me")
	phone.wantText(".band", "黄码")
	phone.wantText("main", "发热门诊")

	// Close the follow-up: the clinic's own test, negative.
	id := eval[string](u, `[...document.querySelectorAll("#open-visits tbody tr")].find(r => r.textContent.includes("李*英")).id`)
	u.choose("#"+id+" select[name=outcome]", "negative")
	u.fill("#"+id+" input[name=note]", "核酸阴性")
	u.submit("#" + id + " button")
	u.wantText(".flash", "已结案", "李*英", "核酸阴性", "绿码")
	u.wantText("#closed-visits", "李*英", "核酸阴性")
	if u.has("#" + id) {
		t.Fatal("the closed visit is still listed as open")
	}
	phone.open("/me")
	phone.wantText(".band", "绿码")

	// The authority's day.
	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.wantText(".side", "发热门诊就诊")
	op.open("/console/clinics")
	op.wantText("#clinic-summary tbody", "西津街道")
	op.wantText("#total-open", "1")
	op.shot("summary")

	u.open("/unit/visits?lang=en")
	u.wantText(".unit-nav", "Scan", "Visits")
	u.wantText("#closed-visits", "Negative test")
}

// A hospital's registration desk: a scan hands the patient's identity to
// the HIS once and gives a queue number; a yellow code is sent to the
// fever clinic with the reason; a red code gets no number.
func TestBrowserHospitalDesk(t *testing.T) {
	e := newEnv(t, true)
	zhao := newUI(t, e, phoneW, phoneH)
	zhao.residentLogin("13800000006") // 赵敏, green, already number 1 at 内科
	code, _ := zhao.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("hospital")
	u.wantText(".unit-nav", "挂号排队", "就诊随访")
	u.wantText("#today-tickets", "3")
	u.scanGun(code, "green")
	u.wantText("#identity", "每次扫码只能获取一次")
	u.do(chromedp.Click(chromedp.CSS("#identity-form input[value=card]")))
	u.submit("#identity-form button")
	u.wantText("#identity-name", "赵敏")
	u.wantText("#identity-phone", "13800000006")
	u.wantText("#identity-number", "341881198806140")
	if u.has("#identity-form") {
		t.Fatal("the identity form is offered again for the same scan")
	}
	// The same scan takes a queue number.
	u.fill("#queue-dept", "内科")
	if st := u.submit("#queue-form button"); st != 201 {
		t.Fatalf("the queue number answered %d", st)
	}
	u.wantText("#ticket-number", "内科", "2")
	if u.has("#identity-form") || u.has("#queue-form") {
		t.Fatal("a use of the scan that is spent is offered again")
	}
	u.shot("ticket")

	chen := newUI(t, e, phoneW, phoneH)
	chen.residentLogin("13800000004") // 陈静, yellow
	code, _ = chen.codeOnScreen()
	u.scanGun(code, "yellow")
	u.fill("#queue-dept", "内科")
	u.submit("#queue-form button")
	u.wantText("#ticket-number", "发热门诊", "2")
	u.wantText("#ticket-routed", "黄码", "内科", "发热门诊")

	wang := newUI(t, e, phoneW, phoneH)
	wang.residentLogin("13800000003") // 王建国, red
	code, _ = wang.codeOnScreen()
	u.scanGun(code, "red")
	u.wantText("#queue-red", "红码人员不予挂号")
	if u.has("#queue-form") {
		t.Fatal("a red code is offered a queue number")
	}

	u.open("/unit/queue")
	u.wantText("#ticket-count", "5")
	u.wantText("#routed-count", "2")
	u.wantText("#tickets tbody", "赵*", "陈*")
	if strings.Contains(u.text("main"), "赵敏") {
		t.Fatal("the queue names a patient in full")
	}
	u.shot("queue")
}

// A driver shares a handle with the platform on their own page; the
// platform checks it alone and in a batch with the demo's drivers and
// learns colours only; a withdrawn handle answers nothing.
func TestBrowserRideConsent(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001") // 张三丰, green
	phone.open("/me/more")
	phone.submit("a[href='/me/platforms']")
	phone.wantText("#platforms", "宁国畅行网约车平台", "未授权")
	phone.submit("#platforms form[action$='/grant'] button")
	phone.wantText(".flash", "已授权", "宁国畅行网约车平台")
	handle := phone.wantText("#platforms .handle", "hch_")
	phone.shot("platforms")

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("ride")
	u.open("/unit/ride")
	u.fill("#ride-handle", handle)
	u.submit("#ride-check button")
	u.wantText("#ride-result", "绿码")

	var drivers []string
	rows, err := e.App.DB.QueryContext(context.Background(), `SELECT handle FROM ride_handles WHERE withdrawn_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h string
		rows.Scan(&h)
		drivers = append(drivers, h)
	}
	rows.Close()
	u.fill("#ride-batch textarea", strings.Join(append(drivers, "hch_"+strings.Repeat("q", 20)), "\n"))
	u.submit("#ride-batch button")
	u.wantText("#batch-known", "5") // the demo's 4 drivers and 张三丰
	u.wantText("#batch-red", "1")
	u.wantText("#batch-unknown", "1")
	for _, col := range []string{"姓名", "证件"} {
		if strings.Contains(u.text("#batch-results"), col) {
			t.Fatalf("the batch shows %s", col)
		}
	}
	u.shot("batch")

	phone.submit("#platforms form[action$='/withdraw'] button")
	phone.wantText(".flash", "已撤回")
	u.open("/unit/ride")
	u.fill("#ride-handle", handle)
	if st := u.submit("#ride-check button"); st != 404 {
		t.Fatalf("a withdrawn handle answered %d", st)
	}
	u.wantText(".error", "未授权本平台或已撤回")
}
