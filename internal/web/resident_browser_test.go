package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/idnum"
)

// rid is a valid resident ID number born on birth (YYYYMMDD) in Ningguo.
func rid(birth string, seq int) string {
	first17 := fmt.Sprintf("341881%s%03d", birth, seq)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// badCheck is rid with a wrong check character.
func badCheck(birth string, seq int) string {
	id := rid(birth, seq)
	wrong := byte('0')
	if id[17] == '0' {
		wrong = '1'
	}
	return id[:17] + string(wrong)
}

func TestBrowserResidentRegistersAndManagesDependents(t *testing.T) {
	browserTest(t)
	e := newEnv(t, false)
	u := newUI(t, e, phoneW, phoneH)

	u.open("/")
	u.wantText("h1", "健康码")
	u.residentLogin("13900000001")
	if p := u.path(); !strings.HasPrefix(p, "/register") {
		t.Fatalf("a new phone lands on %s, want the registration page", p)
	}
	u.wantText("main h1", "实名登记")

	// A wrong check digit is refused with the reason, in Chinese.
	u.fill("#name", "张三丰")
	u.fill("#id_number", badCheck("19850312", 31))
	u.choose("#region", "341881001")
	if st := u.submit("form[action='/register'] button"); st != 400 {
		t.Fatalf("bad ID number answered %d, want 400", st)
	}
	u.wantText(".error", "校验位")
	u.fill("#id_number", rid("19850312", 31))
	u.submit("form[action='/register'] button")
	if p := u.path(); p != "/me" {
		t.Fatalf("after registering the resident is on %s, want /me", p)
	}
	u.wantText("main", "张*丰")

	// Dependents: add an elderly parent and a child.
	u.open("/me/dependents")
	u.wantText("main h1", "家人代办")
	u.wantText(".empty", "还没有添加家人")
	u.fill("#name", "张老汉")
	u.fill("#id_number", rid("19480101", 11))
	u.choose("#relation", "parent")
	u.submit("#add-dependent button")
	u.wantText(".flash", "张*汉")
	u.fill("#name", "张小宝")
	u.fill("#id_number", rid("20180606", 22))
	u.choose("#relation", "child")
	u.submit("#add-dependent button")
	list := u.wantText(".people", "张*汉", "父母", "张*宝", "子女")
	if strings.Contains(list, "张老汉") || strings.Contains(list, rid("19480101", 11)) {
		t.Fatalf("the dependents list shows unmasked data: %q", list)
	}
	// The same person twice is refused with a precise message.
	u.fill("#name", "张老汉")
	u.fill("#id_number", rid("19480101", 11))
	if st := u.submit("#add-dependent button"); st != 409 {
		t.Fatalf("adding the same dependent twice answered %d, want 409", st)
	}
	u.wantText(".error", "已在您的家人列表中")
	u.shot("dependents")

	// English on request, remembered.
	u.open("/me/dependents?lang=en")
	u.wantText("main h1", "Family members")
	u.open("/me/dependents")
	u.wantText(".people", "Parent", "Child")

	// Removing asks first; accepted, the person leaves the list.
	u.acceptDialogs()
	u.submit(".person:last-child form button")
	got := u.text("main")
	if strings.Contains(got, "张*宝") {
		t.Fatalf("the child is still listed after removal: %q", got)
	}
}

func TestBrowserResidentLoginRefusesWrongCode(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, phoneW, phoneH)
	u.open("/login")
	u.wantText("#demo-hint", "短信发件箱")
	u.fill("#phone", "13800000001")
	u.submit("form[action='/login/otp'] button")
	u.wantText(".flash", "138****0001")
	code := e.OTP("13800000001")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	u.fill("#otp", wrong)
	if st := u.submit("form[action='/login'] button"); st != 401 {
		t.Fatalf("a wrong code answered %d, want 401", st)
	}
	u.wantText(".error", "验证码不正确")
	u.fill("#otp", code)
	u.submit("form[action='/login'] button")
	if p := u.path(); p != "/me" {
		t.Fatalf("a registered demo resident lands on %s, want /me", p)
	}
	u.shot("me")
}
