package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// person registers a person through the API and returns their id.
func (e *env) person(token, name, idNumber, region string) string {
	e.t.Helper()
	return e.Want(e.Do("POST", "/api/v1/admin/persons", token, map[string]any{
		"name": name, "id_type": "resident_id", "id_number": idNumber, "region": region}), 201, "").Str("id")
}

// fact posts a fact and returns the answer.
func (e *env) fact(token, personID, kind string, at time.Time, attrs map[string]any) resp {
	e.t.Helper()
	body := map[string]any{"person_id": personID, "kind": kind, "at": at.Format(time.RFC3339Nano)}
	if attrs != nil {
		body["attrs"] = attrs
	}
	return e.Do("POST", "/api/v1/admin/facts", token, body)
}

func colorOf(r resp) string {
	if st, ok := r.Body["status"].(map[string]any); ok {
		c, _ := st["color"].(string)
		return c
	}
	c, _ := r.Body["color"].(string)
	return c
}

// integratorKey creates an API key with scopes, as a deployment would for a
// pharmacy chain or a hospital.
func (e *env) integratorKey(region string, scopes ...string) string {
	e.t.Helper()
	var key string
	err := e.App.DB.InTx(context.Background(), func(tx db.Tx) error {
		var err error
		_, key, err = e.App.Auth.CreateAPIKey(context.Background(), tx, &auth.Principal{Kind: auth.Operator, ID: "test", Role: auth.Admin},
			auth.NewKey{Kind: "integrator", Name: "pharmacy chain", Scopes: scopes, Region: region})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

// agree checks that the node's cache, the status table, the change log and
// the notification queue tell the same story about a person.
func (e *env) agree(personID string) {
	e.t.Helper()
	ctx := context.Background()
	num, err := e.App.Persons.Handles().ParseID(personID)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := e.App.Status.Status(ctx, num)
	if err != nil {
		e.t.Fatal(err)
	}
	c, v := e.App.Status.Color(num)
	if c != st.Color || v != st.Version {
		e.t.Fatalf("cache %v v%d, status %v v%d", c, v, st.Color, st.Version)
	}
	var seq, newColor int64
	err = e.App.DB.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(new_color), 1) FROM status_changes
		WHERE seq = (SELECT MAX(seq) FROM status_changes WHERE person_num = $1)`, num).Scan(&seq, &newColor)
	if err != nil {
		e.t.Fatal(err)
	}
	if uint64(seq) != st.Version || rules.Color(newColor) != st.Color {
		e.t.Fatalf("change log ends at seq %d %v, status v%d %v", seq, rules.Color(newColor), st.Version, st.Color)
	}
	var changes, notes int
	e.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM status_changes WHERE person_num = $1 AND old_color <> new_color`, num).Scan(&changes)
	e.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications WHERE person_num = $1`, num).Scan(&notes)
	if changes != notes {
		e.t.Fatalf("%d colour changes logged, %d notifications queued", changes, notes)
	}
}

func TestFactsMoveColorsThroughTheAPI(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		xijin := e.NewOperator("xijin", "health_officer", "341881001")
		gangkou := e.NewOperator("gangkou", "health_officer", "341881100")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		now := time.Now()

		id := e.person(xijin, "王建国", rid("19781105", 13), "341881001")
		got := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, xijin, nil), 200, "")
		if got.Str("color") != "green" || got.Str("rule_id") != "" || !strings.Contains(string(got.Raw), "未发现风险信息") {
			t.Fatalf("a new person: %s", got.Raw)
		}

		r := e.Want(e.fact(xijin, id, "contact.close", now.Add(-time.Hour), map[string]any{"case_person": "p-1"}), 201, "")
		if colorOf(r) != "red" || r.Body["status"].(map[string]any)["rule_id"] != "close_contact" {
			t.Fatalf("after a close contact: %s", r.Raw)
		}
		got = e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, xijin, nil), 200, "")
		if got.Str("color") != "red" || got.Str("rule_id") != "close_contact" || !strings.Contains(got.Body["reason"].(map[string]any)["zh"].(string), "密切接触者") {
			t.Fatalf("admin view: %s", got.Raw)
		}
		facts := got.Body["facts"].([]any)
		if len(facts) != 1 || facts[0].(map[string]any)["kind"] != "contact.close" || facts[0].(map[string]any)["recorded_by"] != "operator:"+operatorID(t, e, "xijin") {
			t.Fatalf("timeline: %v", facts)
		}
		next, _ := time.Parse(time.RFC3339, got.Body["status"].(map[string]any)["next_eval"].(string))
		if want := now.Add(-time.Hour).Add(14 * 24 * time.Hour).Truncate(time.Millisecond); !next.Equal(want) {
			t.Fatalf("next evaluation %v, want %v", next, want)
		}

		// Refusals, each precise, none storing anything.
		e.Want(e.fact(xijin, id, "case.suspected", now, nil), 400, "fact_kind_unknown")
		e.Want(e.fact(xijin, id, "appeal.granted", now, map[string]any{"appeal": "a1"}), 400, "fact_kind_reserved")
		e.Want(e.fact(xijin, id, "nat.result", now, map[string]any{"result": "neg"}), 400, "fact_attr_not_allowed")
		e.Want(e.fact(xijin, id, "nat.result", now, map[string]any{"result": "negative", "ct": 30}), 400, "fact_attr_unknown")
		e.Want(e.fact(xijin, id, "nat.result", time.Time{}, map[string]any{"result": "negative"}), 400, "fact_at_missing")
		e.Want(e.Do("POST", "/api/v1/admin/facts", xijin, `{"person_id": "`+id+`", "kind": "nat.result", "at": "yesterday"}`), 400, "")
		e.Want(e.fact(xijin, "0000000000000", "case.confirmed", now, nil), 404, "person_not_found")
		e.Want(e.fact(gangkou, id, "case.confirmed", now, nil), 404, "person_not_found")
		e.Want(e.fact(viewer, id, "case.confirmed", now, nil), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/facts", xijin, map[string]any{"kind": "case.confirmed", "at": now}), 400, "person_id_missing")
		if n := e.Count("facts"); n != 1 {
			t.Fatalf("%d facts stored", n)
		}

		// An integrator posts the kinds its scope names, nothing else, and
		// learns nothing about the person's colour.
		pharmacy := e.integratorKey("341881", "facts:pharmacy.purchase")
		other := e.person(xijin, "李梅", rid("19900101", 22), "341881001")
		r = e.Want(e.fact(pharmacy, other, "pharmacy.purchase", now.Add(-time.Minute), map[string]any{"drug_class": "fever", "pharmacy": "ph-7"}), 201, "")
		if _, ok := r.Body["status"]; ok {
			t.Fatalf("an integrator without the status scope sees the colour: %s", r.Raw)
		}
		e.Want(e.fact(pharmacy, other, "case.confirmed", now, nil), 403, "scope_missing")
		elsewhere := e.integratorKey("341882", "facts:pharmacy.purchase")
		e.Want(e.fact(elsewhere, other, "pharmacy.purchase", now, map[string]any{"drug_class": "fever"}), 404, "person_not_found")
		checkpoint := e.integratorKey("341881", "verify")
		e.Want(e.fact(checkpoint, other, "pharmacy.purchase", now, map[string]any{"drug_class": "fever"}), 403, "scope_missing")
		if c := e.Want(e.Do("GET", "/api/v1/admin/persons/"+other, xijin, nil), 200, "").Str("color"); c != "yellow" {
			t.Fatalf("after a watched-drug purchase: %s", c)
		}
		// Idempotent by key.
		body := map[string]any{"person_id": other, "kind": "nat.result", "at": now.Format(time.RFC3339), "key": "lab/7/T1",
			"attrs": map[string]any{"result": "negative", "tube_capacity": 10, "tube": "T1"}}
		if r := e.Want(e.Do("POST", "/api/v1/admin/facts", xijin, body), 201, ""); colorOf(r) != "green" || r.Body["created"] != true {
			t.Fatalf("a negative test after the purchase: %s", r.Raw)
		}
		if r := e.Want(e.Do("POST", "/api/v1/admin/facts", xijin, body), 200, ""); r.Body["created"] != false {
			t.Fatalf("the same key again: %s", r.Raw)
		}
		e.agree(id)
		e.agree(other)
	})
}

func operatorID(t *testing.T, e *env, username string) string {
	t.Helper()
	var id string
	if err := e.App.DB.QueryRowContext(context.Background(), `SELECT id FROM operators WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestResidentSeesWhyAndIsTexted(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tok := e.ResidentToken("13900000021")
		e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 31), "region": "341881001"}), 201, "")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "张老一", "id_type": "resident_id", "id_number": rid("19480101", 10), "relation": "parent"}), 201, "").Str("id")
		me := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if me.Str("color") != "green" || me.Body["reason"].(map[string]any)["en"] == "" || me.Body["advice"].(map[string]any)["zh"] == "" {
			t.Fatalf("/me: %s", me.Raw)
		}
		if _, ok := me.Body["rule_id"]; ok {
			t.Fatalf("/me shows the rule id: %s", me.Raw)
		}

		r := e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"temperature": 38.1, "symptoms": []string{"fever", "dry_cough"}}), 201, "")
		if colorOf(r) != "yellow" {
			t.Fatalf("a declared fever: %s", r.Raw)
		}
		me = e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if me.Str("color") != "yellow" || !strings.Contains(me.Body["reason"].(map[string]any)["zh"].(string), "发热") {
			t.Fatalf("/me after a fever: %s", me.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"temperature": 50}), 400, "fact_attr_out_of_range")
		e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"symptoms": []string{"headache"}}), 400, "fact_attr_not_allowed")
		e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"mood": "fine"}), 400, "unknown_field")

		// For a dependent, and for nobody else.
		r = e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"person_id": dep, "exposure": true}), 201, "")
		if colorOf(r) != "red" || r.Str("person_id") != dep {
			t.Fatalf("a dependent's declared exposure: %s", r.Raw)
		}
		stranger := e.person(e.Admin(), "路人甲", rid("19700101", 77), "341881001")
		e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"person_id": stranger, "exposure": true}), 404, "")
		mine := e.Want(e.Do("GET", "/api/v1/me/facts?person_id="+dep, tok, nil), 200, "")
		if fs := mine.Body["facts"].([]any); len(fs) != 1 || fs[0].(map[string]any)["label"].(map[string]any)["zh"] != "健康申报" {
			t.Fatalf("dependent's records: %s", mine.Raw)
		}

		// The texts go to the resident's phone, also for the dependent, in Chinese.
		if err := e.App.Status.SendNotifications(ctx); err != nil {
			t.Fatal(err)
		}
		out := e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000021", e.Admin(), nil), 200, "")
		var texts []string
		for _, m := range out.Body["messages"].([]any) {
			if m.(map[string]any)["purpose"] == "status" {
				texts = append(texts, m.(map[string]any)["body"].(string))
			}
		}
		if len(texts) != 2 || !strings.Contains(strings.Join(texts, "\n"), "张*丰的健康码已由绿码转为黄码") ||
			!strings.Contains(strings.Join(texts, "\n"), "张*一的健康码已由绿码转为红码") {
			t.Fatalf("texts: %q", texts)
		}
		e.agree(me.Str("id"))
		e.agree(dep)
	})
}

// watchedDrugOff is the default set without the watched-drug rule.
func watchedDrugOff(t *testing.T) map[string]any {
	t.Helper()
	var set map[string]any
	if err := json.Unmarshal(rules.DefaultJSON(), &set); err != nil {
		t.Fatal(err)
	}
	var rs, ex []any
	for _, r := range set["rules"].([]any) {
		if r.(map[string]any)["id"] != "watched_drug" {
			rs = append(rs, r)
		}
	}
	for _, x := range set["examples"].([]any) {
		if x.(map[string]any)["want_rule"] != "watched_drug" && !strings.Contains(x.(map[string]any)["name"].(string), "medicine") {
			ex = append(ex, x)
		}
	}
	set["rules"], set["examples"] = rs, ex
	return set
}

func TestRuleSetsAreValidatedDryRunAndActivated(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.Admin()
		officer := e.NewOperator("officer", "health_officer", "341881001")
		viewer := e.NewOperator("viewer", "viewer", "341881")

		o := e.Want(e.Do("GET", "/api/v1/admin/rules", viewer, nil), 200, "")
		active := o.Body["active"].(map[string]any)
		if active["version"] != 1.0 || active["rules"] != 18.0 || len(o.Body["activations"].([]any)) != 1 {
			t.Fatalf("a fresh database: %s", o.Raw)
		}

		// Validation failures come back structured.
		bad := map[string]any{"rules": []any{
			map[string]any{"id": "fever", "color": "yellow", "condition": "facts.newest('clinic.fever')", "reason": map[string]any{"zh": "发热", "en": "fever"}},
			map[string]any{"id": "x", "color": "red", "condition": "true", "reason": map[string]any{"zh": "", "en": "x"}},
		}}
		r := e.Want(e.Do("POST", "/api/v1/admin/rules", officer, bad), 400, "rules_invalid")
		problems := r.Body["error"].(map[string]any)["problems"].([]any)
		codes := map[string]string{}
		for _, p := range problems {
			codes[p.(map[string]any)["rule"].(string)] = p.(map[string]any)["code"].(string)
		}
		if codes["fever"] != "type_check" || codes["x"] != "reason_missing" {
			t.Fatalf("problems: %s", r.Raw)
		}
		failing := map[string]any{
			"rules": []any{map[string]any{"id": "fever", "color": "yellow", "condition": "facts.any('clinic.fever')",
				"reason": map[string]any{"zh": "发热门诊", "en": "fever clinic"}}},
			"examples": []any{map[string]any{"name": "a visit", "now": "2022-04-02T00:00:00Z", "want_color": "green",
				"facts": []any{map[string]any{"kind": "clinic.fever", "at": "2022-04-01T00:00:00Z", "attrs": map[string]any{"clinic": "h"}}}}},
		}
		r = e.Want(e.Do("POST", "/api/v1/admin/rules", officer, failing), 400, "rules_invalid")
		if p := r.Body["error"].(map[string]any)["problems"].([]any)[0].(map[string]any); p["code"] != "example_failed" || p["example"] != "a visit" {
			t.Fatalf("failing example: %s", r.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/rules", officer, `{"rules": [], "untill": 1}`), 400, "rules_json")
		e.Want(e.Do("POST", "/api/v1/admin/rules", officer, `{"rules": [{"id": "x", "color": "purple"}]}`), 400, "color_unknown")
		e.Want(e.Do("POST", "/api/v1/admin/rules", viewer, watchedDrugOff(t)), 403, "forbidden")
		if n := e.Count("rule_sets"); n != 1 {
			t.Fatalf("%d rule sets stored after refusals", n)
		}

		// Two towns, each with a person who bought a watched drug.
		now := time.Now()
		var people []string
		for i, town := range []string{"341881001", "341881002"} {
			id := e.person(admin, fmt.Sprintf("测试%d", i), rid("19800101", 40+i), town)
			e.Want(e.fact(admin, id, "pharmacy.purchase", now.Add(-time.Hour), map[string]any{"drug_class": "cough"}), 201, "")
			people = append(people, id)
		}
		v := e.Want(e.Do("POST", "/api/v1/admin/rules", officer, watchedDrugOff(t)), 201, "")
		version := fmt.Sprint(v.Body["version"])
		if version != "2" || v.Body["active"] != false {
			t.Fatalf("created: %s", v.Raw)
		}

		// The dry run sees the officer's town only, and changes nothing.
		dry := e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/dry-run", officer, nil), 200, "")
		tr := dry.Body["transitions"].([]any)
		if dry.Body["evaluated"] != 1.0 || len(tr) != 1 || tr[0].(map[string]any)["from"] != "yellow" || tr[0].(map[string]any)["to"] != "green" || tr[0].(map[string]any)["count"] != 1.0 {
			t.Fatalf("officer's dry run: %s", dry.Raw)
		}
		sample := dry.Body["sample"].([]any)
		if len(sample) != 1 || sample[0].(map[string]any)["person_id"] != people[0] || sample[0].(map[string]any)["masked_name"] != "测*0" {
			t.Fatalf("sample: %s", dry.Raw)
		}
		all := e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/dry-run", admin, nil), 200, "")
		if all.Body["transitions"].([]any)[0].(map[string]any)["count"] != 2.0 {
			t.Fatalf("admin's dry run: %s", all.Raw)
		}
		if c := e.Want(e.Do("GET", "/api/v1/admin/persons/"+people[0], admin, nil), 200, "").Str("color"); c != "yellow" {
			t.Fatalf("the dry run changed a colour: %s", c)
		}
		e.Want(e.Do("POST", "/api/v1/admin/rules/99/dry-run", admin, nil), 404, "rules_version_not_found")

		// Activation: permission, audit, background recompute with progress.
		e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/activate", officer, nil), 403, "forbidden")
		townAdmin := e.NewOperator("townadmin", "admin", "341881001")
		e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/activate", townAdmin, nil), 403, "out_of_scope")
		act := e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/activate", admin, nil), 202, "")
		if job := act.Body["recompute"].(map[string]any); job["state"] != "running" || job["total"] != 2.0 || job["done"] != 0.0 {
			t.Fatalf("activation: %s", act.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/rules/"+version+"/activate", admin, nil), 409, "rules_already_active")
		if err := e.App.Status.RunRecompute(ctx); err != nil {
			t.Fatal(err)
		}
		prog := e.Want(e.Do("GET", "/api/v1/admin/rules/recompute", viewer, nil), 200, "").Body["recompute"].(map[string]any)
		if prog["state"] != "done" || prog["done"] != 2.0 || prog["total"] != 2.0 || prog["changed"] != 2.0 || prog["finished_at"] == nil {
			t.Fatalf("progress: %v", prog)
		}
		for _, id := range people {
			if c := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, admin, nil), 200, "").Str("color"); c != "green" {
				t.Fatalf("after activation: %s", c)
			}
			e.agree(id)
		}
		o = e.Want(e.Do("GET", "/api/v1/admin/rules", viewer, nil), 200, "")
		if o.Body["active"].(map[string]any)["version"] != 2.0 || len(o.Body["activations"].([]any)) != 2 || len(o.Body["versions"].([]any)) != 2 {
			t.Fatalf("after activation: %s", o.Raw)
		}
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=rules:"+version, admin, nil), 200, "")
		actions := map[string]bool{}
		for _, en := range audit.Body["entries"].([]any) {
			actions[en.(map[string]any)["action"].(string)] = true
		}
		if !actions["rules.activate"] || !actions["rules.create"] || !actions["rules.dry_run"] {
			t.Fatalf("audit: %s", audit.Raw)
		}
		got := e.Want(e.Do("GET", "/api/v1/admin/rules/1", viewer, nil), 200, "")
		if len(got.Body["set"].(map[string]any)["rules"].([]any)) != 18 {
			t.Fatalf("version 1: %s", got.Raw)
		}
	})
}

func TestAppealsBothWays(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		xijin := e.NewOperator("xijin", "health_officer", "341881001")
		gangkou := e.NewOperator("gangkou", "health_officer", "341881100")
		now := time.Now()

		tok := e.ResidentToken("13900000031")
		me := e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "赵敏", "id_type": "resident_id", "id_number": rid("19880614", 46), "region": "341881001"}), 201, "").Str("id")
		e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "我是绿码"}), 409, "appeal_not_needed")

		// Red as a close contact; a negative test does not clear that.
		e.Want(e.fact(xijin, me, "contact.close", now.Add(-2*time.Hour), nil), 201, "")
		e.Want(e.fact(xijin, me, "nat.result", now.Add(-time.Hour), map[string]any{"result": "negative"}), 201, "")
		facts := e.Want(e.Do("GET", "/api/v1/me/facts", tok, nil), 200, "").Body["facts"].([]any)
		var testID string
		for _, f := range facts {
			if f.(map[string]any)["kind"] == "nat.result" {
				testID = f.(map[string]any)["id"].(string)
			}
		}
		other := e.person(admin, "钱多", rid("19700101", 12), "341881001")
		r := e.Want(e.fact(admin, other, "nat.result", now.Add(-time.Hour), map[string]any{"result": "negative"}), 201, "")
		_ = r
		otherFacts := e.Want(e.Do("GET", "/api/v1/admin/persons/"+other, admin, nil), 200, "").Body["facts"].([]any)
		e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "不是我", "evidence": []string{otherFacts[0].(map[string]any)["id"].(string)}}), 400, "evidence_invalid")
		e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": ""}), 400, "appeal_reason_invalid")

		a := e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "当天我不在该场所", "evidence": []string{testID}}), 201, "")
		appeal := a.Body["appeal"].(map[string]any)
		if appeal["state"] != "pending" || appeal["auto"] != false || colorOf(a) != "red" || appeal["rule_id"] != "close_contact" {
			t.Fatalf("a negative test does not end a close contact's red: %s", a.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "again"}), 409, "appeal_pending")
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/appeals", gangkou, nil), 200, "").Body["appeals"].([]any)); n != 0 {
			t.Fatalf("another town's officer sees %d appeals", n)
		}
		queue := e.Want(e.Do("GET", "/api/v1/admin/appeals", xijin, nil), 200, "").Body["appeals"].([]any)
		if len(queue) != 1 || queue[0].(map[string]any)["id"] != appeal["id"] {
			t.Fatalf("queue: %v", queue)
		}
		// Reading the queue is reading persons: audited, with whom it showed.
		entries := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=appeals", e.Admin(), nil), 200, "").Body["entries"].([]any)
		if len(entries) != 1 || entries[0].(map[string]any)["action"] != "appeal.list" ||
			!strings.Contains(fmt.Sprint(entries[0].(map[string]any)["detail"]), appeal["person_id"].(string)) {
			t.Fatalf("audit of the queue: %v", entries)
		}
		id := appeal["id"].(string)
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+id+"/decision", gangkou, map[string]any{"decision": "granted"}), 404, "appeal_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+id+"/decision", xijin, map[string]any{"decision": "maybe"}), 400, "decision_invalid")
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+id+"/decision", xijin, map[string]any{"decision": "granted",
			"until": now.Add(-time.Minute)}), 400, "until_invalid")
		// Facts recorded in the same millisecond as a grant are not hidden
		// by it; make sure the ones above are older.
		time.Sleep(5 * time.Millisecond)
		d := e.Want(e.Do("POST", "/api/v1/admin/appeals/"+id+"/decision", xijin, map[string]any{"decision": "granted", "note": "核实无误"}), 200, "")
		granted := d.Body["appeal"].(map[string]any)
		until, _ := time.Parse(time.RFC3339, granted["until"].(string))
		if granted["state"] != "granted" || until.Sub(now) < 7*24*time.Hour-time.Minute || until.Sub(now) > 7*24*time.Hour+time.Minute {
			t.Fatalf("grant: %s", d.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+id+"/decision", xijin, map[string]any{"decision": "rejected", "note": "x"}), 409, "appeal_decided")
		mine := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if mine.Str("color") != "green" || !strings.Contains(mine.Body["reason"].(map[string]any)["zh"].(string), "申诉已通过") {
			t.Fatalf("after the grant: %s", mine.Raw)
		}

		// A fever-clinic visit before that negative test, reported late:
		// recorded after the appeal, it decides as if there were no grant,
		// and the test on record answers it.
		r = e.Want(e.fact(xijin, me, "clinic.fever", now.Add(-90*time.Minute), map[string]any{"clinic": "h-1"}), 201, "")
		if colorOf(r) != "green" {
			t.Fatalf("a late report that a test on record answers: %s", r.Raw)
		}
		// A visit after the test is a new risk: the grant, which answered the
		// contact, does not hide it.
		r = e.Want(e.fact(xijin, me, "clinic.fever", now.Add(-30*time.Minute), map[string]any{"clinic": "h-1"}), 201, "")
		if colorOf(r) != "yellow" || r.Body["status"].(map[string]any)["rule_id"] != "fever_clinic" {
			t.Fatalf("a new visit during the grant: %s", r.Raw)
		}
		// Appealed and granted; then an earlier visit is reported late. The
		// grant answered the later visit, and the early one is answered by
		// the test on record, but the rule, over the facts since the appeal,
		// no longer sees that test: appealing with it clears it at once.
		// The visit above must be recorded before this filing's millisecond,
		// or the grant does not hide it (see below).
		time.Sleep(5 * time.Millisecond)
		a = e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "门诊误登记"}), 201, "")
		time.Sleep(5 * time.Millisecond)
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+a.Body["appeal"].(map[string]any)["id"].(string)+"/decision", xijin, map[string]any{"decision": "granted"}), 200, "")
		r = e.Want(e.fact(xijin, me, "clinic.fever", now.Add(-100*time.Minute), map[string]any{"clinic": "h-2"}), 201, "")
		if colorOf(r) != "yellow" || r.Body["status"].(map[string]any)["rule_id"] != "fever_clinic" {
			t.Fatalf("late report of an earlier visit: %s", r.Raw)
		}
		// Times are kept to the millisecond, and a fact recorded in the
		// appeal's own millisecond counts as recorded since the filing: the
		// late report must come strictly before.
		time.Sleep(5 * time.Millisecond)
		a = e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "就诊后已做核酸", "evidence": []string{testID}}), 201, "")
		appeal = a.Body["appeal"].(map[string]any)
		if appeal["state"] != "granted" || appeal["auto"] != true || appeal["decided_by"] != "system" || colorOf(a) != "green" ||
			!strings.Contains(appeal["note"].(string), "自动通过") {
			t.Fatalf("automatic grant: %s", a.Raw)
		}

		// Rejection: the colour stays.
		tok2 := e.ResidentToken("13900000032")
		me2 := e.Want(e.Do("POST", "/api/v1/me/register", tok2, map[string]any{
			"name": "孙悟", "id_type": "resident_id", "id_number": rid("19920202", 55), "region": "341881001"}), 201, "").Str("id")
		e.Want(e.fact(xijin, me2, "case.confirmed", now.Add(-time.Hour), nil), 201, "")
		a2 := e.Want(e.Do("POST", "/api/v1/me/appeals", tok2, map[string]any{"reason": "误判"}), 201, "").Body["appeal"].(map[string]any)
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+a2["id"].(string)+"/decision", xijin, map[string]any{"decision": "rejected"}), 400, "note_required")
		rej := e.Want(e.Do("POST", "/api/v1/admin/appeals/"+a2["id"].(string)+"/decision", xijin, map[string]any{"decision": "rejected", "note": "病例信息经核实无误"}), 200, "")
		if rej.Body["appeal"].(map[string]any)["state"] != "rejected" {
			t.Fatalf("rejection: %s", rej.Raw)
		}
		if c := e.Want(e.Do("GET", "/api/v1/me", tok2, nil), 200, "").Str("color"); c != "red" {
			t.Fatalf("after a rejection: %s", c)
		}
		list := e.Want(e.Do("GET", "/api/v1/me/appeals", tok2, nil), 200, "").Body["appeals"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["note"] != "病例信息经核实无误" {
			t.Fatalf("my appeals: %v", list)
		}
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/appeals?state=granted", xijin, nil), 200, "").Body["appeals"].([]any)); n != 3 {
			t.Fatalf("%d granted appeals", n)
		}
		e.Want(e.Do("GET", "/api/v1/admin/appeals?state=lost", xijin, nil), 400, "state_invalid")
		e.agree(me)
		e.agree(me2)
	})
}

// TestAppealGrantAnswersTheAppealItWasFiledAgainst is issue 13's parent: she
// appealed a yellow from a fever declaration; before the appeal was decided
// a tracing run made her a close contact of a case. Granting the old appeal
// clears the fever, not the contact.
func TestAppealGrantAnswersTheAppealItWasFiledAgainst(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("shen", "health_officer", "341881001")
		now := time.Now()
		tok := e.ResidentToken("13900000041")
		me := e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "沈青", "id_type": "resident_id", "id_number": rid("19860304", 41), "region": "341881001"}), 201, "").Str("id")
		d := e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"temperature": 38.2}), 201, "")
		if colorOf(d) != "yellow" {
			t.Fatalf("a fever declaration: %s", d.Raw)
		}
		a := e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "体温计坏了"}), 201, "").Body["appeal"].(map[string]any)
		if a["rule_id"] != "declared_illness" {
			t.Fatalf("appeal: %v", a)
		}
		time.Sleep(5 * time.Millisecond) // the contact is recorded after the filing, not in its millisecond
		r := e.Want(e.fact(officer, me, "contact.close", now.Add(-time.Hour), map[string]any{"case_person": "p-case"}), 201, "")
		if colorOf(r) != "red" {
			t.Fatalf("the contact: %s", r.Raw)
		}
		rv := e.Want(e.Do("GET", "/api/v1/admin/appeals/"+a["id"].(string)+"/review", officer, nil), 200, "")
		named, current, after := rv.Body["named"].(map[string]any), rv.Body["current"].(map[string]any), rv.Body["after"].(map[string]any)
		if named["rule_id"] != "declared_illness" || named["color"] != "yellow" || current["rule_id"] != "close_contact" ||
			current["color"] != "red" || rv.Body["changed"] != true || after["color"] != "red" {
			t.Fatalf("review: %s", rv.Raw)
		}
		since := rv.Body["since"].([]any)
		if len(since) != 1 || since[0].(map[string]any)["kind"] != "contact.close" {
			t.Fatalf("recorded since the appeal: %v", since)
		}
		clears, keeps := rv.Body["clears"].([]any), rv.Body["keeps"].([]any)
		if len(clears) != 1 || clears[0].(map[string]any)["rule_id"] != "declared_illness" ||
			len(keeps) != 1 || keeps[0].(map[string]any)["rule_id"] != "close_contact" || keeps[0].(map[string]any)["later"] != true {
			t.Fatalf("what a grant would clear: %v, keep: %v", clears, keeps)
		}
		e.Want(e.Do("GET", "/api/v1/admin/appeals/nope/review", officer, nil), 404, "appeal_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/appeals/"+a["id"].(string)+"/decision", officer, map[string]any{"decision": "granted", "note": "体温复测正常"}), 200, "")
		st := e.Want(e.Do("GET", "/api/v1/admin/persons/"+me, officer, nil), 200, "")
		if st.Str("color") != "red" || st.Str("rule_id") != "close_contact" {
			t.Fatalf("the grant hid a contact recorded after the appeal: %s", st.Raw)
		}
		e.agree(me)
	})
}

func TestStatsPerTown(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		now := time.Now()
		towns := map[string][]string{"341881001": {"green", "yellow", "red"}, "341881002": {"green", "green"}}
		seq := 0
		for town, colours := range towns {
			for _, c := range colours {
				seq++
				id := e.person(admin, fmt.Sprintf("统计%d", seq), rid("19750505", seq), town)
				switch c {
				case "yellow":
					e.Want(e.fact(admin, id, "clinic.fever", now, map[string]any{"clinic": "h"}), 201, "")
				case "red":
					e.Want(e.fact(admin, id, "case.confirmed", now, nil), 201, "")
				}
			}
		}
		st := e.Want(e.Do("GET", "/api/v1/admin/stats", admin, nil), 200, "")
		byTown := map[string]map[string]any{}
		for _, t := range st.Body["towns"].([]any) {
			byTown[t.(map[string]any)["region"].(string)] = t.(map[string]any)
		}
		x := byTown["341881001"]
		if x["registered"] != 3.0 || x["green"] != 1.0 || x["yellow"] != 1.0 || x["red"] != 1.0 || x["name"] != "安徽省宣城市宁国市西津街道" {
			t.Fatalf("town 001: %s", st.Raw)
		}
		if y := byTown["341881002"]; y["registered"] != 2.0 || y["green"] != 2.0 {
			t.Fatalf("town 002: %s", st.Raw)
		}
		if tot := st.Body["total"].(map[string]any); tot["registered"] != 5.0 || tot["red"] != 1.0 {
			t.Fatalf("total: %s", st.Raw)
		}
		scoped := e.Want(e.Do("GET", "/api/v1/admin/stats", e.NewOperator("hezhen", "viewer", "341881002"), nil), 200, "")
		if ts := scoped.Body["towns"].([]any); len(ts) != 1 || ts[0].(map[string]any)["region"] != "341881002" {
			t.Fatalf("scoped stats: %s", scoped.Raw)
		}
	})
}

// TestWorkersChangeColoursWithoutRequests runs the server's background
// workers: an isolation order ending turns the person green, and the text
// about it is sent, with no request doing it.
func TestWorkersChangeColorsWithoutRequests(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		tok := e.ResidentToken("13900000041")
		id := e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "周到", "id_type": "resident_id", "id_number": rid("19660606", 66), "region": "341881001"}), 201, "").Str("id")
		now := time.Now()
		r := e.Want(e.Do("POST", "/api/v1/admin/facts", e.Admin(), map[string]any{"person_id": id, "kind": "isolation",
			"at": now.Add(-time.Hour), "until": now.Add(1500 * time.Millisecond), "attrs": map[string]any{"mode": "home"}}), 201, "")
		if colorOf(r) != "red" {
			t.Fatalf("isolation: %s", r.Raw)
		}
		e.App.Start(ctx)
		deadline := time.Now().Add(20 * time.Second)
		for {
			me := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
			out := e.Want(e.Do("GET", "/api/v1/admin/outbox?to=13900000041", e.Admin(), nil), 200, "")
			texts := 0
			for _, m := range out.Body["messages"].([]any) {
				if m.(map[string]any)["purpose"] == "status" && strings.Contains(m.(map[string]any)["body"].(string), "由红码转为绿码") {
					texts++
				}
			}
			if me.Str("color") == "green" && texts == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("20 s after the order ended: %s, %d texts", me.Str("color"), texts)
			}
			time.Sleep(100 * time.Millisecond)
		}
		e.agree(id)
	})
}
