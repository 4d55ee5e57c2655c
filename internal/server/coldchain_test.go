package server_test

import (
	"strings"
	"testing"
)

// A batch moves importer -> cold store -> market through the gateway with
// workers scanning at each; a positive sample at the cold store traces it
// downstream: the cold store's and the market's stock, and the workers who
// handled it there, who get cold_chain.exposure and turn yellow by the
// default rules until a test; the importer, upstream, is listed for
// information, gets no task, and its worker stays green. The holders get
// their tasks, the operator and the sampling holder the CSV report, and a
// consumer the batch's chain without personal data; the same positive
// again opens and exposes nothing twice. Bad input is a precise 4xx that
// writes nothing.
func TestColdChainThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		imp := e.org(admin, "importer", "宁国市进出口贸易公司", "CC000001", "341881001")
		store := e.org(admin, "cold_store", "宁国市冷链仓储中心", "CC000002", "341881001")
		market := e.org(admin, "market", "西津农贸市场", "CC000003", "341881002")
		_, impKey := e.orgKey(admin, imp, map[string]any{"name": "ERP", "scopes": []string{"scan", "coldchain.batch", "coldchain.move", "coldchain.handler"}})
		_, storeKey := e.orgKey(admin, store, map[string]any{"name": "WMS", "scopes": []string{"scan", "coldchain.move", "coldchain.handler", "coldchain.inspect", "coldchain.tasks"}})
		_, marketKey := e.orgKey(admin, market, map[string]any{"name": "摊位", "scopes": []string{"scan", "coldchain.move", "coldchain.handler", "coldchain.tasks"}})
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+market+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"coldchain.inspect"}}), 400, "scope_not_for_kind")

		w1, _ := e.Resident("13900000601", "赵卫东", rid("19800101", 601), "341881001")
		w2, _ := e.Resident("13900000602", "钱秀兰", rid("19810202", 602), "341881001")
		w3, _ := e.Resident("13900000603", "孙志强", rid("19820303", 603), "341881002")

		batch := map[string]any{"product": "冻带鱼", "origin_country": "BR", "port": "上海洋山港", "declaration": "220120221000123456", "quantity": 100}
		e.Want(e.Do("POST", "/gateway/v1/coldchain/batches", storeKey, batch), 403, "scope_missing")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/batches", impKey, map[string]any{"product": "冻带鱼", "origin_country": "Brazil",
			"port": "上海洋山港", "declaration": "220120221000123456", "quantity": 100}), 400, "origin_country_invalid")
		b := e.Want(e.Do("POST", "/gateway/v1/coldchain/batches", impKey, batch), 201, "")
		code := b.Str("code")

		e.Want(e.Do("POST", "/gateway/v1/coldchain/handlings", impKey, map[string]any{"subject": e.scan(impKey, w1), "batch_code": code}), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", impKey, map[string]any{"batch_code": code, "to": store, "quantity": 60}), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/handlings", storeKey, map[string]any{"subject": e.scan(storeKey, w2), "batch_code": code}), 201, "")

		// Refusals: nothing written.
		tables := []string{"cc_batches", "cc_stock", "cc_moves", "cc_handlings", "cc_inspections", "cc_tasks", "facts"}
		before := map[string]int{}
		for _, tbl := range tables {
			before[tbl] = e.Count(tbl)
		}
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", storeKey, map[string]any{"batch_code": code, "to": market, "quantity": 61}), 409, "quantity_exceeds_stock")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", marketKey, map[string]any{"batch_code": code, "to": store, "quantity": 1}), 409, "batch_not_held")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/handlings", marketKey, map[string]any{"subject": e.scan(marketKey, w3), "batch_code": code}), 409, "batch_not_held")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", storeKey, map[string]any{"batch_code": code, "to": market, "quantity": 0}), 400, "quantity_invalid")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", storeKey, map[string]any{"batch_code": "nonsense", "to": market, "quantity": 1}), 400, "batch_code_invalid")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/inspections", storeKey, map[string]any{"batch_code": "CC00000000000000", "kind": "goods", "result": "positive"}), 404, "batch_not_found")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/inspections", storeKey, map[string]any{"batch_code": code, "kind": "swab", "result": "positive"}), 400, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", storeKey, map[string]any{"batch_code": code, "to": market, "quantity": "5"}), 400, "")
		for _, tbl := range tables {
			if got := e.Count(tbl); got != before[tbl] {
				t.Fatalf("refusals wrote to %s: %d rows, %d before", tbl, got, before[tbl])
			}
		}

		e.Want(e.Do("POST", "/gateway/v1/coldchain/transfers", storeKey, map[string]any{"batch_code": "https://example.org/cc/" + code, "to": market, "quantity": 25}), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/handlings", marketKey, map[string]any{"subject": e.scan(marketKey, w3), "batch_code": code}), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/sales", marketKey, map[string]any{"batch_code": code, "quantity": 5}), 201, "")

		tr := e.Want(e.Do("POST", "/gateway/v1/coldchain/inspections", storeKey, map[string]any{"batch_code": code, "kind": "packaging",
			"result": "positive", "certificate": "宁CDC-2022-031"}), 201, "")
		var found []string
		for _, h := range tr.Body["handlers"].([]any) {
			h := h.(map[string]any)
			found = append(found, h["holder"].(map[string]any)["id"].(string)+":"+h["masked_name"].(string))
		}
		if got := strings.Join(found, " "); got != store+":钱*兰 "+market+":孙*强" {
			t.Fatalf("handlers found %s: %s", got, tr.Raw)
		}
		stockOf := func(list string) map[string]map[string]any {
			out := map[string]map[string]any{}
			for _, h := range tr.Body[list].([]any) {
				h := h.(map[string]any)
				out[h["holder"].(map[string]any)["id"].(string)] = h
			}
			return out
		}
		down, up := stockOf("holders"), stockOf("upstream")
		if len(down) != 2 || down[store]["held"] != 35.0 || down[market]["held"] != 20.0 || down[market]["sold"] != 5.0 {
			t.Fatalf("the downstream stock: %s", tr.Raw)
		}
		if len(up) != 1 || up[imp]["held"] != 40.0 {
			t.Fatalf("the upstream holders: %s", tr.Raw)
		}
		for _, tk := range tr.Body["tasks"].([]any) {
			if tk.(map[string]any)["holder"].(map[string]any)["id"] == imp {
				t.Fatalf("the importer, upstream, got a task: %s", tr.Raw)
			}
		}
		if n := len(tr.Body["tasks"].([]any)); n != 4 {
			t.Fatalf("%d tasks: %s", n, tr.Raw)
		}
		for w, want := range map[string]string{w1: "green", w2: "yellow", w3: "yellow"} {
			if c := colorOf(e.Want(e.Do("GET", "/api/v1/me", w, nil), 200, "")); c != want {
				t.Fatalf("a handler is %s after the positive inspection, want %s", c, want)
			}
			facts := e.Want(e.Do("GET", "/api/v1/me/facts", w, nil), 200, "")
			if exposed := strings.Count(string(facts.Raw), `"cold_chain.exposure"`); exposed != map[string]int{"green": 0, "yellow": 1}[want] {
				t.Fatalf("%d cold_chain.exposure facts for a %s handler: %s", exposed, want, facts.Raw)
			}
		}
		again := e.Want(e.Do("POST", "/gateway/v1/coldchain/inspections", storeKey, map[string]any{"batch_code": code, "kind": "goods",
			"result": "positive"}), 201, "")
		if len(again.Body["tasks"].([]any)) != 0 || len(again.Body["handlers"].([]any)) != 0 {
			t.Fatalf("the same positive again: %s", again.Raw)
		}
		for _, w := range []string{w2, w3} {
			facts := e.Want(e.Do("GET", "/api/v1/me/facts", w, nil), 200, "")
			if exposed := strings.Count(string(facts.Raw), `"cold_chain.exposure"`); exposed != 1 {
				t.Fatalf("%d cold_chain.exposure facts after the same positive again: %s", exposed, facts.Raw)
			}
		}

		hold := e.Want(e.Do("GET", "/gateway/v1/coldchain/holdings", marketKey, nil), 200, "")
		var seal string
		for _, tk := range hold.Body["tasks"].([]any) {
			if tk := tk.(map[string]any); tk["kind"] == "seal" {
				seal = tk["id"].(string)
				if tk["quantity"] != 20.0 {
					t.Fatalf("seal task: %v", tk)
				}
			}
		}
		e.Want(e.Do("POST", "/gateway/v1/coldchain/tasks/"+seal+"/done", storeKey, nil), 404, "cold_chain_task_not_found")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/tasks/"+seal+"/done", marketKey, nil), 200, "")
		e.Want(e.Do("POST", "/gateway/v1/coldchain/tasks/"+seal+"/done", marketKey, nil), 409, "cold_chain_task_done")

		pub := e.Want(e.Do("GET", "/api/v1/coldchain/batches/"+strings.ToLower(code), "", nil), 200, "")
		for _, secret := range []string{"赵卫东", "赵*东", "13900000601"} {
			if strings.Contains(string(pub.Raw), secret) {
				t.Fatalf("the public view shows %q: %s", secret, pub.Raw)
			}
		}
		if len(pub.Body["moves"].([]any)) != 4 || len(pub.Body["inspections"].([]any)) != 2 {
			t.Fatalf("public chain: %s", pub.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/coldchain/batches/CC00000000000000", "", nil), 404, "batch_not_found")

		ins := tr.Body["inspection"].(map[string]any)["id"].(string)
		resp, body := e.getWith("/api/v1/admin/coldchain/inspections/"+ins+"/report.csv", admin)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "孙*强") || strings.Contains(string(body), "孙志强") ||
			strings.Contains(string(body), "赵*东") || !strings.Contains(string(body), "上游单位（仅供参考）,宁国市进出口贸易公司") {
			t.Fatalf("report %d:\n%s", resp.StatusCode, body)
		}
		list := e.Want(e.Do("GET", "/api/v1/admin/coldchain/batches?positive=true", admin, nil), 200, "")
		if len(list.Body["batches"].([]any)) != 1 {
			t.Fatalf("positive batches: %s", list.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/coldchain/batches/"+b.Str("id"), admin, nil), 200, "")
	})
}
