package web_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/rules"
)

// The console as a newcomer met it, on the demo: the audit log fits the
// page and names its actors, as the fact timeline does; the persons list
// shows and filters by colour, in chips that keep to one line; action
// links stay on their row; a rule version shows what it changes; a tube's
// page lists who is in it.
func TestBrowserConsoleReadsAsPeople(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	ctx := context.Background()
	admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}

	// A fact the admin records through the API, a tube with two swabs, a
	// second rule version.
	wang, err := e.App.Persons.FindByIDNumber(ctx, "resident_id", rid("19781105", 13)) // 王建国, red
	if err != nil {
		t.Fatal(err)
	}
	e.Want(e.Do("POST", "/api/v1/admin/facts", e.Admin(), map[string]any{"person_id": wang.ID, "kind": "declaration",
		"at": time.Now().Add(-time.Hour).Format(time.RFC3339), "attrs": map[string]any{"temperature": 37.0}}), 201, "")
	name, addr, region, lat, lng, open := "测试采样点", "宁国市西津街道", "341881001", 30.6, 118.9, true
	site, err := e.App.NAT.CreateSite(ctx, admin, nat.SiteInput{Name: &name, Address: &addr, Region: &region, Lat: &lat, Lng: &lng, Open: &open})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.NAT.OpenTube(ctx, admin, "TUBE0001", 5, site.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{rid("19850312", 31), rid("19900721", 42)} {
		if _, err := e.App.NAT.AddSample(ctx, admin, "TUBE0001", nat.SampleInput{IDType: "resident_id", IDNumber: id}); err != nil {
			t.Fatal(err)
		}
	}
	body := bytes.Replace(rules.DefaultJSON(), []byte("您为新冠肺炎确诊病例。"), []byte("您为新冠肺炎确诊病例，请配合隔离治疗。"), 1)
	v2, err := e.App.Status.CreateRuleSet(ctx, admin, body)
	if err != nil {
		t.Fatal(err)
	}

	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)

	u.open("/console/audit")
	if w := eval[float64](u, `document.documentElement.scrollWidth`); w > desktopW {
		t.Fatalf("the audit page is %v px wide on a %d px screen", w, desktopW)
	}
	actors := u.text("#audit tbody")
	if !strings.Contains(actors, "管理员（admin）") {
		t.Fatalf("the audit log does not name the admin: %.300s", actors)
	}
	// Every operator who has an account is named (the demo's loader and
	// this test's principal have none, and stay as stored).
	if n := eval[int](u, `[...document.querySelectorAll("#audit td.actor")].filter(td => td.textContent.startsWith("operator:") && td.title !== "operator:demo-loader" && td.title !== "operator:t").length`); n != 0 {
		t.Fatalf("%d audit rows name an operator by id: %s", n, eval[string](u, `[...document.querySelectorAll("#audit td.actor")].map(td => td.title).join(" ")`))
	}

	u.open("/console/persons/" + wang.ID)
	u.wantText("#facts", "管理员（admin）")

	u.open("/console/persons?color=red")
	u.wantText("#person-results", "王建国")
	if n := eval[int](u, `[...document.querySelectorAll("#person-results tbody tr")].filter(tr => !tr.querySelector(".chip.red")).length`); n != 0 {
		t.Fatalf("%d persons listed as red are not red", n)
	}
	u.open("/console/persons?all=1")
	if n := eval[int](u, `document.querySelectorAll("#person-results .chip").length`); n == 0 {
		t.Fatal("the persons list has no colour column")
	}
	// A chip stays on one line, even in a narrow column.
	u.do(chromedp.EmulateViewport(700, 900))
	if bad := eval[int](u, `[...document.querySelectorAll(".chip")].filter(c => c.getClientRects().length > 1 || c.getBoundingClientRect().height > 40).length`); bad != 0 {
		t.Fatalf("%d colour chips wrap", bad)
	}
	u.do(chromedp.EmulateViewport(desktopW, desktopH))

	// Action links sit in their row.
	u.open("/console/checkpoints")
	if off := eval[float64](u, `(function () {
		var td = document.querySelector("#checkpoints tbody td.actions");
		return Math.abs(td.getBoundingClientRect().top - td.parentElement.getBoundingClientRect().top);
	})()`); off > 2 {
		t.Fatalf("the actions cell is %v px off its row", off)
	}

	u.open("/console/rules/" + strconv.FormatInt(v2.Version, 10))
	diff := u.wantText("#diff-lines", "请配合隔离治疗")
	if !strings.Contains(diff, "- ") || !strings.Contains(diff, "+ ") {
		t.Fatalf("the diff shows no removed and added line: %s", diff)
	}
	if n := eval[int](u, `document.querySelectorAll("#diff-lines .add").length`); n != 1 {
		t.Fatalf("%d added lines, want the one reason changed", n)
	}

	u.open("/console/nat/tubes/TUBE0001")
	u.wantText("#tube-samples", "张*丰", "李*英")
	u.shot("tube")
}
