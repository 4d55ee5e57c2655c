package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// A bus operator's vehicles on a desktop: the demo's bus 1路, 张三丰 on duty, its code
// to print and today's three rides; a second bus added through the
// form gets its own code. In English too.
func TestBrowserTransportVehicles(t *testing.T) {
	e := newEnv(t, true)
	u := newUI(t, e, desktopW, desktopH)
	u.unitLogin("bus")
	u.wantText(".unit-nav", "车辆乘车码")
	u.open("/unit/transport")
	u.wantText("#vehicles tbody", "皖P·A1001", "1路", "公交车", "张*丰", "打印乘车码")
	u.wantText("#rides-today", "3")
	u.do(chromedp.SendKeys(chromedp.CSS("#plate"), "皖P·A2002"))
	u.do(chromedp.SendKeys(chromedp.CSS("#route"), "2路"))
	u.do(chromedp.Click(chromedp.CSS("#vehicle-form button")))
	u.do(chromedp.WaitVisible(chromedp.CSS("#vehicles tbody tr:nth-child(2)")))
	u.wantText("#vehicles tbody", "皖P·A2002", "2路")
	u.wantText("#vehicles-count", "2")
	u.shot("transport-vehicles")

	u.open("/unit/transport?lang=en")
	u.wantText("#vehicles thead", "Plate", "Rides today")
	u.wantText("#vehicles tbody", "Bus", "Print the code")
}

// A station's gate on a tablet checks the code and the temperature
// together: 张三丰, green at 36.5 ℃, may enter; 李秀英, green at 37.3 ℃, is
// refused for the fever; 王建国, red at a normal temperature, is refused for
// his code; a reading that is not a number is a 400 that checks nobody. In
// English too.
func TestBrowserTransportStationCheck(t *testing.T) {
	e := newEnv(t, true)
	code := func(phone string) string {
		p := newUI(t, e, phoneW, phoneH)
		p.residentLogin(phone)
		c, _ := p.codeOnScreen()
		return c
	}
	green, fever, red := code("13800000001"), code("13800000002"), code("13800000003")

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("bus")
	u.open("/unit/transport")
	u.wantText("#station", "场站核验", "37.3")
	check := func(code, temp string) int64 {
		t.Helper()
		u.fill("#station-code", code)
		u.fill("#station-temp", temp)
		return u.submit("#station-form button")
	}
	if st := check(green, "36.5"); st != 200 {
		t.Fatalf("green at 36.5: %d", st)
	}
	u.do(chromedp.WaitVisible(chromedp.CSS("#station-result[data-state='green']")))
	u.wantText("#station-word", "准予进站")
	u.wantText("#station-name", "张*丰")
	u.shot("transport-station-green")

	check(fever, "37.3")
	u.do(chromedp.WaitVisible(chromedp.CSS("#station-result[data-state='yellow']")))
	u.wantText("#station-word", "不得进站")
	u.wantText("#station-reason", "体温异常")
	u.shot("transport-station-fever")

	check(red, "36.6")
	u.do(chromedp.WaitVisible(chromedp.CSS("#station-result[data-state='red']")))
	u.wantText("#station-word", "不得进站")
	u.wantText("#station-reason", "红码")

	if st := check(red, "热"); st != 400 {
		t.Fatalf("a temperature that is not a number: %d, want 400", st)
	}
	if u.has("#station-result") {
		t.Fatal("a reading that is not a number showed a check's answer")
	}
	u.wantText("main", "34")

	u.open("/unit/transport?lang=en")
	check(fever, "38.2")
	u.do(chromedp.WaitVisible(chromedp.CSS("#station-result[data-state='yellow']")))
	u.wantText("#station-word", "May not enter")
	u.wantText("#station-reason", "fever")
}
