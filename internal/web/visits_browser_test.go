package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/hall"
)

// A resident books a time at the demo's scenic spot on their phone and
// sees it among their bookings; the service hall's queue machine refuses a
// red code with the reason and gives a green one a number; the hall's page
// in English.
func TestBrowserScenicBookingAndHallQueue(t *testing.T) {
	browserTest(t)
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

// A hall's terminal signs a resident in by the resident's consent: the
// terminal shows a code that opens the request on the resident's phone,
// which names the hall asking and what it receives; a refusal shows at
// the terminal; a consent hands the identity over once (a reload shows it
// no more), and the hand-off and the refused second look are audited.
func TestBrowserHallTerminalLogin(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("hall")
	u.open("/unit/hall")
	u.wantText("#start-login", "显示登录二维码")
	// start opens a sign-in at the terminal and returns the terminal's
	// page and the path its QR code sends the phone to.
	start := func() (terminal, asked string) {
		t.Helper()
		if st := u.submit("#start-login"); st != 200 {
			t.Fatalf("starting a sign-in answered %d", st)
		}
		terminal = u.path()
		id, ok := strings.CutPrefix(terminal, "/unit/hall/logins/")
		if !ok || id == "" {
			t.Fatalf("a started sign-in is at %s", terminal)
		}
		u.wantText("#terminal-login", "请办事人用健康码小程序扫描下方二维码")
		link, err := url.Parse(decodeQR(t, u.elementShot("#terminal-login .qr")))
		if err != nil || link.Path != "/me/hall/logins/"+id {
			t.Fatalf("the terminal's QR code is %v (%v), want the sign-in %s", link, err, id)
		}
		if u.has("#login-identity") {
			t.Fatal("the terminal shows an identity before consent")
		}
		return terminal, link.Path
	}
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000005") // 刘洋

	// Declined: the terminal says so and offers a new sign-in.
	_, asked := start()
	if st := phone.open(asked); st != 200 {
		t.Fatalf("the resident's sign-in request answered %d", st)
	}
	phone.wantText("#login-hall", "宁国市政务服务中心")
	phone.wantText("#hall-login", "姓名、证件号码和手机号", "同意登录", "拒绝")
	phone.shot("asked")
	if st := phone.submit("#login-decline"); st != 200 {
		t.Fatalf("declining answered %d", st)
	}
	phone.wantText(".flash", "已拒绝宁国市政务服务中心的终端登录")
	if st := u.submit("#login-refresh"); st != 409 {
		t.Fatalf("the terminal's look at a declined sign-in answered %d", st)
	}
	u.wantText(".error", "办事人拒绝了登录")
	if u.has("#login-identity") {
		t.Fatal("a declined sign-in shows an identity")
	}
	u.shot("declined")

	// Consented: the identity, once.
	terminal, asked := start()
	phone.open(asked)
	if st := phone.submit("#login-approve"); st != 200 {
		t.Fatalf("consenting answered %d", st)
	}
	phone.wantText(".flash", "已同意宁国市政务服务中心的终端登录")
	phone.open(asked)
	phone.wantText("#hall-login", "此登录请求已处理")
	if phone.has("#login-approve") {
		t.Fatal("an answered request offers to answer again")
	}
	if st := u.submit("#login-refresh"); st != 200 {
		t.Fatalf("the terminal's look after consent answered %d", st)
	}
	if name := u.text("#login-name"); name != "刘洋" {
		t.Fatalf("the terminal received the name %q", name)
	}
	number := u.text("#login-number")
	if len(number) != 18 || strings.Contains(number, "*") {
		t.Fatalf("the terminal received the ID number %q", number)
	}
	u.shot("identity")
	for _, lang := range []string{"zh", "en"} {
		if st := u.open(terminal + "?lang=" + lang); st != 409 {
			t.Fatalf("a second look (%s) answered %d", lang, st)
		}
		u.wantText(".error", map[string]string{"zh": "此次登录已获取过身份信息", "en": "handed the identity over already"}[lang])
		if u.has("#login-identity") || strings.Contains(eval[string](u, `document.documentElement.outerHTML`), number) {
			t.Fatalf("a second look (%s) shows the identity again", lang)
		}
		u.do(chromedp.WaitVisible(chromedp.CSS("#start-login")))
	}

	// One read of the person by the hall's terminal, and the two refused
	// looks after it, in the audit log.
	entries, err := audit.List(context.Background(), e.App.DB, audit.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var reads, refused []audit.Entry
	for _, en := range entries {
		if en.Detail["purpose"] != hall.PurposeLogin {
			continue
		}
		switch en.Action {
		case "person.read":
			reads = append(reads, en)
		case "person.read_refused":
			refused = append(refused, en)
		}
	}
	if len(reads) != 1 || len(refused) != 2 {
		t.Fatalf("audited %d hand-offs and %d refused looks, want 1 and 2", len(reads), len(refused))
	}
	if !strings.HasPrefix(reads[0].Actor, "unit:") || !strings.HasPrefix(reads[0].Subject, "person:") {
		t.Fatalf("the hand-off is audited as %s reading %s", reads[0].Actor, reads[0].Subject)
	}
	for _, en := range refused {
		if en.Actor != reads[0].Actor || en.Subject != reads[0].Subject {
			t.Fatalf("a refused look is audited as %s reading %s, want %s reading %s", en.Actor, en.Subject, reads[0].Actor, reads[0].Subject)
		}
	}
}

// rateByHand posts a rating for ticket id as a page that still offered the
// form would (a second tab, a forged id), and returns the answer's status.
func rateByHand(u *ui, id, stars string) int64 {
	u.t.Helper()
	u.open("/me/visits")
	u.do(chromedp.Evaluate[chromedp.Void](`(() => {
	const f = document.createElement("form");
	f.method = "post";
	f.action = ` + jsString("/me/visits/tickets/"+id+"/rate") + `;
	f.id = "by-hand";
	for (const [k, v] of [["csrf", document.querySelector("input[name=csrf]").value], ["stars", ` + jsString(stars) + `]]) {
		const i = document.createElement("input");
		i.type = "hidden";
		i.name = k;
		i.value = v;
		f.appendChild(i);
	}
	const b = document.createElement("button");
	b.textContent = "rate";
	f.appendChild(b);
	document.querySelector("main").prepend(f);
})()`))
	return u.submit("#by-hand button")
}

// A resident rates a served hall ticket on their phone, once, and sees
// the rating; what the hall refuses (a ticket not served yet, another
// person's, a second rating, stars out of range) shows with its reason;
// the hall's page counts the rating.
func TestBrowserHallRating(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000001") // 张三丰: rated this morning's ticket, and yesterday's is served and not rated
	phone.open("/me/visits")
	phone.wantText("#to-rate", "您有 1 次办事已办结、待评价")
	phone.wantText("#my-tickets", "评价5星", "窗口服务热情，一次办结")
	if n := eval[int](phone, `document.querySelectorAll("#my-tickets .rate-form").length`); n != 1 {
		t.Fatalf("%d tickets offer a rating, want yesterday's", n)
	}
	li := "#" + eval[string](phone, `document.querySelector("#my-tickets .rate-form").closest("li").id`)
	yesterdays := strings.TrimPrefix(li, "#ticket-")
	phone.choose(li+" select[name=stars]", "4")
	phone.fill(li+" input[name=comment]", "材料一次讲清楚")
	if st := phone.submit(li + " .rate-form button"); st != 200 {
		t.Fatalf("the rating answered %d", st)
	}
	phone.wantText(".flash", "感谢评价", "宁国市政务服务中心", "★★★★")
	phone.wantText(li, "评价4星", "材料一次讲清楚")
	if phone.has(li+" .rate-form") || phone.has("#to-rate") {
		t.Fatal("a rated ticket offers a rating again")
	}
	phone.shot("rated")

	// Rated twice (a second tab that still showed the form).
	if st := rateByHand(phone, yesterdays, "1"); st != 409 {
		t.Fatalf("a second rating answered %d", st)
	}
	phone.wantText(".error", "此次办事已评价过")
	phone.wantText(li, "评价4星")

	// The hall's page of yesterday counts it.
	u := newUI(t, e, tabletW, tabletH)
	u.unitLogin("hall")
	today, err := e.App.Hall.ParseDay("")
	if err != nil {
		t.Fatal(err)
	}
	u.open("/unit/hall?date=" + today.AddDate(0, 0, -1).Format(time.DateOnly))
	u.wantText("#hall-rating", "4.0")
	u.wantText("#hall-list tbody", "评价4星")

	// A ticket taken now and not served yet; another person's, served.
	u.open("/unit/hall")
	u.wantText("#hall-rating", "5.0")
	phone.open("/me")
	code, _ := phone.codeOnScreen()
	u.fill("#ticket-code", code)
	u.fill("#ticket-service", "公积金")
	if st := u.submit("#ticket-form button"); st != 201 {
		t.Fatalf("张三丰's ticket answered %d", st)
	}
	rowOf := func(service string) string {
		t.Helper()
		id := eval[string](u, `(() => { const r = [...document.querySelectorAll("#hall-list tbody tr")].find(r => r.textContent.includes(`+
			jsString(service)+`)); return r ? r.id : ""; })()`)
		if id == "" {
			t.Fatalf("no ticket for %s in the hall's list", service)
		}
		return id
	}
	mine := strings.TrimPrefix(rowOf("公积金"), "t-")
	theirs := rowOf("社保业务") // 赵敏's
	if st := u.submit("#" + theirs + " button"); st != 200 {
		t.Fatalf("serving 赵敏's ticket answered %d", st)
	}
	for _, c := range []struct {
		id, stars string
		status    int64
		reason    string
	}{
		{mine, "5", 409, "尚未办结，办结后才能评价"},
		{strings.TrimPrefix(theirs, "t-"), "5", 404, "号码不存在"},
		{mine, "9", 400, "请评1至5星"},
	} {
		if st := rateByHand(phone, c.id, c.stars); st != c.status {
			t.Fatalf("rating %s with %s stars answered %d, want %d", c.id, c.stars, st, c.status)
		}
		phone.wantText(".error", c.reason)
	}
	u.open("/unit/hall")
	u.wantText("#hall-rating", "5.0")

	// Served, then rated from the phone: today's mean moves.
	if st := u.submit("#t-" + mine + " button"); st != 200 {
		t.Fatalf("serving 张三丰's ticket answered %d", st)
	}
	phone.open("/me/visits")
	phone.choose("#ticket-"+mine+" select[name=stars]", "3")
	if st := phone.submit("#ticket-" + mine + " .rate-form button"); st != 200 {
		t.Fatalf("the rating answered %d", st)
	}
	phone.wantText("#ticket-"+mine, "评价3星")
	u.open("/unit/hall")
	u.wantText("#hall-rating", "4.0")
	u.wantText("#t-"+mine, "评价3星")
	u.shot("ratings")

	// In English, the rating and a refusal.
	phone.open("/me/visits?lang=en")
	phone.wantText("#ticket-"+mine, "rated 3/5")
	if st := rateByHand(phone, mine, "2"); st != 409 {
		t.Fatalf("a second rating in English answered %d", st)
	}
	phone.wantText(".error", "This ticket was rated already")
}
