package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/org"
)

const unitPassword = "till password 1"

// unitClient signs a unit account in through its login page.
func (e *env) unitClient(username string) *http.Client {
	e.t.Helper()
	if err := e.App.Auth.SetUnitPassword(context.Background(), username, unitPassword); err != nil {
		e.t.Fatal(err)
	}
	c := e.client()
	_, body := e.get(c, "/unit/login")
	res, _ := e.post(c, "/unit/login", url.Values{"username": {username}, "password": {unitPassword}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("unit login of %s: %d", username, res.StatusCode)
	}
	return c
}

// consoleClient signs an operator in to the console.
func (e *env) consoleClient(username, password string) *http.Client {
	e.t.Helper()
	c := e.client()
	_, body := e.get(c, "/console/login")
	res, _ := e.post(c, "/console/login", url.Values{"username": {username}, "password": {password}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("console login of %s: %d", username, res.StatusCode)
	}
	return c
}

func (e *env) demoOrg(name string) *org.Org {
	e.t.Helper()
	admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
	os, err := e.App.Orgs.List(context.Background(), admin, org.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range os {
		if strings.Contains(o.Name, name) {
			return o
		}
	}
	e.t.Fatalf("no demo organisation %s", name)
	return nil
}

// Who may open which gateway page is what the services decide, through
// the pages' door too: an organisation sees only its own data, a staff
// account does not manage keys, a town's officer sees its town's
// organisations, a viewer registers none.
func TestGatewayPagesShowEachTheirOwn(t *testing.T) {
	e := newEnv(t, true)
	ph, ride := e.demoOrg("国胜大药房"), e.demoOrg("网约车")

	till := e.unitClient("pharmacy")
	for path, want := range map[string]string{
		"/unit":               "国胜大药房",
		"/unit/scan":          "扫码",
		"/unit/purchases":     "复方甘草片",
		"/unit/keys":          "收银系统",
		"/unit/purchases.csv": "时间,购药人,药品类别",
	} {
		if st, body := e.get(till, path); st != 200 || !strings.Contains(body, want) {
			t.Errorf("%s for the pharmacy: %d, want %q in it", path, st, want)
		}
	}
	if st, _ := e.get(till, "/unit/purchases?date=2022-13-40"); st != 400 {
		t.Errorf("a bad date: %d", st)
	}
	// The pharmacy's session is not a console session.
	if res, _ := till.Get(e.URL + "/console/orgs"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a unit account opened the console: %d", res.StatusCode)
	}

	clinic := e.unitClient("feverclinic")
	if st, body := e.get(clinic, "/unit/purchases"); st != 403 || strings.Contains(body, "复方甘草片") {
		t.Errorf("the fever clinic opened the pharmacy's purchases: %d", st)
	}
	if st, _ := e.get(clinic, "/unit/keys"); st != 403 {
		t.Errorf("a staff account opened the keys: %d", st)
	}
	_, body := e.get(clinic, "/unit/scan")
	res, _ := e.post(clinic, "/unit/purchases", url.Values{"csrf": {csrfOf(body)}, "subject": {"hcs_x"}, "drug_class": {"cough"}})
	if res.StatusCode != 403 {
		t.Errorf("the fever clinic registered a purchase: %d", res.StatusCode)
	}

	// A town's officer (西津街道) sees the pharmacy, not the platform in 南山街道.
	e.App.Auth.SetPassword(context.Background(), "xijin", "xijin password")
	xijin := e.consoleClient("xijin", "xijin password")
	if st, _ := e.get(xijin, "/console/orgs/"+ph.ID); st != 200 {
		t.Errorf("the town's officer on its pharmacy: %d", st)
	}
	if st, _ := e.get(xijin, "/console/orgs/"+ride.ID); st != 404 {
		t.Errorf("the town's officer on another town's platform: %d", st)
	}
	if st, body := e.get(xijin, "/console/orgs"); st != 200 || strings.Contains(body, "畅行") || !strings.Contains(body, "国胜大药房") {
		t.Errorf("the town's officer's list: %d", st)
	}
	e.App.Auth.SetPassword(context.Background(), "viewer", "viewer password")
	viewer := e.consoleClient("viewer", "viewer password")
	_, body = e.get(viewer, "/console/orgs")
	if strings.Contains(body, `id="org-form"`) {
		t.Error("a viewer is offered the form to register an organisation")
	}
	before := count(t, e, "orgs")
	res, _ = e.post(viewer, "/console/orgs", url.Values{"csrf": {csrfOf(body)}, "kind": {"pharmacy"}, "name": {"x"},
		"uscc": {ph.USCC}, "region": {"341881001"}})
	if res.StatusCode != 403 || count(t, e, "orgs") != before {
		t.Errorf("a viewer registered an organisation: %d", res.StatusCode)
	}
	for _, path := range []string{"/console/pharmacy", "/console/drugs", "/console/orgs/" + ph.ID + "/purchases", "/console/orgs/" + ph.ID + "/purchases.csv"} {
		if st, _ := e.get(viewer, path); st != 200 {
			t.Errorf("%s for a viewer: %d", path, st)
		}
	}
	_, body = e.get(viewer, "/console/drugs")
	res, _ = e.post(viewer, "/console/drugs", url.Values{"csrf": {csrfOf(body)}, "code": {"x1"}, "name_zh": {"x"}, "name_en": {"x"}, "active": {"true"}})
	if res.StatusCode != 403 {
		t.Errorf("a viewer edited the drug classes: %d", res.StatusCode)
	}
}

func count(t *testing.T, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
