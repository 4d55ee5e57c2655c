package web_test

import (
	"testing"
)

// Vaccination from booking to the code page: a resident without doses
// books a place; the nurse at the site scans the code shown on the phone
// and registers the dose; the resident's code page shows the code first
// and then its panels, the vaccination one with the dose; the record and a
// certificate follow; the console shows the day's counts.
func TestBrowserVaccination(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	e.NewOperator("nurse", "sampler", "341881001")

	// 陈静 has no dose in the demo: she books at the first site.
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000004")
	r.open("/me/vaccination")
	r.wantText("#no-doses", "暂无接种记录")
	r.submit("form[action='/me/vaccination'] button")
	r.wantText("#slots", "剩余")
	r.submit("#slots form button")
	r.wantText("#appointments", "已预约", "第1剂")
	// The code page: the code first, then the panels.
	r.open("/me")
	code, _ := r.codeOnScreen()
	r.wantText("#panel-trip", "14天内")
	r.wantText("#panel-vaccination", "暂无接种记录")

	// The nurse scans it at the site.
	n := newUI(t, e, desktopW, desktopH)
	n.operatorLogin("nurse", "a long password")
	n.open("/console/vaccination/register")
	n.fill("#r-lot", "x")
	n.fill("#r-code", code)
	n.submit("#vaccinate-form button")
	n.wantText(".error", "批号")
	n.fill("#r-lot", "202106A01")
	n.fill("#r-code", code)
	n.submit("#vaccinate-form button")
	n.wantText("#registered", "陈*", "第1剂")

	// The resident sees the dose on the code page and in the record.
	r.open("/me")
	r.wantText("#panel-vaccination", "未完成全程接种", "第1剂/共2剂")
	r.open("/me/vaccination")
	r.wantText("#doses", "202106A01")
	r.wantText("#appointments", "已接种")
	r.open("/me/vaccination/certificate")
	r.wantText("#cert-doses", "第1剂/共2剂")

	// The console's tables.
	a := newUI(t, e, desktopW, desktopH)
	a.operatorLogin("admin", adminPassword)
	a.open("/console/vaccination")
	a.wantText("#vac-sites", "西津街道社区卫生服务中心接种点")
	a.wantText("#vac-towns", "克尔来福")
	a.wantText("#vac-coverage", "80+")
	a.fill("#vi-text", "id_type,id_number,vaccine,dose,lot,site,given_at\nresident_id,11010519491231002X,克尔来福 CoronaVac,1,202104B021,港口镇卫生院接种点,2021-05-01\n")
	a.submit("#import-form button")
	a.wantText("#line-report", "拒绝1行", "person_not_found")
}
