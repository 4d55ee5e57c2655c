package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// recordFact appends a fact about the person with the ID number.
func recordFact(t *testing.T, e *env, idNumber string, f fact.Fact) {
	t.Helper()
	p, err := e.App.Persons.FindByIDNumber(context.Background(), "resident_id", idNumber)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Status.Record(context.Background(), status.NewFact{Person: p.Num, Fact: f, RecordedBy: "system"}); err != nil {
		t.Fatal(err)
	}
}

// setText replaces a text area's content, as a person pasting would.
func (u *ui) setText(sel, v string) {
	u.t.Helper()
	b, _ := json.Marshal(v)
	u.do(chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(sel) + `).value = ` + string(b)))
}

// withoutRule is the default rule set without one rule and the examples
// it decides: a new version an operator might write.
func withoutRule(t *testing.T, id string) string {
	var set map[string]any
	if err := json.Unmarshal(rules.DefaultJSON(), &set); err != nil {
		t.Fatal(err)
	}
	var keep []any
	for _, r := range set["rules"].([]any) {
		if r.(map[string]any)["id"] != id {
			keep = append(keep, r)
		}
	}
	set["rules"] = keep
	var ex []any
	for _, x := range set["examples"].([]any) {
		if x.(map[string]any)["want_rule"] != id {
			ex = append(ex, x)
		}
	}
	set["examples"] = ex
	b, _ := json.MarshalIndent(set, "", "  ")
	return string(b)
}

// The health authority changes the rules: a broken set is refused with
// every problem listed; a new version is saved, dry-run against everyone
// in scope (how many change colour, and to what), activated, and the
// person it concerns turns green.
func TestBrowserConsoleRulesDryRun(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	zhang := rid("19850312", 31) // 张三丰
	recordFact(t, e, zhang, fact.Fact{Kind: fact.ClinicFever, At: time.Now().Add(-2 * time.Hour), Attrs: map[string]any{"clinic": "宁国市人民医院发热门诊"}})

	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	u.wantText(".tiles", "黄码")
	u.shot("dashboard")

	// Why is 张三丰 yellow? The person page says, with the facts.
	u.open("/console/persons?id_number=" + zhang)
	u.submit("#person-results a")
	u.wantText("#person-color", "黄码")
	u.wantText("#person-rule", "fever_clinic")
	u.wantText("#facts", "发热门诊就诊", "宁国市人民医院发热门诊")
	u.shot("person")

	u.open("/console/rules")
	u.wantText(".tiles", "v1")
	u.wantText("#rules", "fever_clinic", "黄码")
	u.submit("#versions a")
	u.wantText("main h1", "v1")

	// A broken set: every problem, none stored.
	u.setText("#rules-body", strings.Replace(string(rules.DefaultJSON()), `"facts.any('clinic.fever')`, `"facts.any('clinic.fever'`, 1))
	if st := u.submit("#validate"); st != 400 {
		t.Fatalf("a broken rule set validated with %d", st)
	}
	u.wantText("#problems", "fever_clinic", "condition")

	// A valid new version: without the fever-clinic rule.
	u.setText("#rules-body", withoutRule(t, "fever_clinic"))
	u.submit("#validate")
	u.wantText("#valid", "有效")
	u.submit("#save-version")
	u.wantText("main h1", "v2")
	u.wantText(".flash", "v2")

	// The dry run: one person of the city would go from yellow to green.
	u.submit("#dry-run")
	u.wantText("#dry-run-result", "未做任何更改")
	if got := u.text("#dr-changed"); got != "1" {
		t.Fatalf("the dry run says %s would change, want 1", got)
	}
	if got := u.text("#dr-evaluated"); got != "12" {
		t.Fatalf("the dry run evaluated %s persons, want the demo's 12 (10 residents, 2 arrivals from abroad)", got)
	}
	u.wantText("#transitions", "黄码", "绿码", "1")
	u.wantText("#dry-run-result", "张*丰")
	u.shot("dry-run")
	// Nothing changed yet.
	if c := colourOf(t, e, zhang); c != rules.Yellow {
		t.Fatalf("the dry run changed the colour to %v", c)
	}

	u.acceptDialogs()
	u.submit("#activate")
	u.wantText(".flash", "v2")
	u.wantText(".tiles", "v2")
	deadline := time.Now().Add(20 * time.Second)
	for colourOf(t, e, zhang) != rules.Green {
		if time.Now().After(deadline) {
			t.Fatal("the person did not turn green after the activation")
		}
		time.Sleep(200 * time.Millisecond)
	}
	u.open("/console/audit")
	u.wantText("#audit", "rules.activate", "rules.create")
}

func colourOf(t *testing.T, e *env, idNumber string) rules.Color {
	p, err := e.App.Persons.FindByIDNumber(context.Background(), "resident_id", idNumber)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.App.Status.Status(context.Background(), p.Num)
	if err != nil {
		t.Fatal(err)
	}
	return st.Color
}

// A resident declares a fever: the code turns yellow and says why and what
// to do; they appeal; an officer grants it in the queue; the code is green.
func TestBrowserDeclarationAndAppeal(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000002") // 李秀英, no dependents
	r.open("/me/more")
	r.wantText(".menu", "每日健康打卡", "我的申诉", "核酸检测结果")
	r.do(chromedp.Click(chromedp.CSS(".menu a[href='/me/declare']")))
	r.do(chromedp.WaitVisible(chromedp.CSS("#declare-form")))
	r.wantText("#declare-color", "绿码")
	r.fill("#temperature", "38.1")
	r.do(chromedp.Click(chromedp.CSS("input[name=symptoms][value=dry_cough]")))
	r.submit("#declare-form button")
	r.wantText(".flash", "已打卡")
	r.wantText("#declare-color", "黄码")
	r.shot("declared")

	r.open("/me")
	r.wantText("#code-state", "黄码")
	if cls := eval[string](r, `document.getElementById("band").className`); cls != "band yellow" {
		t.Fatalf("the band is %q after a fever declaration", cls)
	}
	r.wantText("#reason", "原因", "怎么办")
	if _, c := r.codeOnScreen(); c.Color.String() != "yellow" {
		t.Fatalf("the QR says %v", c.Color)
	}
	r.shot("yellow-code")

	r.open("/me/appeals")
	r.fill("#a-reason", "当天体温计故障，复测体温正常。")
	r.submit("#appeal-form button")
	r.wantText(".flash", "申诉已提交")
	r.wantText("#appeals", "待审核")

	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console/appeals")
	op.wantText(".appeal", "李秀英", "体温计故障", "黄码") // an admin may see full names
	op.fill(".appeal input[name=note]", "已电话核实")
	op.submit(".appeal button.grant")
	op.wantText(".flash", "申诉已通过")

	r.open("/me")
	r.wantText("#code-state", "绿码")
	r.open("/me/appeals")
	r.wantText("#appeals", "已通过", "已电话核实")
}

// Issue 13's parent: she appealed a yellow from a fever declaration; a
// contact was recorded while the appeal waited. The reviewer's card shows
// the decision appealed against, the one now, what was recorded since, and
// that a grant would clear the fever but not the contact; granting does just
// that.
func TestBrowserAppealCardSaysWhatAGrantWouldClear(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	li := rid("19900721", 42) // 李秀英, 13800000002
	r := newUI(t, e, phoneW, phoneH)
	r.residentLogin("13800000002")
	r.open("/me/declare")
	r.fill("#temperature", "38.4")
	r.submit("#declare-form button")
	r.open("/me/appeals")
	r.fill("#a-reason", "体温计故障")
	r.submit("#appeal-form button")
	r.wantText("#appeals", "待审核")
	time.Sleep(5 * time.Millisecond) // recorded after the filing, not in its millisecond
	recordFact(t, e, li, fact.Fact{Kind: fact.ContactClose, At: time.Now().Add(-time.Hour), Attrs: map[string]any{"case_person": "p-case"}})

	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console/appeals")
	op.wantText(".appeal .named", "黄码", "declared_illness")
	op.wantText(".appeal .current", "红码", "close_contact")
	op.wantText(".appeal .since", "密切接触")
	op.wantText(".appeal .clears", "declared_illness")
	op.wantText(".appeal .keeps", "close_contact", "申诉后新增")
	op.wantText(".appeal .after", "红码")
	op.shot("appeal-card")
	op.submit(".appeal button.grant")
	op.wantText(".flash", "申诉已通过")
	if c := colourOf(t, e, li); c != rules.Red {
		t.Fatalf("after the grant she is %v: the contact recorded after the appeal was hidden", c)
	}
}
