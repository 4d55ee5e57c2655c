package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/nat"
)

// TestNoServerErrorOnBadInput sends every route of the OpenAPI document, with
// every kind of credential that reaches it, a battery of bad input: broken
// bodies, wrong types, huge values, bad path ids and query parameters, wrong
// content types. Every answer must be below 500 and, when it is an error, the
// {"error":{"code","message"}} body; a refused request must write nothing.
func TestNoServerErrorOnBadInput(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		fx := e.robustFixtures()
		b := &battery{e: e, fx: fx, fields: map[string][]string{}, bigSent: map[string]bool{}, client: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		routes := e.documentedRoutes()
		if len(routes) < 80 {
			t.Fatalf("the OpenAPI document lists %d routes", len(routes))
		}
		// Colour changes of the fixtures open their grid follow-up in the
		// background: let it catch up before counting rows.
		for range 10 {
			if n, err := e.App.Tracing.FollowChanges(t.Context()); err != nil {
				t.Fatal(err)
			} else if n == 0 {
				break
			}
		}
		before := e.rowCounts()
		start := time.Now()
		for _, rt := range routes {
			b.route(rt)
		}
		b.templates()
		if after := e.rowCounts(); !maps.Equal(before, after) {
			for _, tbl := range robustTables {
				if before[tbl] != after[tbl] {
					t.Errorf("refused requests wrote to %s: %d rows before, %d after", tbl, before[tbl], after[tbl])
				}
			}
		}
		t.Logf("%d requests over %d routes in %v", b.sent, len(routes), time.Since(start).Round(time.Millisecond))
	})
}

// robustTables are the tables a refused request must leave alone. The audit
// log is not among them (a refused lookup of a person may well be audited),
// nor nat_uploads, the log of lab files, which keeps a file none of whose
// lines was good.
var robustTables = []string{"accounts", "persons", "dependents", "facts", "status", "appeals", "venues", "venue_tokens",
	"units", "checkpoints", "api_keys", "operators", "sessions", "sms_outbox", "care_codes", "checkins", "verifications",
	"nat_sites", "nat_tubes", "nat_samples", "nat_results", "nat_transfers", "nat_alerts", "nat_tasks", "nat_tested", "nat_negative_hours", "nat_swabs",
	"tracing_runs", "followup_tasks", "rule_sets", "rule_activations", "status_changes", "notifications",
	"orgs", "unit_accounts", "drug_classes", "pharmacy_purchases", "manager_requests"}

func (e *env) rowCounts() map[string]int {
	out := map[string]int{}
	for _, tbl := range robustTables {
		out[tbl] = e.Count(tbl)
	}
	return out
}

// documentedRoute is one operation of the OpenAPI document.
type documentedRoute struct {
	method, path, summary string
	params                []string // path parameters, in order
	query                 []string // query parameters
}

var pathParamRe = regexp.MustCompile(`\{([a-z_]+)\}`)

func (e *env) documentedRoutes() []documentedRoute {
	e.t.Helper()
	res, body := e.Get("/api/v1/openapi.json")
	if res.StatusCode != 200 {
		e.t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Summary    string `json:"summary"`
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		e.t.Fatal(err)
	}
	var out []documentedRoute
	for path, ops := range doc.Paths {
		for method, op := range ops {
			rt := documentedRoute{method: strings.ToUpper(method), path: path, summary: op.Summary}
			for _, m := range pathParamRe.FindAllStringSubmatch(path, -1) {
				rt.params = append(rt.params, m[1])
			}
			for _, p := range op.Parameters {
				if p.In == "query" {
					rt.query = append(rt.query, p.Name)
				}
			}
			out = append(out, rt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// cred is one way of calling: no credential, a session or an API key.
type cred struct{ name, token string }

// robustFixtures is a small world with one object of every kind, so that
// bad input can use real ids of other kinds and routes with two ids can be
// reached with one of them valid.
type robustFixtures struct {
	creds     []cred
	ids       map[string]string // kind → a valid id
	resident  string            // token of the resident who owns "self" and "dependent"
	unreg     string            // a resident logged in who has not registered
	companion string            // token of a yellow resident (for appeals)
	admin     string
	apiKey    string
	code      string // the resident's dynamic code
}

func (e *env) robustFixtures() *robustFixtures {
	t := e.t
	t.Helper()
	admin := e.Admin()
	fx := &robustFixtures{admin: admin, ids: map[string]string{}}
	roles := map[string]string{}
	for _, r := range auth.Roles {
		if r == auth.Admin {
			continue
		}
		role := string(r)
		roles[role] = e.NewOperator("robust_"+role, role, "341881")
	}
	ops := e.Want(e.Do("GET", "/api/v1/admin/operators", admin, nil), 200, "").Body["operators"].([]any)
	fx.ids["operator"] = ops[len(ops)-1].(map[string]any)["id"].(string)

	venueID, venueTok := e.Venue(admin, "津城饭店", "restaurant", "341881001")
	fx.ids["venue"], fx.ids["venue_token"] = venueID, venueTok
	tok, self := e.Resident("13900000901", "陈病例", rid("19750101", 901), "341881001")
	fx.resident, fx.ids["self"] = tok, self
	dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
		"name": "陈小宝", "id_type": "resident_id", "id_number": rid("20160101", 902), "relation": "child"}), 201, "").Str("id")
	fx.ids["dependent"] = dep
	compTok, comp := e.Resident("13900000903", "林同行", rid("19760101", 903), "341881002")
	fx.companion, fx.ids["person"] = compTok, comp
	fx.unreg = e.ResidentToken("13900000904")
	fx.ids["manager_request"] = e.Want(e.Do("POST", "/api/v1/me/dependents", compTok, map[string]any{
		"name": "陈小宝", "id_type": "resident_id", "id_number": rid("20160101", 902), "relation": "relative"}), 202, "").Str("id")

	// A tracing run that finds the companion gives a run and a task.
	e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": venueTok}), 201, "")
	e.Want(e.Do("POST", "/api/v1/checkins", compTok, map[string]any{"venue_token": venueTok}), 201, "")
	e.Want(e.Do("POST", "/api/v1/admin/facts", admin, map[string]any{"person_id": self, "kind": "case.confirmed",
		"at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)}), 201, "")
	run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{self}}), 202, "").Str("id")
	fx.ids["run"] = run
	if done := e.waitRun(admin, run); done.Str("status") != "done" {
		t.Fatalf("tracing run: %s", done.Raw)
	}
	tasks := e.Want(e.Do("GET", "/api/v1/admin/tasks", admin, nil), 200, "").Body["tasks"].([]any)
	if len(tasks) == 0 {
		t.Fatal("the tracing run made no task")
	}
	fx.ids["task"] = tasks[0].(map[string]any)["id"].(string)
	fx.ids["appeal"] = e.Want(e.Do("POST", "/api/v1/me/appeals", compTok, map[string]any{"reason": "当天我不在该场所"}), 201, "").
		Body["appeal"].(map[string]any)["id"].(string)

	// Tests: the dependent's negative, a positive single tube (an alert), a
	// transfer of a sealed tube.
	site := e.Want(e.Do("POST", "/api/v1/admin/sites", admin, map[string]any{"name": "西津采样点", "address": "宁国市西津街道",
		"lat": 30.633, "lng": 118.983, "region": "341881001"}), 201, "").Str("id")
	fx.ids["site"] = site
	// An import of a case list naming nobody registered: a report, no fact.
	fx.ids["import"] = e.Want(e.Send("POST", "/api/v1/admin/imports?kind=cases&source=police", admin, "text/csv",
		"id_number,at,case_id\n"+rid("19760101", 990)+",2022-04-01 10:00,NG-1\n"), 201, "").Str("id")
	tube := func(barcode string, sample map[string]any, result string) {
		t.Helper()
		e.Want(e.Do("POST", "/api/v1/nat/tubes", admin, map[string]any{"barcode": barcode, "capacity": 1, "site_id": site}), 201, "")
		e.Want(e.Do("POST", "/api/v1/nat/tubes/"+barcode+"/samples", admin, sample), 201, "")
		e.Want(e.Do("POST", "/api/v1/nat/tubes/"+barcode+"/seal", admin, nil), 200, "")
		if result != "" {
			e.Want(e.Do("POST", "/api/v1/nat/results", admin, map[string]any{"barcode": barcode, "result": result}), 201, "")
		}
	}
	tube("R0000001", map[string]any{"id_type": "resident_id", "id_number": rid("20160101", 902)}, "negative")
	fx.code = e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
	tube("R0000002", map[string]any{"code": fx.code}, "negative")
	tube("R0000003", map[string]any{"id_type": "resident_id", "id_number": rid("19760101", 903)}, "positive")
	tube("R0000004", map[string]any{"id_type": "resident_id", "id_number": rid("19750101", 901)}, "")
	fx.ids["barcode"] = "R0000004"
	e.Want(e.Do("POST", "/api/v1/nat/tubes", admin, map[string]any{"barcode": "R0000005", "capacity": 5, "site_id": site}), 201, "")
	fx.ids["transfer"] = e.Want(e.Do("POST", "/api/v1/nat/transfers", admin, map[string]any{"barcodes": []string{"R0000004"}, "lab": "宣城疾控"}), 201, "").Str("id")
	alerts := e.Want(e.Do("GET", "/api/v1/admin/nat/alerts", admin, nil), 200, "").Body["alerts"].([]any)
	if len(alerts) == 0 {
		t.Fatal("a positive single tube raised no alert")
	}
	fx.ids["alert"] = alerts[0].(map[string]any)["id"].(string)
	for _, x := range e.Want(e.Do("GET", "/api/v1/me/tests", tok, nil), 200, "").Body["tests"].([]any) {
		if x.(map[string]any)["certificate"] == true {
			fx.ids["test"] = x.(map[string]any)["id"].(string)
		}
	}
	fx.ids["dep_test"] = e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/tests", tok, nil), 200, "").Body["tests"].([]any)[0].(map[string]any)["id"].(string)
	fx.ids["fact"] = e.Want(e.Do("GET", "/api/v1/me/facts", tok, nil), 200, "").Body["facts"].([]any)[0].(map[string]any)["id"].(string)
	fx.ids["care"] = e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-code", tok, nil), 201, "").Str("id")

	cp := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "西津卡口", "region": "341881001"}), 201, "")
	fx.ids["checkpoint"], fx.apiKey = cp.Str("id"), cp.Str("api_key")
	fx.ids["version"] = "1"
	fx.ids["region"] = "341881001"

	// The gateway: a pharmacy with a key (limits high enough for the
	// battery) and a unit account, each also a credential.
	fx.ids["org"] = e.org(admin, "pharmacy", "西津大药房", "MA2N7T9R", "341881001")
	orgKey := e.Want(e.Do("POST", "/api/v1/admin/orgs/"+fx.ids["org"]+"/keys", admin, map[string]any{"name": "收银台",
		"scopes": []string{"scan", "scan_id", "pharmacy.purchase"}, "daily_quota": 100_000_000, "rate_per_minute": 1_000_000}), 201, "")
	fx.ids["org_key"] = orgKey.Str("id")
	fx.ids["unit_account"] = e.Want(e.Do("POST", "/api/v1/admin/orgs/"+fx.ids["org"]+"/accounts", admin, map[string]any{
		"username": "xijin.pharmacy", "password": "a long password", "admin": true}), 201, "").Str("id")
	// The scenarios: a ride-hailing platform residents share handles with,
	// a fever clinic's visit to close.
	fx.ids["platform"] = e.org(admin, "ride_hailing", "宁国畅行网约车平台", "MA2N8Q3C", "341881002")
	clinic := e.org(admin, "fever_clinic", "宁国市人民医院发热门诊", "48572011", "341881001")
	_, clinicKey := e.orgKey(admin, clinic, map[string]any{"name": "HIS", "scopes": []string{"scan", "clinic.fever"}})
	fx.ids["visit"] = e.Want(e.Do("POST", "/gateway/v1/clinic/visits", clinicKey, map[string]any{"subject": e.scan(clinicKey, tok),
		"temperature": 38.0, "doctor": "刘医生"}), 201, "").Str("id")
	// A service hall residents book and whose terminal asks a resident to
	// sign in.
	fx.ids["place"] = e.org(admin, "service_hall", "宁国市政务服务中心", "MA2NA05F", "341881001")
	_, hallKey := e.orgKey(admin, fx.ids["place"], map[string]any{"name": "取号机", "scopes": []string{"scan", "hall.queue", "hall.terminal",
		"booking.slots"}})
	fx.ids["hall_login"] = e.Want(e.Do("POST", "/gateway/v1/hall/logins", hallKey, map[string]any{}), 201, "").Str("id")
	hallSlot := e.Want(e.Do("POST", "/gateway/v1/booking/slots", hallKey, map[string]any{"starts_at": time.Now().Add(48 * time.Hour),
		"ends_at": time.Now().Add(50 * time.Hour), "capacity": 10}), 201, "").Str("id")
	fx.ids["booking"] = e.Want(e.Do("POST", "/api/v1/me/bookings", tok, map[string]any{"slot_id": hallSlot}), 201, "").Str("id")
	visitor, _ := e.Resident("13900000991", "韩梅", rid("19900101", 991), "341881001") // green: the resident above is red
	fx.ids["hall_ticket"] = e.Want(e.Do("POST", "/gateway/v1/hall/tickets", hallKey, map[string]any{"code": e.myCode(visitor),
		"service": "户籍办理"}), 201, "").Str("id")
	// A vaccination site with a slot, and an appointment of the resident.
	fx.ids["vac_site"] = e.Want(e.Do("POST", "/api/v1/admin/vaccination/sites", admin, map[string]any{"name": "西津接种点",
		"address": "宁国市西津街道", "lat": 30.63, "lng": 118.98, "region": "341881001"}), 201, "").Str("id")
	vac := e.Want(e.Do("POST", "/api/v1/admin/vaccination/vaccines", admin, map[string]any{"name": "克尔来福", "maker": "科兴",
		"doses": 2, "interval_days": 21}), 201, "").Str("id")
	slotAt := time.Now().Add(72 * time.Hour).Truncate(time.Hour)
	slot := e.Want(e.Do("POST", "/api/v1/admin/vaccination/slots", admin, map[string]any{"site_id": fx.ids["vac_site"], "vaccine_id": vac,
		"starts_at": slotAt, "ends_at": slotAt.Add(30 * time.Minute), "capacity": 50}), 201, "").Str("id")
	fx.ids["appointment"] = e.Want(e.Do("POST", "/api/v1/me/appointments", tok, map[string]any{"slot_id": slot}), 201, "").Str("id")
	// A risk area in force.
	fx.ids["risk_area"] = e.Want(e.Do("POST", "/api/v1/admin/risk-areas", admin, map[string]any{"region": "341881001", "level": "medium",
		"from": time.Now().Add(-time.Hour), "until": time.Now().Add(72 * time.Hour)}), 201, "").Str("id")
	// The cold chain: a batch passed on to a cold store, whose positive
	// sample opened tasks.
	imp := e.org(admin, "importer", "宁国进出口", "CC200001", "341881001")
	_, impKey := e.orgKey(admin, imp, map[string]any{"name": "ERP", "scopes": []string{"coldchain.batch", "coldchain.move"}})
	store := e.org(admin, "cold_store", "宁国冷库", "CC200002", "341881001")
	_, storeKey := e.orgKey(admin, store, map[string]any{"name": "WMS", "scopes": []string{"coldchain.move", "coldchain.inspect", "coldchain.tasks"},
		"daily_quota": 100_000_000, "rate_per_minute": 1_000_000})
	batch := e.Want(e.Do("POST", "/gateway/v1/coldchain/batches", impKey, map[string]any{"product": "冻带鱼", "origin_country": "BR",
		"port": "上海洋山港", "declaration": "220120221000123456", "quantity": 10}), 201, "")
	fx.ids["cc_batch"], fx.ids["cc_code"] = batch.Str("id"), batch.Str("code")
	e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", impKey, map[string]any{"batch_code": fx.ids["cc_code"], "to": store, "quantity": 4}), 201, "")
	trace := e.Want(e.Do("POST", "/gateway/v1/coldchain/inspections", storeKey, map[string]any{"batch_code": fx.ids["cc_code"], "kind": "goods",
		"result": "positive"}), 201, "")
	fx.ids["cc_inspection"] = trace.Body["inspection"].(map[string]any)["id"].(string)
	fx.ids["cc_task"] = trace.Body["tasks"].([]any)[0].(map[string]any)["id"].(string)
	// A bus operator with a key and a bus.
	bus := e.org(admin, "bus", "宁国公交", "BU300003", "341881001")
	_, busKey := e.orgKey(admin, bus, map[string]any{"name": "调度", "scopes": []string{"scan", "transport"},
		"daily_quota": 100_000_000, "rate_per_minute": 1_000_000})
	fx.ids["vehicle"] = e.Want(e.Do("POST", "/gateway/v1/transport/vehicles", busKey, map[string]any{"plate": "皖P·A9001", "route": "9路"}), 201, "").Str("id")
	// An employer and a school, each with a key.
	emp := e.org(admin, "employer", "宁国中溪机械", "MA2N9T7C", "341881001")
	_, empKey := e.orgKey(admin, emp, map[string]any{"name": "门禁", "scopes": []string{"scan", "employer.staff"},
		"daily_quota": 100_000_000, "rate_per_minute": 1_000_000})
	sch := e.org(admin, "school", "宁国津河小学", "MA2N9T8D", "341881001")
	_, schKey := e.orgKey(admin, sch, map[string]any{"name": "校门", "scopes": []string{"scan", "school.check"},
		"daily_quota": 100_000_000, "rate_per_minute": 1_000_000})
	fx.ids["class"] = e.Want(e.Do("POST", "/gateway/v1/school/classes", schKey, map[string]any{"name": "一年级（1）班"}), 201, "").Str("id")
	isoSite := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites", admin, map[string]any{"kind": "hotel", "name": "津城隔离酒店",
		"region": "341881001"}), 201, "").Str("id")
	room := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites/"+isoSite+"/rooms", admin, map[string]any{"number": "101", "capacity": 2}), 201, "").Str("id")
	_, isolated := e.Resident("13900000931", "隔离者", rid("19760101", 931), "341881001")
	fx.ids["iso_site"] = isoSite
	fx.ids["iso_stay"] = e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", admin, map[string]any{"site_id": isoSite, "room_id": room,
		"person_id": isolated, "reason": "inbound", "days": 7}), 201, "").Str("id")
	fx.ids["iso_transfer"] = e.Want(e.Do("POST", "/api/v1/admin/transfers", admin, map[string]any{"person_id": isolated, "origin": "西津街道",
		"dest_site_id": isoSite, "vehicle": "皖P·12345"}), 201, "").Str("id")
	fx.ids["ticket"] = e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", admin, map[string]any{"category": "wrong_color",
		"summary": "来电称健康码颜色有误", "person_id": self}), 201, "").Str("id")
	unitToken, _, err := e.App.Auth.UnitLogin(context.Background(), "xijin.pharmacy", "a long password")
	if err != nil {
		t.Fatal(err)
	}

	fx.creds = []cred{{"none", ""}, {"bogus", "hc_r_notarealtoken"}, {"resident", tok}, {"unregistered", fx.unreg},
		{"admin", admin}}
	for _, role := range []string{"health_officer", "sampler", "lab", "viewer"} {
		fx.creds = append(fx.creds, cred{role, roles[role]})
	}
	fx.creds = append(fx.creds, cred{"api_key", fx.apiKey}, cred{"org_key", orgKey.Str("api_key")}, cred{"unit", unitToken},
		cred{"holder_key", storeKey}, cred{"employer_key", empKey}, cred{"school_key", schKey}, cred{"hall_key", hallKey}, cred{"bus_key", busKey})
	return fx
}

// paramKinds says which fixture ids are right for a path parameter; every
// other kind is a wrong id for it. A new route with a parameter not listed
// here fails the test until it is added.
func paramKinds(path, param string) []string {
	switch {
	case param == "code" && strings.HasPrefix(path, "/api/v1/regions/"):
		return []string{"region"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/me/dependents/"):
		return []string{"dependent"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/me/manager-requests/"):
		return []string{"manager_request"}
	case param == "cid":
		return []string{"care"}
	case param == "test" && strings.HasPrefix(path, "/api/v1/me/dependents/"):
		return []string{"dep_test"}
	case param == "test":
		return []string{"test"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/persons/"):
		return []string{"self", "dependent", "person"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/venues/"):
		return []string{"venue"}
	case param == "token" && strings.HasPrefix(path, "/api/v1/venues/"):
		return []string{"venue_token"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/checkpoints/"):
		return []string{"checkpoint"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/tracing/"):
		return []string{"run"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/tasks/"):
		return []string{"task"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/care-codes/"):
		return []string{"care"}
	case param == "id" && (strings.HasPrefix(path, "/api/v1/sites/") || strings.HasPrefix(path, "/api/v1/admin/sites/")):
		return []string{"site"}
	case param == "barcode":
		return []string{"barcode"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/nat/transfers/"):
		return []string{"transfer"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/nat/alerts/"):
		return []string{"alert"}
	case param == "version":
		return []string{"version"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/appeals/"):
		return []string{"appeal"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/orgs/"):
		return []string{"org"}
	case param == "key" && strings.HasPrefix(path, "/api/v1/admin/orgs/"):
		return []string{"org_key"}
	case param == "account":
		return []string{"unit_account"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/me/platforms/"):
		return []string{"platform"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/me/bookings/"):
		return []string{"booking"}
	case param == "id" && (strings.HasPrefix(path, "/gateway/v1/hall/tickets/") || strings.HasPrefix(path, "/api/v1/me/hall/tickets/")):
		return []string{"hall_ticket"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/booking/places/"):
		return []string{"place"}
	case param == "id" && (strings.HasPrefix(path, "/gateway/v1/hall/logins/") || strings.HasPrefix(path, "/api/v1/me/hall/logins/")):
		return []string{"hall_login"}
	case param == "id" && strings.HasPrefix(path, "/gateway/v1/clinic/visits/"):
		return []string{"visit"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/vaccination/sites/"):
		return []string{"vac_site"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/me/appointments/"):
		return []string{"appointment"}
	case param == "code" && strings.HasPrefix(path, "/api/v1/coldchain/batches/"):
		return []string{"cc_code"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/isolation/sites/"):
		return []string{"iso_site"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/isolation/stays/"):
		return []string{"iso_stay"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/transfers/"):
		return []string{"iso_transfer"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/hotline/tickets/"):
		return []string{"ticket"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/coldchain/batches/"):
		return []string{"cc_batch"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/coldchain/inspections/"):
		return []string{"cc_inspection"}
	case param == "id" && strings.HasPrefix(path, "/gateway/v1/coldchain/tasks/"):
		return []string{"cc_task"}
	case param == "id" && strings.HasPrefix(path, "/gateway/v1/school/classes/"):
		return []string{"class"}
	case param == "id" && strings.HasPrefix(path, "/gateway/v1/transport/vehicles/"):
		return []string{"vehicle"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/risk-areas/"):
		return []string{"risk_area"}
	case param == "id" && strings.HasPrefix(path, "/api/v1/admin/imports/"):
		return []string{"import"}
	}
	return nil
}

// oddIDs are path segments no route knows (already escaped for a URL).
var oddIDs = []string{
	"Qx7vN2pLm9aR4tYw",                          // random
	strings.Repeat("a", 4000),                   // too long
	url.PathEscape("'; DROP TABLE persons; --"), // SQL
	"%ff%fe%00",                                 // invalid UTF-8 and a NUL
	url.PathEscape("😀<script>\u202e"),           // odd characters
	"..%2f..%2fetc%2fpasswd",
	"-1", "0", "99999999999999999999999", "1e9", "%20", "null",
}

type battery struct {
	e       *env
	fx      *robustFixtures
	client  *http.Client
	sent    int
	fields  map[string][]string // route → the fields its body holds
	bigSent map[string]bool     // routes sent a file over the upload limit
}

type request struct {
	method, path, query string
	ctype               string
	body                []byte
	token               string
	what                string // what the battery meant, for failures
}

// send makes the request and checks the answer: below 500, and an error in
// the documented shape.
func (b *battery) send(r request) (status int, code, message string) {
	t := b.e.t
	t.Helper()
	b.sent++
	u := b.e.URL + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, u, body)
	if err != nil {
		t.Fatalf("%s: %v", r.what, err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s (%s): %v", r.method, r.path, r.what, err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	where := fmt.Sprintf("%s %s?%.80s (%s)", r.method, trunc(r.path, 120), r.query, r.what)
	if res.StatusCode >= 500 {
		t.Errorf("%s: %d %s", where, res.StatusCode, trunc(string(raw), 300))
		return res.StatusCode, "", ""
	}
	if res.StatusCode < 400 {
		// A success says something: only 204 (and a redirect) may be empty.
		if len(raw) == 0 && res.StatusCode != http.StatusNoContent && res.StatusCode < 300 {
			t.Errorf("%s: %d with an empty body", where, res.StatusCode)
		}
		return res.StatusCode, "", ""
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	var eb struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if mt != "application/json" || json.Unmarshal(raw, &eb) != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Errorf("%s: %d answered %q %s, not a JSON error", where, res.StatusCode, res.Header.Get("Content-Type"), trunc(string(raw), 200))
		return res.StatusCode, "", ""
	}
	if eb.Error.Code == "internal" {
		t.Errorf("%s: %d internal", where, res.StatusCode)
	}
	return res.StatusCode, eb.Error.Code, eb.Error.Message
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// expandPath fills the path parameters: bad replaces the one at index i,
// the others take valid ids.
func (b *battery) expandPath(rt documentedRoute, i int, bad string) string {
	p := rt.path
	for j, name := range rt.params {
		v := bad
		if j != i {
			kinds := paramKinds(rt.path, name)
			if kinds == nil {
				b.e.t.Fatalf("%s %s: add the kind of {%s} to paramKinds", rt.method, rt.path, name)
			}
			v = url.PathEscape(b.fx.ids[kinds[0]])
		}
		p = strings.Replace(p, "{"+name+"}", v, 1)
	}
	return p
}

// badPaths are the route's path with one parameter wrong: an odd segment or
// the id of an object of another kind.
func (b *battery) badPaths(rt documentedRoute) []string {
	if len(rt.params) == 0 {
		return []string{rt.path}
	}
	var out []string
	for i, name := range rt.params {
		right := paramKinds(rt.path, name)
		if right == nil {
			b.e.t.Fatalf("%s %s: add the kind of {%s} to paramKinds", rt.method, rt.path, name)
		}
		for _, id := range oddIDs {
			out = append(out, b.expandPath(rt, i, id))
		}
		var rightIDs []string
		for _, kind := range right {
			rightIDs = append(rightIDs, b.fx.ids[kind])
		}
		for _, kind := range slices.Sorted(maps.Keys(b.fx.ids)) {
			// Some ids are counters: another kind's may equal this kind's.
			if !slices.Contains(right, kind) && !slices.Contains(rightIDs, b.fx.ids[kind]) {
				out = append(out, b.expandPath(rt, i, url.PathEscape(b.fx.ids[kind])))
			}
		}
	}
	return out
}

// validPath fills every parameter with a valid id.
func (b *battery) validPath(rt documentedRoute) string { return b.expandPath(rt, -1, "") }

const ctJSON = "application/json"

// isCSV reports whether a route takes a text/csv body.
func isCSV(rt documentedRoute) bool { return strings.Contains(rt.summary, "text/csv") }

// logout ends sessions, so it only meets credentials the battery can spare.
func isLogout(rt documentedRoute) bool { return rt.path == "/api/v1/auth/logout" }

// acceptsBadValues are routes whose answer to a bad value is a 200 by
// design: an invalid code is a verification result, a CSV file gets a
// per-line report.
func acceptsBadValues(rt documentedRoute) bool {
	return rt.path == "/api/v1/verify" || isCSV(rt)
}

func (b *battery) route(rt documentedRoute) {
	creds := b.fx.creds
	if isLogout(rt) {
		creds = creds[:2]
	}
	bad := b.badPaths(rt)
	reached, public := 0, false
	for _, c := range creds {
		// The first bad path with a malformed body tells whether the
		// credential gets past authentication.
		probe := request{method: rt.method, path: bad[0], token: c.token, what: "probe as " + c.name}
		if rt.method != "GET" {
			probe.ctype, probe.body = ctJSON, []byte(`{"a":`)
		}
		status, _, _ := b.send(probe)
		if status == 401 || status == 403 {
			continue
		}
		reached++
		// Public routes never read the credential (a bogus one gets
		// through): the first is enough.
		if c.name == "bogus" {
			public = true
		}
		if public && reached > 1 {
			continue
		}
		b.paths(rt, c, bad)
		if rt.method == "GET" {
			b.queries(rt, c)
		} else {
			b.bodies(rt, c, bad[0])
		}
	}
	if reached == 0 && !isLogout(rt) {
		b.e.t.Errorf("%s %s: no credential of the battery reaches it", rt.method, rt.path)
	}
}

// paths sends every bad path; a request that changes state must be refused.
func (b *battery) paths(rt documentedRoute, c cred, bad []string) {
	if len(rt.params) == 0 {
		return
	}
	for _, p := range bad {
		r := request{method: rt.method, path: p, token: c.token, what: "bad path id as " + c.name}
		if rt.method != "GET" {
			r.ctype, r.body = ctJSON, []byte(`{}`)
			if isCSV(rt) {
				r.ctype, r.body = "text/csv", []byte("")
			}
		}
		status, _, _ := b.send(r)
		if rt.method != "GET" && status < 400 && !acceptsBadValues(rt) {
			b.e.t.Errorf("%s %s as %s: %d for a bad path id", rt.method, trunc(p, 100), c.name, status)
		}
	}
}

// badBodies are bodies no JSON route accepts, with the error code decode
// gives for them.
var badBodies = []struct {
	what, ctype, body, code string
}{
	{"empty body", ctJSON, "", "empty_body"},
	{"empty body, no content type", "", "", "empty_body"},
	{"truncated JSON", ctJSON, `{"a":`, "invalid_json"},
	{"malformed JSON", ctJSON, `{,}`, "invalid_json"},
	{"not JSON", ctJSON, `hello`, "invalid_json"},
	{"JSON array", ctJSON, `[]`, "invalid_json"},
	{"JSON array of an object", ctJSON, `[{}]`, "invalid_json"},
	{"JSON string", ctJSON, `"x"`, "invalid_json"},
	{"JSON number", ctJSON, `1`, "invalid_json"},
	{"JSON null", ctJSON, `null`, "invalid_json"},
	{"two objects", ctJSON, `{} {}`, "invalid_json"},
	{"unknown field", ctJSON, `{"zz_unknown":1}`, "unknown_field"},
	{"invalid UTF-8", ctJSON, "{\"zz_unknown\":\"\xff\xfe\"}", "unknown_field"},
	{"deep nesting", ctJSON, strings.Repeat("[", 20000), "invalid_json"},
	{"over 1 MiB", ctJSON, `{"zz_unknown":"` + strings.Repeat("x", 1<<20) + `"}`, "body_too_large"},
	{"text/csv", "text/csv", "barcode,result\nR1,negative\n", "unsupported_media_type"},
	{"form", "application/x-www-form-urlencoded", "a=b", "unsupported_media_type"},
	{"xml", "application/xml", "<a/>", "unsupported_media_type"},
	{"broken content type", "application/json;;;=", `{}`, "unsupported_media_type"},
}

// verifyParser are the answers of POST /verify's and POST /gateway/v1/scan's
// own parsers (hot paths that read their bodies without encoding/json) where
// decode answers otherwise: they report the first problem they meet, and
// their body limit is 8 KiB.
var verifyParser = map[string]string{
	"/api/v1/verify truncated JSON":   "unknown_field",
	"/api/v1/verify deep nesting":     "body_too_large",
	"/api/v1/verify 1e400":            "temperature_out_of_range",
	"/gateway/v1/scan truncated JSON": "unknown_field",
	"/gateway/v1/scan deep nesting":   "body_too_large",
}

// badCSV are files no upload accepts a line of.
var badCSV = []struct{ what, ctype, body string }{
	{"empty file", "text/csv", ""},
	{"header only", "text/csv", "barcode,result\n"},
	{"binary", "text/csv", "\x00\x01\x02\xff\xfe\n\x00"},
	{"unterminated quote", "text/csv", "name,address\n\"abc,def\n"},
	{"wrong columns", "text/csv", "a,b,c,d,e,f,g,h,i,j,k\n1,2,3\n"},
	{"byte-order mark and garbage", "text/csv", "\ufeffbarcode,result\n,,,,\n\"\"\"\n"},
	{"long line", "text/csv", "barcode,result\n" + strings.Repeat("9", 200000) + ",negative\n"},
	{"invalid UTF-8", "text/plain; charset=utf-8", "barcode,result\n\xff\xfe,\xff\n"},
	{"many lines", "text/csv", "barcode,result\n" + strings.Repeat("X,bogus\n", 20000)},
	{"JSON as CSV", "application/json", `{"barcode":"R1","result":"negative"}`},
	{"no content type", "", "barcode,result\nR1,negative\n"},
	{"broken content type", "text/csv;;;=", "barcode,result\n"},
}

// candidateFields are the field names the routes' bodies may hold; a probe
// finds which ones a route knows.
var candidateFields = []string{"name", "id_type", "id_number", "phone", "region", "relation", "otp", "username",
	"display_name", "password", "role", "kind", "address", "unit_uscc", "unit_name", "seq", "built", "enabled", "scopes",
	"venue_token", "dependents", "person_ids", "venue_id", "from", "to", "lookback", "window", "operator_id", "note",
	"code", "temperature", "barcode", "capacity", "site_id", "barcodes", "lab", "result", "reason", "person_id", "at",
	"until", "attrs", "source", "key", "decision", "evidence", "symptoms", "exposure", "lat", "lng", "open", "hours",
	"rules", "id", "description", "examples", "uscc", "daily_quota", "rate_per_minute", "admin", "disabled", "subject",
	"drug_class", "items", "name_zh", "name_en", "active", "position"}

// wrongValues are values of every JSON type and some no field takes.
var wrongValues = []string{`123`, `-1`, `1.5`, `1e400`, `"x"`, `true`, `{}`, `[1]`, `["x"]`, `{"a":[{"b":null}]}`}

func (b *battery) bodies(rt documentedRoute, c cred, path string) {
	t := b.e.t
	if isCSV(rt) {
		for _, f := range badCSV {
			status, _, _ := b.send(request{method: rt.method, path: path, ctype: f.ctype, body: []byte(f.body), token: c.token, what: f.what + " as " + c.name})
			if f.ctype == ctJSON || strings.HasPrefix(f.ctype, "text/csv;;") {
				if status != 415 {
					t.Errorf("%s %s (%s): %d, want 415", rt.method, rt.path, f.what, status)
				}
			}
		}
		if !b.bigSent[rt.path] {
			b.bigSent[rt.path] = true
			big := "barcode,result\n" + strings.Repeat("R0000001,negative\n", 1+nat.MaxUploadBytes/18)
			if status, code, _ := b.send(request{method: rt.method, path: path, ctype: "text/csv", body: []byte(big), token: c.token, what: "over the upload limit"}); status != 413 {
				t.Errorf("%s %s with %d bytes: %d %s, want 413", rt.method, rt.path, len(big), status, code)
			}
		}
		return
	}
	// Whether the route reads a JSON body at all: routes that take none
	// (seal, revoke, ...) answer for the path id alone.
	_, code, _ := b.send(request{method: rt.method, path: path, ctype: ctJSON, body: []byte(`{"zz_unknown":1}`), token: c.token, what: "reads a body?"})
	decodes := code == "unknown_field"
	for _, bb := range badBodies {
		status, code, msg := b.send(request{method: rt.method, path: path, ctype: bb.ctype, body: []byte(bb.body), token: c.token, what: bb.what + " as " + c.name})
		if status < 400 {
			t.Errorf("%s %s as %s: %d for %s", rt.method, trunc(path, 100), c.name, status, bb.what)
		}
		if decodes && code != bb.code && verifyParser[rt.path+" "+bb.what] != code {
			t.Errorf("%s %s (%s): %d %s (%s), want %s", rt.method, rt.path, bb.what, status, code, msg, bb.code)
		}
	}
	if !decodes {
		return
	}
	// Wrong types, each followed by an unknown field, so that a value of
	// the right type is refused too and nothing is written.
	for _, f := range b.knownFields(rt, c, path) {
		for _, v := range wrongValues {
			body := fmt.Sprintf(`{%q:%s,"zz_unknown":1}`, f, v)
			status, code, msg := b.send(request{method: rt.method, path: path, ctype: ctJSON, body: []byte(body), token: c.token, what: "field " + f + "=" + v + " as " + c.name})
			if status != 400 || (code != "invalid_field" && code != "unknown_field" && verifyParser[rt.path+" "+v] != code) {
				t.Errorf("%s %s %s: %d %s (%s), want 400 invalid_field or unknown_field", rt.method, rt.path, body, status, code, msg)
			}
		}
	}
}

// knownFields probes which candidate fields the route's body holds: an
// unknown field is named in the error, a known one is not.
func (b *battery) knownFields(rt documentedRoute, c cred, path string) []string {
	key := rt.method + " " + rt.path
	if out, ok := b.fields[key]; ok {
		return out
	}
	out := []string{}
	defer func() { b.fields[key] = out }()
	for _, f := range candidateFields {
		_, code, msg := b.send(request{method: rt.method, path: path, ctype: ctJSON, body: []byte(fmt.Sprintf(`{%q:null,"zz_unknown":1}`, f)), token: c.token, what: "probe field " + f})
		if code == "unknown_field" && !strings.Contains(msg, `"`+f+`"`) {
			out = append(out, f)
		}
	}
	return out
}

// badQueryValues are values no parameter takes; among them values that pass
// a parser but no range (NaN, infinities, a time that is year 10000 in
// Beijing), which once gave a 200 with an empty body.
var badQueryValues = []string{"abc", "-1", "99999999999999999999", "1.5", strings.Repeat("9", 5000),
	"2022-13-45T25:61:00Z", "%ff%00", "91,181", "' OR 1=1 --", "NaN", "Inf", "-Inf", "1e308", "0x10",
	"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "NaN,NaN"}

func (b *battery) queries(rt documentedRoute, c cred) {
	path := b.validPath(rt)
	for _, p := range rt.query {
		for _, v := range badQueryValues {
			q := p + "=" + v
			if !strings.Contains(v, "%") {
				q = p + "=" + url.QueryEscape(v)
			}
			status, code, _ := b.send(request{method: rt.method, path: path, query: q, token: c.token, what: "query as " + c.name})
			if p == "limit" && (v == "abc" || v == "-1") && (status != 400 || code != "limit_invalid") {
				b.e.t.Errorf("%s %s?%s: %d %s, want 400 limit_invalid", rt.method, path, q, status, code)
			}
		}
	}
	b.send(request{method: rt.method, path: path, query: "limit=1&limit=2&%zz", token: c.token, what: "broken query as " + c.name})
}

// templates send valid bodies with one bad value each: huge strings, out of
// range numbers, unknown enum values, bad times. Every one must be refused.
func (b *battery) templates() {
	huge := strings.Repeat("长", 30000) // 90 KB
	fx := b.fx
	now := time.Now().UTC()
	type tmpl struct {
		method, path, token string
		valid               map[string]any
		bad                 map[string][]any // field → bad values
	}
	hugeList := func(n int, v string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	rule := map[string]any{"id": "r1", "color": "yellow", "condition": "true", "reason": map[string]any{"zh": "测试", "en": "test"}}
	person := map[string]any{"name": "周八", "id_type": "resident_id", "id_number": rid("19900101", 950), "region": "341881001"}
	personBad := map[string][]any{"name": {huge, "", "  "}, "id_type": {"bogus", huge}, "id_number": {huge, "123", badCheck("19900101", 950)},
		"region": {"999999", huge, "34188100100000000"}, "phone": {huge, "123"}}
	for _, tp := range []tmpl{
		{"POST", "/api/v1/me/register", fx.unreg, person, personBad},
		{"POST", "/api/v1/me/dependents", fx.resident, with(person, "relation", "child"), with(personBad, "relation", []any{"bogus", huge})},
		{"POST", "/api/v1/admin/persons", fx.admin, with(person, "phone", "13900000950"), personBad},
		{"POST", "/api/v1/admin/venues", fx.admin, map[string]any{"name": "南山菜场", "kind": "market", "address": "宁国市", "region": "341881002"},
			map[string][]any{"name": {huge, ""}, "kind": {"castle", huge}, "address": {huge}, "region": {"110101", "999999", huge},
				"unit_uscc": {"91340000MA2N0000X0", huge}}},
		{"POST", "/api/v1/admin/venues", fx.admin, map[string]any{"name": "南山菜场", "kind": "market", "unit_uscc": uscc("91341881MA2N00001")},
			map[string][]any{"unit_name": {huge}}},
		{"POST", "/api/v1/admin/checkpoints", fx.admin, map[string]any{"name": "南山卡口", "region": "341881002"},
			map[string][]any{"name": {huge}, "address": {huge}, "region": {"110101", huge}, "seq": {-1, 1.5}, "scopes": {[]string{"bogus"}, []string{huge}}}},
		{"POST", "/api/v1/admin/operators", fx.admin, map[string]any{"username": "robust_new", "password": "a long password", "role": "viewer", "region": "341881"},
			map[string][]any{"username": {huge, "", "a b"}, "password": {huge, "short"}, "role": {"root", huge}, "region": {"110101", huge}, "display_name": {huge}}},
		{"POST", "/api/v1/admin/sites", fx.admin, map[string]any{"name": "南山采样点", "address": "宁国市南山街道", "lat": 30.6, "lng": 118.9, "region": "341881002"},
			map[string][]any{"name": {huge, ""}, "address": {huge}, "phone": {huge, "+86 123"}, "hours": {huge}, "lat": {91, -91, 1e308}, "lng": {181, -1e308}, "region": {"110101", huge}}},
		{"PATCH", "/api/v1/admin/sites/" + fx.ids["site"], fx.admin, map[string]any{"name": "西津采样点"},
			map[string][]any{"name": {huge, ""}, "lat": {91}, "lng": {-181}, "phone": {huge}, "region": {"110101", huge}}},
		{"POST", "/api/v1/nat/tubes", fx.admin, map[string]any{"barcode": "R0000099", "capacity": 5, "site_id": fx.ids["site"]},
			map[string][]any{"barcode": {huge, "", "a b"}, "capacity": {3, 0, -1, 1e15}, "site_id": {"nosuch", huge}}},
		{"POST", "/api/v1/nat/tubes/R0000005/samples", fx.admin, map[string]any{"id_type": "resident_id", "id_number": rid("19750101", 901)},
			map[string][]any{"id_type": {"bogus", huge}, "id_number": {huge, "123", rid("19750101", 999)}, "code": {huge, "JKM1:garbage"}}},
		{"POST", "/api/v1/admin/rules", fx.admin, map[string]any{"rules": []any{rule}},
			map[string][]any{"rules": {
				[]any{with[any](rule, "condition", strings.Repeat("1 + ", 20000)+"1 > 0")},
				[]any{with[any](rule, "condition", strings.Repeat("(", 5000)+"true"+strings.Repeat(")", 5000))},
				[]any{with[any](rule, "condition", any("facts.exists(f, facts.exists(g, facts.exists(h, facts.exists(i, f.at < i.at))))"))},
				[]any{with[any](rule, "condition", any(huge))}, []any{with[any](rule, "id", any(huge))}, []any{with[any](rule, "color", any("purple"))},
				[]any{with[any](rule, "reason", any(map[string]any{"zh": huge, "en": "x"}))}, []any{rule, rule},
			}}},
		{"POST", "/api/v1/verify", fx.apiKey, map[string]any{"code": fx.code},
			map[string][]any{"code": {huge, ""}, "temperature": {1e308, -300, 100}}},
		{"POST", "/api/v1/nat/results", fx.admin, map[string]any{"barcode": "R0000004", "result": "negative"},
			map[string][]any{"barcode": {huge, "nosuch"}, "result": {"bogus", huge}, "lab": {huge}}},
		{"POST", "/api/v1/nat/results/R0000001/correction", fx.admin, map[string]any{"result": "positive", "reason": "录入错误"},
			map[string][]any{"result": {"bogus", huge}, "reason": {huge, ""}}},
		{"POST", "/api/v1/nat/transfers", fx.admin, map[string]any{"barcodes": []string{"R0000001"}, "lab": "宣城疾控"},
			map[string][]any{"barcodes": {[]string{}, []string{huge}, hugeList(20000, "R0000001")}, "lab": {huge, ""}}},
		{"POST", "/api/v1/admin/facts", fx.admin, map[string]any{"person_id": fx.ids["person"], "kind": "clinic.fever", "at": now.Add(-time.Hour).Format(time.RFC3339), "attrs": map[string]any{"clinic": "宁国市人民医院"}},
			map[string][]any{"person_id": {huge, fx.ids["venue"]}, "kind": {"bogus", huge}, "at": {"yesterday", "0001-01-01T00:00:00Z", 123, "9999-12-31T23:59:59Z", "2030-01-01T00:00:00+08:00"},
				"until": {now.Add(-48 * time.Hour).Format(time.RFC3339), "9999-12-31T23:59:59Z"}, "attrs": {map[string]any{"clinic": huge}, map[string]any{"bogus": 1}}, "source": {huge}, "key": {huge}}},
		{"POST", "/api/v1/me/declarations", fx.resident, map[string]any{"temperature": 36.5},
			map[string][]any{"temperature": {123, -50, 1e308}, "symptoms": {[]string{huge}, hugeList(10000, "cough"), []string{"bogus"}}, "person_id": {fx.ids["person"], huge}}},
		{"POST", "/api/v1/me/appeals", fx.resident, map[string]any{"reason": "我已治愈"},
			map[string][]any{"reason": {huge, ""}, "evidence": {[]string{"bogus"}, []string{huge}, hugeList(10000, fx.ids["fact"])}, "person_id": {fx.ids["person"], huge}}},
		{"POST", "/api/v1/checkins", fx.resident, map[string]any{"venue_token": fx.ids["venue_token"]},
			map[string][]any{"venue_token": {huge, ""}, "dependents": {[]string{fx.ids["person"]}, []string{huge}, hugeList(5000, fx.ids["dependent"])}}},
		{"POST", "/api/v1/verify/id", fx.apiKey, map[string]any{"id_type": "resident_id", "id_number": rid("19750101", 901)},
			map[string][]any{"id_type": {"bogus", huge}, "id_number": {huge, "123"}, "temperature": {1e308, -300}}},
		{"POST", "/api/v1/admin/tracing", fx.admin, map[string]any{"person_ids": []string{fx.ids["self"]}},
			map[string][]any{"person_ids": {[]string{}, []string{huge}, []string{fx.ids["venue"]}, hugeList(20000, fx.ids["self"])},
				"lookback": {"bogus", "-1h", "99999999h", huge}, "window": {"0s", "-5m", "bogus", huge},
				"venue_id": {fx.ids["venue"]}, "from": {"yesterday"}}},
		{"POST", "/api/v1/admin/tracing", fx.admin, map[string]any{"venue_id": fx.ids["venue"], "from": now.Add(-2 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)},
			map[string][]any{"venue_id": {huge, fx.ids["self"]}, "from": {"yesterday", now.Format(time.RFC3339)}, "to": {"tomorrow", "0001-01-01T00:00:00Z"}}},
		{"POST", "/api/v1/admin/tasks/" + fx.ids["task"] + "/assign", fx.admin, map[string]any{"operator_id": fx.ids["operator"]},
			map[string][]any{"operator_id": {"", huge, fx.ids["self"]}}},
		{"POST", "/api/v1/admin/tasks/" + fx.ids["task"] + "/visited", fx.admin, map[string]any{"note": "已上门"},
			map[string][]any{"note": {huge}}},
		{"POST", "/api/v1/admin/appeals/" + fx.ids["appeal"] + "/decision", fx.admin, map[string]any{"decision": "granted", "note": "复核通过", "until": now.Add(24 * time.Hour).Format(time.RFC3339)},
			map[string][]any{"decision": {"maybe", huge, ""}, "note": {huge}, "until": {now.Add(-time.Hour).Format(time.RFC3339), "soon"}}},
		{"POST", "/api/v1/auth/otp", "", map[string]any{"phone": "13900000999"},
			map[string][]any{"phone": {huge, "123", "+1 555 0100"}}},
		{"POST", "/api/v1/auth/login", "", map[string]any{"phone": "13900000999", "otp": "000000"},
			map[string][]any{"phone": {huge}, "otp": {huge}}},
		{"POST", "/api/v1/auth/operator", "", map[string]any{"username": "admin", "password": "wrong password"},
			map[string][]any{"username": {huge}, "password": {huge}}},
	} {
		// A NUL character in any text: PostgreSQL cannot store it. (A
		// scanned code with one is an invalid code: a verification result,
		// recorded like any other.)
		for field, v := range tp.valid {
			if tp.path == "/api/v1/verify" {
				break
			}
			if s, ok := v.(string); ok {
				tp.bad[field] = append(tp.bad[field], s+"\x00")
			}
		}
		for _, field := range slices.Sorted(maps.Keys(tp.bad)) {
			for _, v := range tp.bad[field] {
				body, _ := json.Marshal(with(tp.valid, field, v))
				what := trunc(fmt.Sprintf("%s=%q", field, v), 60)
				status, _, _ := b.send(request{method: tp.method, path: tp.path, ctype: ctJSON, body: body, token: tp.token, what: what})
				if status < 400 {
					b.e.t.Errorf("%s %s with %s: %d, want it refused", tp.method, tp.path, trunc(string(body), 300), status)
				}
			}
		}
	}
}

// uscc completes a unified social credit code with its check character.
func uscc(first17 string) string {
	c, err := idnum.USCCCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// with is a copy of m with k set to v.
func with[V any](m map[string]V, k string, v V) map[string]V {
	out := maps.Clone(m)
	out[k] = v
	return out
}
