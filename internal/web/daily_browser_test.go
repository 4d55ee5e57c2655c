package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An employer's gate (凭码上岗) on a tablet: 陈静, yellow and on the demo's
// roster, shows her phone's code and is refused with the reason; the day's
// report counts her among the refused by that reason, and the roster shows
// colours per day, never a reason. In English too.
func TestBrowserEmployerGateRefusesYellow(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000004") // 陈静, yellow
	code, _ := phone.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("employer")
	u.wantText(".unit-nav", "凭码上岗", "考勤日报", "员工花名册")
	u.open("/unit/gate")
	u.wantText("#gate-today", "花名册人数", "拒绝上岗")
	u.do(chromedp.SendKeys(chromedp.CSS("#gate-code"), code+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#gate-result[data-state='yellow']")))
	u.wantText("#gate-word", "不得上岗")
	u.wantText("#gate-reason", "黄码")
	u.wantText("#gate-name", "陈*", "E004")
	u.shot("employer-gate-yellow")

	u.open("/unit/attendance")
	row := u.wantText("#att-refused-list tbody", "E004", "陈*", "黄码")
	if strings.Contains(row, "陈静") {
		t.Fatal("the employer's report names the staff member in full")
	}
	u.wantText("#att-reasons", "黄码", "红码")
	u.open("/unit/staff")
	records := u.wantText("#records tbody", "E004", "黄码")
	if strings.Contains(records, "伴随") || strings.Contains(records, "密接") {
		t.Fatalf("the records show more than a colour: %s", records)
	}

	u.open("/unit/gate?lang=en")
	u.do(chromedp.SendKeys(chromedp.CSS("#gate-code"), code+"\r"))
	u.do(chromedp.WaitVisible(chromedp.CSS("#gate-result[data-state='yellow']")))
	u.wantText("#gate-word", "Not admitted")
	u.wantText("#gate-reason", "yellow code")
}

// A school's morning report (晨检) on a desktop: the demo's classes with
// their pupils, reports and absentees; 张三丰 reports his son's noon check
// from his phone and the noon report counts it.
func TestBrowserSchoolMorningReport(t *testing.T) {
	e := newEnv(t, true)
	u := newUI(t, e, desktopW, desktopH)
	u.unitLogin("school")
	u.wantText(".unit-nav", "入校核验", "晨午检日报")
	u.open("/unit/school")
	u.wantText("h1", "晨检")
	u.wantText("#school-classes", "一年级（1）班", "一年级（2）班")
	u.wantText("#school-tiles", "学生", "已报告", "未报告")
	if got := u.text("#school-reported"); got == "0" {
		t.Fatal("the morning report counts no report: 张小宝's is in the demo")
	}
	u.shot("school-morning")

	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001") // 张三丰, 张小宝's father
	phone.open("/me/daily")
	phone.wantText("#school", "张*宝", "宁国市津河小学", "一年级（1）班", "晨检 36.6℃")
	phone.choose(".check-form select[name=slot]", "noon")
	phone.fill(".check-form input[name=temperature]", "36.8")
	phone.submit(".check-form button")
	phone.wantText(".flash", "已报告", "午检", "36.8")

	u.open("/unit/school?slot=noon")
	u.wantText("h1", "午检")
	u.wantText("#school-reported", "1")
	u.open("/unit/school?lang=en")
	u.wantText("#school-tiles", "Pupils", "Reported", "No report")
}
