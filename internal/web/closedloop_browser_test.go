package web_test

import (
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/idnum"
)

// An isolation hotel admits a resident by scanning the code on their
// phone: the stay page shows the code red; a temperature is taken; the
// release turns it green again and the room is free.
func TestBrowserIsolationAdmissionAndRelease(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	admin := e.Admin()
	site := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites", admin, map[string]any{"kind": "hotel", "name": "西津隔离酒店",
		"region": "341881001"}), 201, "").Str("id")
	room := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites/"+site+"/rooms", admin, map[string]any{"number": "301", "capacity": 2}), 201, "").Str("id")
	e.NewOperator("geli", "health_officer", "341881001")

	// 张三丰 (green in the demo) shows his code.
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000001")
	r.open("/me")
	code, _ := r.codeOnScreen()

	o := newUI(t, e, desktopW, desktopH)
	o.operatorLogin("geli", "a long password")
	o.open("/console/isolation")
	o.wantText("#iso-sites", "西津隔离酒店", "301")
	// Neither a code nor an ID number: refused, said in Chinese.
	o.choose("#a-room", site+"/"+room)
	o.submit("#admit-form button")
	o.wantText(".error", "扫描健康码或输入身份证号")
	o.choose("#a-room", site+"/"+room)
	o.fill("#a-code", code)
	o.choose("#a-reason", "inbound")
	o.fill("#a-days", "14")
	o.submit("#admit-form button")
	o.wantText("#stay-facts", "张*丰", "西津隔离酒店 · 301", "入境人员", "扫码", "隔离中")
	o.wantText("#stay-color", "红码")

	o.fill("#r-c", "36.6")
	o.submit("#reading-form button")
	o.wantText("#stay-readings", "36.6")
	o.fill("#r-c", "36.7")
	o.submit("#reading-form button")
	o.wantText(".error", "该时段的体温已记录")

	o.choose("#rel-kind", "isolation_ended")
	o.fill("#rel-note", "14天期满，核酸阴性")
	o.submit("#release-form button")
	o.wantText("#stay-state", "已解除隔离")
	o.wantText("#stay-color", "绿码")
	o.open("/console/isolation")
	o.wantText("#iso-sites", "301 · 0/2")
	if strings.Contains(o.text("#iso-stays"), "张*丰") {
		t.Fatal("the released resident is still listed in isolation")
	}
}

// A 12345 caller says the name on their code is wrong: the operator opens
// a ticket by the caller's ID number, corrects the name (shown masked
// before and after), and closes the ticket.
func TestBrowserHotlineTicketCorrection(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	first17 := "341881" + "19900721" + "042" // 李秀英 in the demo
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	number := first17 + string(c)

	a := newUI(t, e, desktopW, desktopH)
	a.operatorLogin("admin", adminPassword)
	a.open("/console/hotline")
	a.wantText("#tickets", "赋码颜色有误", "陈*") // the demo's open ticket
	a.choose("#h-cat", "wrong_identity")
	a.fill("#h-sum", "来电人称健康码上的姓名应为李秀瑛")
	a.submit("#ticket-form button")
	a.wantText(".error", "身份证号")
	a.choose("#h-cat", "wrong_identity")
	a.fill("#h-sum", "来电人称健康码上的姓名应为李秀瑛")
	a.fill("#h-id", number)
	a.submit("#ticket-form button")
	a.wantText("#ticket-facts", "身份信息有误", "李*英", "办理中")

	a.fill("#c-name", "李秀瑛")
	a.fill("#c-reason", "核验身份证原件")
	a.submit("#correction-form button")
	a.wantText("#ticket-correction", "姓名", "李*英", "李*瑛")
	a.wantText("#ticket-person", "李*瑛")

	a.fill("#cl-res", "已更正姓名并电话回复")
	a.submit("#close-form button")
	a.wantText("#ticket-state", "已办结", "已更正姓名并电话回复")
	if a.has("#close-form") {
		t.Fatal("a closed ticket still offers to close it")
	}
	a.open("/console/hotline?state=closed")
	a.wantText("#tickets", "身份信息有误", "李*瑛")
}
