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
