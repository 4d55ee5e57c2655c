package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// fetchText fetches what a link on the page points to, with the page's
// session (a download link's CSV).
func (u *ui) fetchText(sel string) string {
	u.t.Helper()
	href := eval[string](u, `document.querySelector(`+jsString(sel)+`).href`)
	body, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`fetch(`+jsString(href)+`).then(r => r.ok ? r.text() : "HTTP " + r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatal(err)
	}
	return body
}

// A market's tablet and a cold store's: the market records a worker (her
// health code, then the batch code), a sale, and is refused a sale of more
// than it holds, keeping what it holds; the cold store records a positive
// packaging test, which traces the batch: the worker turns yellow on her
// phone, the market has its seal task. A consumer scans the batch's label
// and sees its origin, inspections and chain, without any personal data.
func TestBrowserColdChain(t *testing.T) {
	e := newEnv(t, true)
	phone := newUI(t, e, phoneW, phoneH)
	phone.residentLogin("13800000002") // 李秀英, green
	code, _ := phone.codeOnScreen()

	market := newUI(t, e, tabletW, tabletH)
	market.unitLogin("market")
	market.open("/unit/coldchain")
	market.wantText(".unit-nav", "冷链追溯")
	wings := eval[string](market, `[...document.querySelectorAll("#cc-stock tbody tr")].find(r => r.textContent.includes("巴西冻鸡翅")).dataset.code`)
	held := market.wantText("#cc-stock tr[data-code='"+wings+"'] .held", "120")
	if market.has("#cc-inspect") || market.has("#cc-register") {
		t.Fatal("a market is offered an importer's or a sampler's form")
	}

	market.fill("#cc-sell-batch", wings)
	market.fill("#cc-sell-qty", "121")
	if st := market.submit("#cc-sell button"); st != 409 {
		t.Fatalf("selling more than held answered %d", st)
	}
	market.wantText(".error", "库存")
	market.wantText("#cc-stock tr[data-code='"+wings+"'] .held", held)

	market.fill("#cc-worker", code)
	market.fill("#cc-handle-batch", "https://hc.example/cc/"+strings.ToLower(wings))
	market.submit("#cc-handle button")
	market.wantText(".flash", "已登记接触人员", "李*英", "绿码")
	market.fill("#cc-sell-batch", wings)
	market.fill("#cc-sell-qty", "20")
	market.submit("#cc-sell button")
	market.wantText("#cc-stock tr[data-code='"+wings+"'] .held", "100")
	market.shot("market")

	store := newUI(t, e, tabletW, tabletH)
	store.unitLogin("coldstore")
	store.open("/unit/coldchain")
	store.fill("#cc-inspect-batch", wings)
	store.choose("#cc-kind", "packaging")
	store.choose("#cc-result", "positive")
	store.fill("#cc-cert", "宁疾控冷检2022-040")
	store.submit("#cc-inspect button")
	store.wantText("#cc-trace-holders", "宁国市冷链食品集中监管仓", "宁国市西津农贸市场", "100")
	if strings.Contains(store.text("#cc-trace-holders"), "宁国市华东冷链进出口有限公司") {
		t.Fatal("the importer, upstream of the cold store, is traced as downstream")
	}
	store.wantText("#cc-trace-upstream", "宁国市华东冷链进出口有限公司")
	if n := store.text("#cc-trace-handlers"); n != "3" { // the demo's 王建国 (lately at the cold store) and 陈静, and 李秀英
		t.Fatalf("the trace found %s handlers", n)
	}
	store.shot("trace")
	report := store.fetchText("#cc-trace-report")
	for _, want := range []string{"李*英", "经营单位,宁国市西津农贸市场", "上游单位（仅供参考）,宁国市华东冷链进出口有限公司"} {
		if !strings.Contains(report, want) {
			t.Fatalf("the unit's trace report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "李秀英") {
		t.Fatal("the unit's trace report shows a full name")
	}
	store.open("/unit/coldchain")
	store.wantText("#cc-reports", "巴西冻鸡翅", "厄瓜多尔冻白虾")

	phone.open("/me")
	phone.wantText(".band", "黄码")
	phone.wantText("main", "冷链")

	market.open("/unit/coldchain")
	market.wantText("#cc-tasks", "封存在库货物", "场所终末消毒")

	consumer := newUI(t, e, phoneW, phoneH)
	consumer.open("/cc/" + wings)
	consumer.wantText("#cc-product", "巴西冻鸡翅")
	consumer.wantText("#cc-origin", "BR")
	consumer.wantText("#cc-positive", "阳性")
	consumer.wantText("#cc-inspections", "外包装核酸检测", "阳性", "预防性消毒")
	page := consumer.wantText("#cc-moves", "宁国市冷链食品集中监管仓", "宁国市西津农贸市场", "消费者")
	body := consumer.text("main")
	for _, personal := range []string{"李*英", "李秀英", "张*丰", "13800000002"} {
		if strings.Contains(body, personal) || strings.Contains(page, personal) {
			t.Fatalf("the public page shows %q", personal)
		}
	}
	consumer.shot("public")
	if st := consumer.open("/cc/CC00000000000000"); st != 404 {
		t.Fatalf("an unknown batch answered %d", st)
	}
}

// The operators' pages: the positive batches, a batch's chain with its
// handlers masked and its tasks (the demo's 厄瓜多尔冻白虾 was positive at
// the cold store: the cold store and the market have tasks, the importer
// upstream none), the trace report, and an inspection recorded at a holder.
// The importer's own page shows it no task for that batch.
func TestBrowserColdChainConsole(t *testing.T) {
	e := newEnv(t, true)
	op := newUI(t, e, desktopW, desktopH)
	op.operatorLogin("admin", adminPassword)
	op.open("/console/coldchain?positive=true")
	op.wantText("#cc-batches", "厄瓜多尔冻白虾", "阳性")
	if strings.Contains(op.text("#cc-batches"), "巴西冻鸡翅") {
		t.Fatal("a negative batch is listed among the positive ones")
	}
	op.open(eval[string](op, `[...document.querySelectorAll("#cc-batches a")].find(a => a.textContent.includes("厄瓜多尔冻白虾")).pathname`))
	op.wantText("#cc-holders", "宁国市华东冷链进出口有限公司", "宁国市冷链食品集中监管仓", "宁国市西津农贸市场")
	op.wantText("#cc-inspections", "外包装核酸检测", "阳性")
	handlings := op.wantText("#cc-handlings", "王*国", "陈*")
	if strings.Contains(handlings, "王建国") {
		t.Fatal("the console shows a handler's full name")
	}
	tasks := op.wantText("#cc-tasks", "宁国市冷链食品集中监管仓", "宁国市西津农贸市场", "封存在库货物", "场所终末消毒")
	if strings.Contains(tasks, "宁国市华东冷链进出口有限公司") {
		t.Fatal("the importer, upstream of the positive cold store, has a task")
	}
	report := op.fetchText("a.cc-report")
	if !strings.Contains(report, "上游单位（仅供参考）,宁国市华东冷链进出口有限公司") || !strings.Contains(report, "陈*") {
		t.Fatalf("the console's trace report:\n%s", report)
	}
	op.shot("console-batch")

	op.choose("#cc-holder", eval[string](op, `[...document.querySelectorAll("#cc-holder option")].find(o => o.textContent.includes("西津")).value`))
	op.choose("#cc-kind", "disinfection")
	op.fill("#cc-cert", "XD-2022-0999")
	op.submit("#cc-inspect button")
	op.wantText(".flash", "预防性消毒")
	op.wantText("#cc-inspections", "XD-2022-0999", "宁国市西津农贸市场")

	imp := newUI(t, e, tabletW, tabletH)
	imp.unitLogin("importer")
	imp.open("/unit/coldchain")
	if strings.Contains(imp.text("#cc-tasks"), "厄瓜多尔冻白虾") {
		t.Fatal("the importer, upstream, was given a task")
	}
	if !imp.has("#cc-register") {
		t.Fatal("the importer is not offered its form for a new batch")
	}
}
