package web_test

import (
	"strings"
	"testing"
)

// The Ningguo demo's checkpoint table, coverage table, outbox and audit
// log, as the city's operators see them.
func TestBrowserConsoleTablesOfTheDemo(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	if p := u.path(); p != "/console" {
		t.Fatalf("after login the operator is on %s", p)
	}
	u.wantText(".side", "总览", "人员", "场所码", "核验点", "申领任务", "短信发件箱", "审计日志", "操作员")
	u.shot("dashboard")

	// The checkpoint table: the 88 government checkpoints of the plan.
	u.open("/console/checkpoints")
	if n := eval[int](u, `document.querySelectorAll("#checkpoints tbody tr").length`); n != 88 {
		t.Fatalf("the checkpoint table has %d rows, want 88", n)
	}
	u.wantText(".tiles", "88")
	u.wantText("#checkpoints", "梅林镇")
	// A new checkpoint gets its scanner key, shown once.
	u.fill("#cp-name", "西津街道测试卡口")
	u.choose("#cp-region", "341881001")
	if st := u.submit("form[action='/console/checkpoints'] button"); st != 201 {
		t.Fatalf("creating a checkpoint answered %d", st)
	}
	key := u.wantText("#api-key", "hck_")
	u.wantText("#new-key", "只显示这一次")
	u.open("/console/checkpoints")
	if strings.Contains(u.text("main"), key) {
		t.Fatal("the key is shown again")
	}
	if n := eval[int](u, `document.querySelectorAll("#checkpoints tbody tr").length`); n != 89 {
		t.Fatalf("after adding, the table has %d rows", n)
	}
	enabledBefore := u.text(".tiles .tile:nth-child(3) .tile-value")
	u.submit("#checkpoints tbody tr:last-child button.danger")
	u.wantText(".flash", "已保存")
	if after := u.text(".tiles .tile:nth-child(3) .tile-value"); after == enabledBefore {
		t.Fatalf("disabling left the enabled count at %s", after)
	}
	u.shot("checkpoints")

	// The coverage table of the 19 towns, with the plan's own targets.
	u.open("/console/coverage")
	if n := eval[int](u, `document.querySelectorAll("#coverage tbody tr").length`); n != 19 {
		t.Fatalf("the coverage table has %d towns, want 19", n)
	}
	u.wantText("#coverage tfoot", "合计")
	u.wantText("#coverage", "西津街道", "天湖街道")
	u.fill("#ratio", "0.8")
	u.submit("form[action='/console/coverage'] button")
	if !strings.Contains(u.path(), "ratio=0.8") {
		t.Fatalf("the ratio was not applied: %s", u.path())
	}
	u.shot("coverage")

	// The outbox holds the one-time code a resident asked for.
	u2 := newUI(t, e, phoneW, phoneH)
	u2.open("/login")
	u2.fill("#phone", "13800000002")
	u2.submit("form[action='/login/otp'] button")
	u.open("/console/outbox?to=13800000002")
	u.wantText("#outbox", "13800000002", e.OTP("13800000002"))

	// The audit log shows the checkpoint change.
	u.open("/console/audit")
	u.wantText("#audit", "checkpoint.update", "checkpoint.create")

	// Operators: an admin adds a viewer for a town.
	u.open("/console/operators")
	u.fill("#o-username", "meilin.viewer")
	u.fill("#o-password", "a long password")
	u.choose("#o-role", "viewer")
	u.choose("#o-region", "341881101")
	u.submit("form[action='/console/operators'] button")
	u.wantText("#operators", "meilin.viewer", "只读")

	// The viewer sees only their menu, and is refused the audit log.
	u3 := newUI(t, e, desktopW, desktopH)
	u3.operatorLogin("meilin.viewer", "a long password")
	nav := u3.text(".side")
	if strings.Contains(nav, "审计日志") || strings.Contains(nav, "操作员") {
		t.Fatalf("a viewer's menu offers %q", nav)
	}
	if st := u3.open("/console/audit"); st != 403 {
		t.Fatalf("a viewer at the audit log: %d", st)
	}
	u3.open("/console/checkpoints")
	if strings.Contains(u3.text("main"), "新增核验点") {
		t.Fatal("a viewer is offered the checkpoint form")
	}
	// Scoped to 梅林镇: no checkpoint of another town.
	if got := u3.text("#checkpoints"); strings.Contains(got, "西津") {
		t.Fatalf("a 梅林镇 viewer sees other towns: %q", got[:min(200, len(got))])
	}
}
