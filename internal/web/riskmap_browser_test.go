package web_test

import (
	"strings"
	"testing"
)

// An operator gives a risk area its shape in the console: a shape that is
// not a valid geometry is refused with its reason in Chinese and the typed
// text kept, and nothing is published; a polygon is published, and the
// public risk-area page draws it on its map beside the list, with the
// demo's own area (a polygon in 玄武区) and without the area that has no
// shape.
func TestBrowserRiskAreaShapesOnThePublicMap(t *testing.T) {
	browserTest(t)
	e := newEnv(t, true)
	a := newUI(t, e, desktopW, desktopH)
	a.operatorLogin("admin", adminPassword)
	a.open("/console/risk-areas")
	a.wantText("#risk-form", "范围（GeoJSON，可选）")

	open := `{"type":"Polygon","coordinates":[[[118.97,30.62],[118.99,30.62],[118.99,30.64],[118.97,30.64]]]}`
	a.fill("#ra-name", "西津小区")
	a.fill("#ra-geometry", open)
	if st := a.submit("#ra-publish"); st != 400 {
		t.Fatalf("a shape with an open ring answered %d", st)
	}
	a.wantText("p.error", "闭合")
	if got := eval[string](a, `document.querySelector("#ra-geometry").value`); got != open {
		t.Fatalf("the typed shape was not kept: %q", got)
	}
	if a.has("#risk-areas tbody tr td:nth-child(2)") && strings.Contains(a.text("#risk-areas"), "西津小区") {
		t.Fatal("a refused shape published its area")
	}

	a.fill("#ra-name", "西津小区")
	a.fill("#ra-geometry", `{"type":"Polygon","coordinates":[[[118.97,30.62],[118.99,30.62],[118.99,30.64],[118.97,30.64],[118.97,30.62]]]}`)
	a.submit("#ra-publish")
	a.wantText("#risk-areas", "西津小区", "Polygon")
	a.fill("#ra-name", "河沥溪某楼")
	a.fill("#ra-geometry", "")
	a.submit("#ra-publish")
	a.wantText("#risk-areas", "河沥溪某楼")

	// The public page needs no login.
	u := newUI(t, e, phoneW, phoneH)
	u.open("/risk-areas")
	u.wantText("h1", "中高风险地区")
	u.wantText("#risk-list", "玄武区某小区", "西津小区", "河沥溪某楼", "中风险")
	if n := eval[int](u, `document.querySelectorAll("#risk-map path[data-area]").length`); n != 2 {
		t.Fatalf("the map draws %d shapes, want 2 (the demo's and 西津小区)", n)
	}
	// Each drawn shape is an area of the list; the one without a shape is
	// only listed.
	drawn := eval[[]string](u, `[...document.querySelectorAll("#risk-map [data-area]")].map(e => e.dataset.area)`)
	for _, id := range drawn {
		if !u.has(`#risk-list tr[data-area="` + id + `"]`) {
			t.Fatalf("the map draws %s, which the list lacks", id)
		}
	}
	if titles := eval[string](u, `[...document.querySelectorAll("#risk-map path title")].map(e => e.textContent).join("|")`); !strings.Contains(titles, "西津小区") ||
		!strings.Contains(titles, "玄武区某小区") || strings.Contains(titles, "河沥溪某楼") {
		t.Fatalf("the map's shapes: %s", titles)
	}
	// The map fits a phone's width.
	if w := eval[float64](u, `document.querySelector("#risk-map").getBoundingClientRect().width`); w <= 0 || w > phoneW {
		t.Fatalf("the map is %.0f px wide on a %d px phone", w, phoneW)
	}
	u.shot("risk-areas-public")
}
