package web_test

import (
	"strings"
	"testing"
)

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
	store.wantText("#cc-trace-holders", "宁国市西津农贸市场", "100")
	if n := store.text("#cc-trace-handlers"); n != "3" { // the demo's 王建国 and 陈静, and 李秀英
		t.Fatalf("the trace found %s handlers", n)
	}
	store.shot("trace")

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
