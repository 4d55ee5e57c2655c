package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/healthcode/healthcode/internal/server/servertest"
)

func gbk(t *testing.T, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lineErrors are an import's faulty lines as "line:code".
func lineErrors(r servertest.Response) []string {
	var out []string
	errs, _ := r.Body["errors"].([]any)
	for _, e := range errs {
		m := e.(map[string]any)
		out = append(out, fmt.Sprintf("%.0f:%s", m["line"], m["code"]))
	}
	return out
}

func num(r servertest.Response, key string) int {
	f, _ := r.Body[key].(float64)
	return int(f)
}

// The done-when of grids and imports: a city imports its population (a
// GBK spreadsheet with faulty lines among the good), turns a police case
// list and a contact list into facts, and every red and yellow person's
// grid worker receives a task, sees only their grid, and closes each with
// a visit; a task left unvisited escalates to the town.
func TestGridImportCasesAndVisits(t *testing.T) {
	t.Parallel()
	servertest.ForEach(t, func(t *testing.T, e *servertest.Server) {
		ctx := context.Background()
		admin := e.Admin()
		const town = "341881001"
		g1, g2 := town+"001001", town+"001002"
		var pop strings.Builder
		pop.WriteString("乡镇街道,社区编号,社区,网格编号,网格,户号,姓名,证件号码,手机号\n")
		people := []struct {
			grid, household, name string
			seq                   int
		}{{"001", "1-101", "赵一", 1}, {"001", "1-101", "赵二", 2}, {"001", "1-102", "钱三", 3},
			{"002", "2-201", "孙四", 4}, {"002", "2-202", "李五", 5}, {"002", "2-202", "李六", 6}}
		for _, p := range people {
			fmt.Fprintf(&pop, "%s,001,河沥社区,%s,第%s网格,%s,%s,%s,\n", town, p.grid, p.grid[2:], p.household, p.name, rid("19800101", p.seq))
		}
		pop.WriteString(town + ",001,河沥社区,001,,1-103,周七," + badCheck("19800101", 7) + ",\n")    // line 8: malformed ID
		pop.WriteString(town + ",001,河沥社区,001,,1-103,吴八," + rid("19800101", 1) + ",\n")         // line 9: duplicate of line 2
		pop.WriteString("341881999,001,河沥社区,001,,1-103,郑九," + rid("19800101", 9) + ",\n")       // line 10: unknown town
		pop.WriteString(town + ",001,河沥社区,1,,1-103,王十," + rid("19800101", 10) + ",\n")          // line 11: bad grid code
		pop.WriteString(town + ",001,河沥社区,001,,\"1-10\"3\",冯十一," + rid("19800101", 11) + ",\n") // line 12: bad quoting
		file := gbk(t, pop.String())

		imp := e.Want(e.Send("POST", "/api/v1/admin/imports?kind=residents&name=pop.csv", admin, "text/csv", file), 201, "")
		if imp.Str("encoding") != "gbk" || imp.Str("status") != "done" || num(imp, "good") != 6 || num(imp, "bad") != 5 || num(imp, "created") != 6 {
			t.Fatalf("population import: %s", imp.Raw)
		}
		want := []string{"8:id_check_digit", "9:id_number_duplicate", "10:region_unknown", "11:grid_code_invalid", "12:line_malformed"}
		if got := lineErrors(imp); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("per-line report %v, want %v", got, want)
		}
		// Importing it again changes nothing.
		again := e.Want(e.Send("POST", "/api/v1/admin/imports?kind=residents", admin, "text/csv", file), 201, "")
		if num(again, "good") != 6 || num(again, "created") != 0 || e.Count("persons") != 6 || e.Count("grid_members") != 6 || e.Count("households") != 4 {
			t.Fatalf("second import: %s; persons %d, members %d, households %d", again.Raw, e.Count("persons"), e.Count("grid_members"), e.Count("households"))
		}
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=residents", admin, "text/csv", "town,community\n\xff\xfe\xfd\n"), 400, "import_encoding_invalid")
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=people", admin, "text/csv", "a\nb\n"), 400, "import_kind_invalid")
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=cases", admin, "text/csv", "name\n张三\n"), 400, "import_header_invalid")
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=cases", admin, "text/csv", "id_number,at,case_id\n"), 400, "import_empty")

		grids := e.Want(e.Do("GET", "/api/v1/admin/grids?region="+town, admin, nil), 200, "")
		if gs, _ := grids.Body["grids"].([]any); len(gs) != 2 || gs[0].(map[string]any)["households"].(float64) != 2 ||
			gs[1].(map[string]any)["persons"].(float64) != 3 {
			t.Fatalf("grids: %s", grids.Raw)
		}

		gw1 := e.NewOperator("grid_one", "grid_worker", g1)
		gw2 := e.NewOperator("grid_two", "grid_worker", g2)
		e.Want(e.Do("POST", "/api/v1/admin/operators", admin, map[string]any{"username": "grid_none", "password": "a long password",
			"role": "grid_worker", "region": town + "009009"}), 404, "grid_not_found")

		// The police case list: one case, one number nobody has.
		at := time.Now().Add(-2 * time.Hour).Format("2006-01-02 15:04")
		cases := "证件号码,确诊时间,病例编号\n" + rid("19800101", 1) + "," + at + ",NG-1\n" + rid("19800101", 50) + "," + at + ",NG-2\n"
		ci := e.Want(e.Send("POST", "/api/v1/admin/imports?kind=cases&source=police", admin, "text/csv", cases), 201, "")
		if num(ci, "good") != 1 || num(ci, "created") != 1 || strings.Join(lineErrors(ci), " ") != "3:person_not_found" {
			t.Fatalf("case list: %s", ci.Raw)
		}
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=cases&source=police", admin, "text/csv", cases), 201, "")
		contacts := "id_number,at,case_id\n" + rid("19800101", 2) + "," + at + ",NG-1\n" + rid("19800101", 4) + "," + at + ",NG-1\n"
		e.Want(e.Send("POST", "/api/v1/admin/imports?kind=contacts&source=health", admin, "text/csv", contacts), 201, "")
		if n := e.Count("facts"); n != 3 {
			t.Fatalf("%d facts after importing the lists twice, want 3", n)
		}

		if _, err := e.App.Tracing.FollowChanges(ctx); err != nil {
			t.Fatal(err)
		}
		tasks := func(token, query string) []map[string]any {
			r := e.Want(e.Do("GET", "/api/v1/admin/tasks?kind=colour"+query, token, nil), 200, "")
			var out []map[string]any
			for _, x := range r.Body["tasks"].([]any) {
				out = append(out, x.(map[string]any))
			}
			return out
		}
		if all := tasks(admin, ""); len(all) != 3 {
			t.Fatalf("%d colour tasks, want 3 (the case and two contacts)", len(all))
		}
		mine := tasks(gw1, "")
		if len(mine) != 2 {
			t.Fatalf("grid one's worker sees %d tasks, want 2", len(mine))
		}
		for _, tk := range mine {
			if tk["region"] != g1 || tk["reason"] == "" || tk["color"] == "green" || tk["due_at"] == nil {
				t.Errorf("task %v", tk)
			}
		}
		// Persons by colour: the grid worker sees their grid only.
		if r := e.Want(e.Do("GET", "/api/v1/admin/persons/by-colour", gw1, nil), 200, ""); len(r.Body["persons"].([]any)) != 2 {
			t.Errorf("grid one's red and yellow: %s", r.Raw)
		}
		if r := e.Want(e.Do("GET", "/api/v1/admin/persons/by-colour?color=red", admin, nil), 200, ""); len(r.Body["persons"].([]any)) < 1 {
			t.Errorf("red persons: %s", r.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/persons/by-colour?grid="+g2, gw1, nil), 403, "out_of_scope")
		e.Want(e.Do("GET", "/api/v1/admin/persons/by-colour?color=blue", admin, nil), 400, "colour_filter_invalid")
		res, body := e.GetAuth("/api/v1/admin/persons/by-colour/export", admin)
		if res.StatusCode != 200 || strings.Count(strings.TrimSpace(string(body)), "\n") != 3 || !strings.Contains(string(body), g2) {
			t.Errorf("export: %d %s", res.StatusCode, body)
		}

		// Each visit closes its task once.
		for _, tk := range mine {
			path := "/api/v1/admin/tasks/" + tk["id"].(string) + "/visited"
			e.Want(e.Do("POST", path, gw1, map[string]any{"outcome": "asleep"}), 400, "visit_outcome_invalid")
			e.Want(e.Do("POST", path, gw1, map[string]any{"note": "只有备注"}), 400, "visit_outcome_invalid")
			v := e.Want(e.Do("POST", path, gw1, map[string]any{"outcome": "met", "note": "已见面，已告知居家"}), 200, "")
			if v.Str("status") != "visited" || v.Str("outcome") != "met" {
				t.Errorf("visited: %s", v.Raw)
			}
			e.Want(e.Do("POST", path, gw1, map[string]any{"outcome": "met"}), 409, "task_visited")
		}
		other := tasks(gw2, "")
		if len(other) != 1 {
			t.Fatalf("grid two's worker sees %d tasks", len(other))
		}
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+other[0]["id"].(string)+"/visited", gw1, map[string]any{"outcome": "met"}), 404, "task_not_found")

		// Grid two's task is left a day: it escalates to the town.
		e.App.Tracing.SetClock(func() time.Time { return time.Now().Add(25 * time.Hour) })
		if n, err := e.App.Tracing.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalated %d, %v", n, err)
		}
		officer := e.NewOperator("town_officer", "health_officer", town)
		if esc := tasks(officer, "&escalated=true"); len(esc) != 1 || esc[0]["id"] != other[0]["id"] || esc[0]["escalated_at"] == nil {
			t.Fatalf("escalated tasks: %v", esc)
		}
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+other[0]["id"].(string)+"/visited", gw2, map[string]any{"outcome": "isolated"}), 200, "")

		// 应检未检 against the imported population, by grid.
		cov := e.Want(e.Do("GET", "/api/v1/admin/grids/coverage?region="+g2, admin, nil), 200, "")
		rows, _ := cov.Body["rows"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["population"].(float64) != 3 || rows[0].(map[string]any)["untested"].(float64) != 3 ||
			len(cov.Body["untested"].([]any)) != 3 {
			t.Errorf("coverage: %s", cov.Raw)
		}
		list := e.Want(e.Do("GET", "/api/v1/admin/imports", admin, nil), 200, "")
		if n := len(list.Body["imports"].([]any)); n != 5 {
			t.Errorf("%d imports listed, want 5", n)
		}
		e.Want(e.Do("GET", "/api/v1/admin/imports", gw1, nil), 403, "forbidden")
	})
}
