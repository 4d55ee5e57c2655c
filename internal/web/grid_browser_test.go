package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/tracing"
)

// The grid worker on their phone, in Chinese: the visits of their grid
// after a police case list (the case and nobody else), the visit form
// refusing a visit without an outcome, the visit recorded, the list then
// empty and the task shown as visited.
func TestBrowserGridWorkerVisits(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	ctx := context.Background()
	admin := &auth.Principal{Kind: auth.Operator, ID: "t", Name: "t", Role: auth.Admin, Region: "341881"}
	const g = "341881001001001"
	var pop strings.Builder
	pop.WriteString("town,community,grid,household,name,id_number\n")
	for i := range 6 {
		fmt.Fprintf(&pop, "341881001,001,%03d,%d,网格居民%d,%s\n", 1+i/3, i/2, i, rid("19700505", 600+i))
	}
	if imp, err := e.App.Grids.Import(ctx, admin, grid.Spec{Kind: grid.Residents}, []byte(pop.String()), nil); err != nil || imp.Good != 6 {
		t.Fatalf("population: %+v %v", imp, err)
	}
	at := time.Now().Add(-3 * time.Hour).Format(time.RFC3339)
	cases := "id_number,at,case_id\n" + rid("19700505", 600) + "," + at + ",NG-9\n" + rid("19700505", 604) + "," + at + ",NG-10\n"
	if imp, err := e.App.Grids.Import(ctx, admin, grid.Spec{Kind: grid.Cases, Source: "police"}, []byte(cases), nil); err != nil || imp.Good != 2 {
		t.Fatalf("cases: %+v %v", imp, err)
	}
	if _, err := e.App.Tracing.FollowChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Auth.CreateOperator(ctx, admin, auth.NewOperator{Username: "wg1", DisplayName: "第一网格", Password: "a long grid password",
		Role: string(auth.GridWorker), Region: g}); err != nil {
		t.Fatal(err)
	}

	u := newUI(t, e, phoneW, phoneH)
	u.operatorLogin("wg1", "a long grid password")
	if st := u.open("/console/visits"); st != 200 {
		t.Fatalf("the visits answered %d", st)
	}
	u.wantText("#visits", "网***0", "红码", "赋码走访")
	if n := eval[int](u, `document.querySelectorAll("#visits li").length`); n != 1 {
		t.Fatalf("the grid worker sees %d visits, want their grid's one", n)
	}
	if w := eval[int](u, `document.documentElement.scrollWidth`); w > phoneW {
		t.Errorf("the visits are %dpx wide on a %dpx phone", w, phoneW)
	}
	u.do(chromedp.Click(chromedp.CSS("#visits .visit-link")))
	u.wantText("#visit-task", "网***0", "赋码原因")
	if st := u.submit("#visit-form button"); st != 400 {
		t.Fatalf("a visit without an outcome answered %d", st)
	}
	u.wantText(".error", "请选择走访结果")
	u.do(chromedp.Click(chromedp.CSS(`input[name=outcome][value=isolated]`)))
	u.fill("#v-note", "已转运至集中隔离点")
	if st := u.submit("#visit-form button"); st != 200 {
		t.Fatalf("recording the visit answered %d", st)
	}
	u.wantText(".flash", "走访已登记")
	u.wantText("#visits-empty", "暂无待走访任务")
	u.shot("grid-visits")
	ts, err := e.App.Tracing.Tasks(ctx, admin, tracing.TaskFilter{Kind: tracing.TaskColour})
	if err != nil {
		t.Fatal(err)
	}
	inGrids := 0
	for _, tk := range ts {
		if len(tk.Region) != grid.CodeLen {
			continue // the demo's own red and yellow, in no grid
		}
		inGrids++
		if tk.Region == g && (tk.Status != "visited" || tk.Outcome != "isolated") {
			t.Fatalf("the visited task: %+v", tk)
		}
		if tk.Region != g && tk.Status != "open" {
			t.Fatalf("the other grid's task: %+v", tk)
		}
	}
	if inGrids != 2 {
		t.Fatalf("%d tasks in the grids, want the two cases'", inGrids)
	}
}

// The console's import in Chinese: a population pasted with a bad line,
// the import's progress bar full, the summary and the line's error in
// Chinese; the grids page then lists the grid.
func TestBrowserConsoleImport(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	u.open("/console/imports")
	u.wantText(".side", "数据导入", "网格", "红黄码人员")
	var pop strings.Builder
	pop.WriteString("乡镇街道,社区编号,社区,网格编号,网格,户号,姓名,证件号码\n")
	for i := range 4 {
		fmt.Fprintf(&pop, "341881002,003,港口社区,001,第一网格,%d,居民%d,%s\n", i, i, rid("19800606", 700+i))
	}
	pop.WriteString("341881002,003,港口社区,001,第一网格,9,坏号,12345\n")
	u.choose("#i-kind", "residents")
	u.fill("#i-text", pop.String())
	if st := u.submit("#import-form button"); st != 200 {
		t.Fatalf("the import answered %d", st)
	}
	u.wantText("#import-report", "已完成", "成功 4", "错误 1")
	if v, max := eval[float64](u, `document.querySelector("#import-progress").value`), eval[float64](u, `document.querySelector("#import-progress").max`); v != max || max != 5 {
		t.Errorf("the progress bar shows %v of %v", v, max)
	}
	u.wantText("#import-errors", "6")
	u.wantText("#grid-imports", "户籍人口")
	u.shot("console-import")
	u.open("/console/grids?region=341881002")
	u.wantText("#grid-grids", "341881002003001", "港口社区", "第一网格")
}
