package web_test

import (
	"testing"
)

// An operator puts a checkpoint under a venue kind in the console, when
// adding it and later on its row, and takes it out again; the kind is the
// one the API reports, whose entry policy then holds at its scans.
func TestBrowserCheckpointVenueKind(t *testing.T) {
	browserTest(t)
	e := newEnv(t, false)
	admin := e.Admin()
	kindOf := func(name string) string {
		t.Helper()
		r := e.Want(e.Do("GET", "/api/v1/admin/checkpoints", admin, nil), 200, "")
		for _, c := range r.Body["checkpoints"].([]any) {
			if m := c.(map[string]any); m["name"] == name {
				return m["venue_kind"].(string)
			}
		}
		t.Fatalf("no checkpoint %s: %s", name, r.Raw)
		return ""
	}

	u := newUI(t, e, desktopW, desktopH)
	u.operatorLogin("admin", adminPassword)
	u.open("/console/checkpoints")
	u.wantText("form[action='/console/checkpoints']", "场所类型（准入规则）")
	u.fill("#cp-name", "宁国影剧院入口")
	u.choose("#cp-region", "341881001")
	u.choose("#cp-kind", "entertainment")
	if st := u.submit("form[action='/console/checkpoints'] button"); st != 201 {
		t.Fatalf("creating a checkpoint answered %d", st)
	}
	if k := kindOf("宁国影剧院入口"); k != "entertainment" {
		t.Fatalf("kind after creating: %q", k)
	}

	u.open("/console/checkpoints")
	row := "#checkpoints tbody tr:last-child"
	if v := eval[string](u, `document.querySelector("#checkpoints tbody tr:last-child .cp-kind select").value`); v != "entertainment" {
		t.Fatalf("the row's kind shows %q", v)
	}
	u.choose(row+" .cp-kind select", "mall")
	u.submit(row + " .cp-kind button")
	u.wantText(".flash", "已保存")
	if k := kindOf("宁国影剧院入口"); k != "mall" {
		t.Fatalf("kind after the edit: %q", k)
	}
	// The built and enabled buttons leave the kind alone.
	u.open("/console/checkpoints")
	u.submit(row + " button.danger")
	u.wantText(".flash", "已保存")
	if k := kindOf("宁国影剧院入口"); k != "mall" {
		t.Fatalf("kind after disabling: %q", k)
	}
	u.open("/console/checkpoints")
	// The first choice, 无 (none); chromedp's SetValue("") leaves no
	// option selected, which a browser does not submit.
	eval[bool](u, `(document.querySelector("#checkpoints tbody tr:last-child .cp-kind select").selectedIndex = 0) === 0`)
	u.submit(row + " .cp-kind button")
	u.wantText(".flash", "已保存")
	if k := kindOf("宁国影剧院入口"); k != "" {
		t.Fatalf("kind after clearing: %q", k)
	}
	u.wantText(row+" .cp-kind select", "无")
}
