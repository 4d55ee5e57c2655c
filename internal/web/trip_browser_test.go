package web_test

import (
	"fmt"
	"testing"
	"time"
)

// The trip card from the carrier's data to the code page: an operator
// tries a risk area in the console (dry run) and publishes it; the
// resident whose phone stayed in the city sees the star on the code page's
// trip panel and turns yellow; a phone that never registered sees its own
// trip card; the registry lists the area, imports a file line by line and
// withdraws the area.
func TestBrowserTripCardAndRiskAreas(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	cst := time.FixedZone("CST", 8*3600)
	first := time.Now().In(cst).Add(-72 * time.Hour).Truncate(time.Minute)
	f := func(t time.Time) string { return t.Format("2006-01-02 15:04") }
	csv := "phone,city,first_seen,last_seen\n" +
		fmt.Sprintf("13800000001,341800,%s,%s\n", f(first), f(first.Add(6*time.Hour))) +
		fmt.Sprintf("13800009999,3418,%s,%s\n", f(first), f(first.Add(6*time.Hour)))
	e.Want(e.Send("POST", "/api/v1/admin/trip/stays/import", e.Admin(), "text/csv", csv), 200, "")

	// Before any area: the city, no star.
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000001")
	r.open("/me")
	r.codeOnScreen()
	r.wantText("#panel-trip", "宣城市", "14天内")

	a := newUI(t, e, desktopW, desktopH)
	a.operatorLogin("admin", adminPassword)
	a.open("/console/risk-areas")
	a.wantText("#risk-form", "预演影响")
	a.fill("#ra-name", "西津街道某小区")
	a.submit("#ra-dry")
	a.wantText("#risk-dry-run", "黄码")
	a.fill("#ra-name", "西津街道某小区")
	a.submit("#ra-publish")
	a.wantText("#risk-areas", "西津街道某小区", "生效中")

	// The resident: starred and yellow.
	r.open("/me")
	r.codeOnScreen()
	r.wantText("#panel-trip", "宣城市", "*")
	r.open("/me/trip")
	r.wantText("#trip-starred", "中高风险地区")

	// A phone that never registered sees its trip card.
	u := newUI(t, e, phoneW, phoneH)
	u.residentLogin("13800009999")
	u.open("/me/trip")
	u.wantText("#trip-cities", "宣城市")

	// The registry: a file with a bad line, then the withdrawal.
	a.open("/console/risk-areas")
	a.fill("#ri-text", "region,name,level,from,until\n341881002,,high,2022-04-01 08:00,\n")
	a.submit("#risk-import-form button")
	a.wantText("#line-report", "risk_area_validity_missing")
	a.open("/console/risk-areas")
	a.submit("#risk-areas form button")
	a.wantText("#risk-areas", "已撤销")
	r.open("/me/trip")
	r.wantText("#trip-card", "宣城市")
	if r.has("#trip-starred") {
		t.Fatal("the star stays after the area was withdrawn")
	}
}
