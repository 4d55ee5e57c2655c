package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A resident books a time at the demo's scenic spot on their phone and
// sees it among their bookings; the service hall's queue machine refuses a
// red code with the reason and gives a green one a number; the hall's page
// in English.
func TestBrowserScenicBookingAndHallQueue(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000002") // 李秀英, green, booked tomorrow's first slot in the demo
	phone.open("/me/more")
	phone.wantText("main", "景区预约与政务办事")
	phone.open("/me/visits")
	phone.wantText("#v-place", "宁国恩龙世界木屋村", "宁国市政务服务中心")
	before := eval[int](phone, `document.querySelectorAll("#bookings li").length`)
	slot := eval[string](phone, `document.querySelector("#visit-slots li:last-child").id`)
	phone.wantText("#"+slot+" .remaining", "剩余 200")
	if st := phone.submit("#" + slot + " button"); st != 200 {
		t.Fatalf("the booking answered %d", st)
	}
	phone.wantText(".flash", "预约成功", "宁国恩龙世界木屋村")
	phone.wantText("#"+slot+" .remaining", "剩余 199")
	if n := eval[int](phone, `document.querySelectorAll("#bookings li.booking-booked").length`); n != before+1 {
		t.Fatalf("%d open bookings listed after booking, %d before", n, before)
	}
	phone.shot("booked")

	red := newUI(t, e, phoneW, phoneH)
	red.residentLogin("13800000003") // 王建国, red
	redCode, _ := red.codeOnScreen()
	phone.open("/me")
	green, _ := phone.codeOnScreen()

	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("hall")
	u.wantText(".unit-nav", "亮码取号")
	u.open("/unit/hall")
	u.wantText("#hall-tickets", "3") // the demo's morning
	u.fill("#ticket-code", redCode)
	u.fill("#ticket-service", "户籍办理")
	if st := u.submit("#ticket-form button"); st != 409 {
		t.Fatalf("a red code's ticket answered %d", st)
	}
	u.wantText(".error", "红码，不予取号")
	if u.has("#ticket") {
		t.Fatal("a red code was shown a ticket")
	}
	u.wantText("#hall-tickets", "3")
	u.shot("red")
	u.fill("#ticket-code", green)
	u.fill("#ticket-service", "户籍办理")
	if st := u.submit("#ticket-form button"); st != 201 {
		t.Fatalf("a green code's ticket answered %d", st)
	}
	u.wantText("#ticket-line", "户籍办理")
	u.wantText("#ticket-number", "2")
	row := u.wantText("#hall-list tbody", "李*英")
	if strings.Contains(row, "李秀英") {
		t.Fatal("the hall's list names the resident in full")
	}
	u.open("/unit/hall?lang=en")
	u.wantText(".unit-nav", "Queue")
	u.wantText("#machine", "Queue machine")
	u.do(chromedp.WaitVisible(chromedp.CSS("#policy-form")))
}
