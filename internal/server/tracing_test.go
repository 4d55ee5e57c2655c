package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/status"
)

// at pins the check-in clock: the next check-ins happen at t.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// waitRun polls a tracing run until it has finished.
func (e *env) waitRun(tok, id string) resp {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.Want(e.Do("GET", "/api/v1/admin/tracing/"+id, tok, nil), 200, "")
		switch r.Str("status") {
		case "done", "failed":
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("tracing run still %s after 30 s: %s", r.Str("status"), r.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func reportOf(r resp) []map[string]any {
	var out []map[string]any
	for _, row := range r.Body["report"].([]any) {
		out = append(out, row.(map[string]any))
	}
	return out
}

// factsOf is what the status engine holds about a person.
func (e *env) factsOf(id string) []status.Stored {
	e.t.Helper()
	fs, err := e.App.Status.Facts(context.Background(), personNum(e.t, e.App.DB, id), 500)
	if err != nil {
		e.t.Fatal(err)
	}
	return fs
}

func TestTracingFindsCompanions(t *testing.T) {
	t.Parallel()
	restaurants15 := func(c *server.Config) { c.TracingWindows = map[string]time.Duration{"restaurant": 15 * time.Minute} }
	forEachWith(t, restaurants15, func(t *testing.T, e *env) {
		admin := e.Admin()
		clk := &clock{}
		e.App.Checkins.SetClock(clk.now)
		restaurant, restaurantTok := e.Venue(admin, "津城饭店", "restaurant", "341881001")
		_, marketTok := e.Venue(admin, "南山菜场", "market", "341881002")
		_, parkTok := e.Venue(admin, "宁国公园", "entertainment", "341881002") // where colours are looked at

		caseTok, caseID := e.Resident("13900000201", "陈病例", rid("19750101", 201), "341881001")
		compTok, compID := e.Resident("13900000202", "林同行", rid("19760101", 202), "341881002")
		thirdTok, thirdID := e.Resident("13900000203", "黄别处", rid("19770101", 203), "341881003")
		lateTok, lateID := e.Resident("13900000204", "吴晚到", rid("19780101", 204), "341881004")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", compTok, map[string]any{
			"name": "林小宝", "id_type": "resident_id", "id_number": rid("20160101", 205), "relation": "child"}), 201, "")

		base := time.Now().Add(-3 * time.Hour).Truncate(time.Minute)
		checkIn := func(tok, venueTok string, at time.Time, deps ...string) {
			t.Helper()
			clk.set(at)
			body := map[string]any{"venue_token": venueTok}
			if deps != nil {
				body["dependents"] = deps
			}
			e.Want(e.Do("POST", "/api/v1/checkins", tok, body), 201, "")
		}
		checkIn(caseTok, restaurantTok, base)
		checkIn(compTok, restaurantTok, base.Add(10*time.Minute), dep.Str("id")) // with a child: both companions
		checkIn(thirdTok, marketTok, base.Add(5*time.Minute))                    // elsewhere at the same time
		checkIn(lateTok, restaurantTok, base.Add(20*time.Minute))                // restaurants have a 15 min window here
		checkIn(lateTok, restaurantTok, base.Add(-16*24*time.Hour))              // outside the lookback

		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "")
		// The run is queued; a fast worker may already have picked it up.
		if run.Str("id") == "" || !slices.Contains([]string{"queued", "running", "done"}, run.Str("status")) {
			t.Fatalf("tracing answer: %s", run.Raw)
		}
		done := e.waitRun(admin, run.Str("id"))
		if done.Str("status") != "done" || done.Body["companions"] != 2.0 || done.Body["facts"] != 2.0 || done.Body["tasks"] != 2.0 {
			t.Fatalf("run: %s", done.Raw)
		}
		prog := done.Body["progress"].(map[string]any)
		if prog["done"] != 1.0 || prog["total"] != 1.0 {
			t.Fatalf("progress: %v", prog)
		}
		rows := reportOf(done)
		if len(rows) != 2 {
			t.Fatalf("report: %s", done.Raw)
		}
		for _, row := range rows {
			person := row["person"].(map[string]any)
			if person["id"] != compID && person["id"] != dep.Str("id") {
				t.Fatalf("unexpected companion %v", person)
			}
			if c := row["case"].(map[string]any); c["id"] != caseID || c["name"] != "陈*例" {
				t.Fatalf("case in report: %v", c)
			}
			if v := row["venue"].(map[string]any); v["id"] != restaurant || v["name"] != "津城饭店" || v["kind"] != "restaurant" {
				t.Fatalf("venue in report: %v", v)
			}
			caseAt, _ := time.Parse(time.RFC3339, row["case_at"].(string))
			personAt, _ := time.Parse(time.RFC3339, row["person_at"].(string))
			if !caseAt.Equal(base) || !personAt.Equal(base.Add(10*time.Minute)) || row["overlap_minutes"] != 5.0 {
				t.Fatalf("times in report: %v (15 min window, 10 min apart: 5 min overlap)", row)
			}
		}
		if rows[0]["person"].(map[string]any)["name"] != "林*行" && rows[1]["person"].(map[string]any)["name"] != "林*行" {
			t.Fatalf("companion names are not masked: %s", done.Raw)
		}

		// The companion got the fact with its evidence, and turned yellow.
		facts := e.factsOf(compID)
		if len(facts) != 1 {
			t.Fatalf("%d facts for the companion, want 1", len(facts))
		}
		f := facts[0]
		caseAt, _ := time.Parse(time.RFC3339, fmt.Sprint(f.Attrs["case_at"]))
		if f.Kind != fact.ContactCompanion || f.Attrs["case_person"] != caseID || f.Attrs["venue"] != restaurant ||
			f.Attrs["overlap_minutes"] != 5.0 || f.Attrs["tracing_run"] != run.Str("id") || !f.At.Equal(base.Add(10*time.Minute)) ||
			!caseAt.Equal(base) || f.Source != "tracing:"+run.Str("id") || !strings.HasPrefix(f.RecordedBy, "operator:") {
			t.Fatalf("companion fact: %+v", f)
		}
		clk.set(time.Now().Add(-15 * 24 * time.Hour)) // outside later runs' lookback
		if c := e.Want(e.Do("POST", "/api/v1/checkins", compTok, map[string]any{"venue_token": parkTok}), 201, "").Str("color"); c != "yellow" {
			t.Fatalf("the companion is %s, want yellow", c)
		}
		for _, who := range []struct{ tok, id string }{{thirdTok, thirdID}, {lateTok, lateID}, {caseTok, caseID}} {
			if len(e.factsOf(who.id)) != 0 {
				t.Fatalf("person %s got a fact", who.id)
			}
			if c := e.Want(e.Do("POST", "/api/v1/checkins", who.tok, map[string]any{"venue_token": parkTok}), 201, "").Str("color"); c != "green" {
				t.Fatalf("person %s is %s, want green", who.id, c)
			}
		}

		// Re-running records nothing twice and opens no second task.
		again := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id"))
		if again.Body["companions"] != 2.0 || again.Body["facts"] != 0.0 || again.Body["tasks"] != 0.0 || len(e.factsOf(compID)) != 1 {
			t.Fatalf("re-run: %s", again.Raw)
		}
		// A run's own window overrides the per-kind one: 30 min takes in the
		// late arrival too.
		wide := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{
			"person_ids": []string{caseID}, "window": "30m", "lookback": "3d"}), 202, "").Str("id"))
		if wide.Body["companions"] != 3.0 || wide.Body["window_minutes"] != 30.0 {
			t.Fatalf("run with a 30 min window: %s", wide.Raw)
		}

		// The report as CSV: masked names, Chinese header first.
		res, body := e.GetAuth("/api/v1/admin/tracing/"+run.Str("id")+"/report.csv", admin)
		csv := string(body)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(csv, "\uFEFF序号,同行人编号") || strings.Count(csv, "\n") != 3 ||
			!strings.Contains(csv, "林*行") || strings.Contains(csv, "林同行") || strings.Contains(csv, "陈病例") ||
			!strings.Contains(csv, "津城饭店") || strings.Contains(csv, rid("19760101", 202)) {
			t.Fatalf("CSV export: %d %s\n%s", res.StatusCode, res.Header, csv)
		}
		_, body = e.GetAuth("/api/v1/admin/tracing/"+run.Str("id")+"/report.csv?lang=en", admin)
		if !strings.HasPrefix(string(body), "\uFEFFseq,person_id,person_name") {
			t.Fatalf("English CSV header: %s", body)
		}

		// Reading and exporting the report is audited.
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=tracing:"+run.Str("id"), admin, nil), 200, "")
		actions := map[string]bool{}
		for _, en := range audit.Body["entries"].([]any) {
			actions[en.(map[string]any)["action"].(string)] = true
		}
		if !actions["tracing.run"] || !actions["tracing.read"] || !actions["tracing.export"] {
			t.Fatalf("audit of the run: %s", audit.Raw)
		}

		// Operators of another region do not see the run.
		outsider := e.NewOperator("dongjin", "health_officer", "341881100")
		e.Want(e.Do("GET", "/api/v1/admin/tracing/"+run.Str("id"), outsider, nil), 404, "tracing_run_not_found")
		e.Want(e.Do("GET", "/api/v1/admin/tracing/"+run.Str("id")+"/report.csv", outsider, nil), 404, "tracing_run_not_found")
		viewer := e.NewOperator("looker", "viewer", "341881")
		e.Want(e.Do("GET", "/api/v1/admin/tracing/"+run.Str("id"), viewer, nil), 403, "forbidden")
	})
}

func TestTracingTasks(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		_, tok := e.Venue(admin, "竹峰茶楼", "restaurant", "341881005")
		caseTok, caseID := e.Resident("13900000301", "高病例", rid("19750101", 301), "341881005")
		compTok, compID := e.Resident("13900000302", "马同行", rid("19760101", 302), "341881001")
		e.Want(e.Do("POST", "/api/v1/checkins", caseTok, map[string]any{"venue_token": tok}), 201, "")
		e.Want(e.Do("POST", "/api/v1/checkins", compTok, map[string]any{"venue_token": tok}), 201, "")
		run := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id"))
		if run.Body["tasks"] != 1.0 {
			t.Fatalf("run: %s", run.Raw)
		}

		// The grid worker of the companion's street sees the task; the one of
		// the case's street does not.
		grid := e.NewOperator("xijin_grid", "health_officer", "341881001")
		other := e.NewOperator("zhufeng_grid", "health_officer", "341881005")
		viewer := e.NewOperator("xijin_viewer", "viewer", "341881001")
		list := e.Want(e.Do("GET", "/api/v1/admin/tasks", grid, nil), 200, "")
		tasks := list.Body["tasks"].([]any)
		if len(tasks) != 1 {
			t.Fatalf("tasks: %s", list.Raw)
		}
		task := tasks[0].(map[string]any)
		if task["status"] != "open" || task["person"].(map[string]any)["id"] != compID || task["person"].(map[string]any)["name"] != "马*行" ||
			task["region"] != "341881001" || task["region_name"] != "安徽省宣城市宁国市西津街道" || task["case"].(map[string]any)["id"] != caseID ||
			task["run_id"] != run.Str("id") {
			t.Fatalf("task: %v", task)
		}
		id := task["id"].(string)
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/tasks", other, nil), 200, "").Body["tasks"].([]any)); n != 0 {
			t.Fatalf("an operator of another street sees %d tasks", n)
		}
		e.Want(e.Do("GET", "/api/v1/admin/tasks", viewer, nil), 403, "forbidden")
		e.Want(e.Do("GET", "/api/v1/admin/tasks?status=done", grid, nil), 400, "status_invalid")
		e.Want(e.Do("GET", "/api/v1/admin/tasks?region=341881005", grid, nil), 403, "out_of_scope")

		// Assign: to someone whose region covers the person, who may handle tasks.
		ops := e.Want(e.Do("GET", "/api/v1/admin/operators", admin, nil), 200, "")
		opID := map[string]string{}
		for _, o := range ops.Body["operators"].([]any) {
			m := o.(map[string]any)
			opID[m["username"].(string)] = m["id"].(string)
		}
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{"operator_id": opID["zhufeng_grid"]}), 422, "operator_out_of_region")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{"operator_id": opID["xijin_viewer"]}), 422, "operator_cannot_visit")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{"operator_id": "nobody"}), 404, "operator_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{}), 400, "operator_id_missing")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", other, map[string]any{"operator_id": opID["xijin_grid"]}), 404, "task_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/nosuchtask/assign", admin, map[string]any{"operator_id": opID["xijin_grid"]}), 404, "task_not_found")
		a := e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{"operator_id": opID["xijin_grid"]}), 200, "")
		if a.Str("status") != "assigned" || a.Str("operator_id") != opID["xijin_grid"] || a.Str("assigned_at") == "" {
			t.Fatalf("assigned task: %s", a.Raw)
		}
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/tasks?operator_id="+opID["xijin_grid"]+"&status=assigned", grid, nil), 200, "").Body["tasks"].([]any)); n != 1 {
			t.Fatalf("%d tasks assigned to the grid worker, want 1", n)
		}

		// Visited closes it, once.
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/visited", grid, map[string]any{"note": " "}), 400, "note_missing")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/visited", grid, map[string]any{"note": strings.Repeat("长", 1001)}), 400, "note_too_long")
		v := e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/visited", grid, map[string]any{"note": "已上门，告知三天两检"}), 200, "")
		if v.Str("status") != "visited" || v.Str("note") != "已上门，告知三天两检" || !strings.HasPrefix(v.Str("visited_by"), "operator:") {
			t.Fatalf("visited task: %s", v.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/visited", grid, map[string]any{"note": "again"}), 409, "task_visited")
		e.Want(e.Do("POST", "/api/v1/admin/tasks/"+id+"/assign", admin, map[string]any{"operator_id": opID["xijin_grid"]}), 409, "task_visited")

		// A later run opens a new task once the old one is visited.
		again := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id"))
		if again.Body["tasks"] != 1.0 {
			t.Fatalf("re-run after the visit: %s", again.Raw)
		}
	})
}

func TestTracingByVenueAndCheckpoint(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		clk := &clock{}
		e.App.Checkins.SetClock(clk.now)
		venueID, venueTok := e.Venue(admin, "河沥溪商场", "mall", "341881003")
		aTok, aID := e.Resident("13900000401", "甲一", rid("19750101", 401), "341881003")
		bTok, bID := e.Resident("13900000402", "乙二", rid("19750101", 402), "341881003")
		cTok, _ := e.Resident("13900000403", "丙三", rid("19750101", 403), "341881003")
		base := time.Now().Add(-5 * time.Hour).Truncate(time.Minute)
		for _, c := range []struct {
			tok string
			at  time.Time
		}{{aTok, base.Add(-20 * time.Minute)}, {bTok, base.Add(70 * time.Minute)}, {cTok, base.Add(3 * time.Hour)}} {
			clk.set(c.at)
			e.Want(e.Do("POST", "/api/v1/checkins", c.tok, map[string]any{"venue_token": venueTok}), 201, "")
		}
		// The mall was a risk place from base to base+1h: a arrived 20 min
		// before it (still there for 10 min of it, with the 30 min window), b
		// 10 min after it ended, c long after.
		q := map[string]any{"venue_id": venueID, "from": base.Format(time.RFC3339), "to": base.Add(time.Hour).Format(time.RFC3339)}
		run := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, q), 202, "").Str("id"))
		rows := reportOf(run)
		if run.Str("status") != "done" || run.Str("mode") != "venue" || len(rows) != 2 || run.Body["venue"].(map[string]any)["name"] != "河沥溪商场" {
			t.Fatalf("venue run: %s", run.Raw)
		}
		byID := map[string]map[string]any{}
		for _, r := range rows {
			byID[r["person"].(map[string]any)["id"].(string)] = r
			if r["case"] != nil {
				t.Fatalf("a venue run names a case: %v", r)
			}
		}
		if byID[aID]["overlap_minutes"] != 10.0 || byID[bID]["overlap_minutes"] != 0.0 {
			t.Fatalf("overlaps: a %v, b %v", byID[aID], byID[bID])
		}
		if f := e.factsOf(aID); len(f) != 1 || f[0].Attrs["case_person"] != "venue:"+venueID {
			t.Fatalf("venue companion fact: %+v", f)
		}

		// A verification at a checkpoint is presence there.
		cp := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "河沥溪卡口", "region": "341881003"}), 201, "")
		_, sID := e.Resident("13900000404", "丁四", rid("19750101", 404), "341881003")
		ctx := context.Background()
		for _, v := range []struct {
			id string
			at time.Time
		}{{aID, base.Add(2 * time.Hour)}, {sID, base.Add(2*time.Hour + 8*time.Minute)}, {bID, base.Add(4 * time.Hour)}} {
			if err := e.App.Checkins.RecordVerification(ctx, checkin.Verification{KeyID: "k", Checkpoint: cp.Str("id"),
				Person: personNum(t, e.App.DB, v.id), At: v.at, Valid: true, Kind: "dynamic"}); err != nil {
				t.Fatal(err)
			}
		}
		// An unattributed scan at the same moment is no one.
		if err := e.App.Checkins.RecordVerification(ctx, checkin.Verification{KeyID: "k", Checkpoint: cp.Str("id"),
			At: base.Add(2 * time.Hour), Reason: "bad_signature", Kind: "dynamic"}); err != nil {
			t.Fatal(err)
		}
		run = e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{aID}}), 202, "").Str("id"))
		rows = reportOf(run)
		if len(rows) != 1 || rows[0]["person"].(map[string]any)["id"] != sID || rows[0]["venue"].(map[string]any)["kind"] != "checkpoint" ||
			rows[0]["venue"].(map[string]any)["name"] != "河沥溪卡口" || rows[0]["overlap_minutes"] != 22.0 {
			t.Fatalf("checkpoint run: %s", run.Raw)
		}
	})
}

func TestTracingBadInput(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		venueID, _ := e.Venue(admin, "汪溪小吃", "restaurant", "341881004")
		_, caseID := e.Resident("13900000501", "钟病例", rid("19750101", 501), "341881004")
		officer := e.NewOperator("xijin_cdc", "health_officer", "341881001")
		from, to := time.Now().Add(-2*time.Hour).Format(time.RFC3339), time.Now().Format(time.RFC3339)
		runs := e.Count("tracing_runs")
		for _, c := range []struct {
			tok    string
			body   any
			status int
			code   string
		}{
			{admin, map[string]any{"person_ids": []string{"0000000000000"}}, 404, "person_not_found"},
			{admin, map[string]any{"person_ids": []string{caseID, "notaperson"}}, 404, "person_not_found"},
			{officer, map[string]any{"person_ids": []string{caseID}}, 404, "person_not_found"}, // out of scope
			{admin, map[string]any{"person_ids": []string{caseID, caseID}}, 400, "person_duplicate"},
			{admin, map[string]any{}, 400, "cases_missing"},
			{admin, map[string]any{"person_ids": []string{}}, 400, "cases_missing"},
			{admin, map[string]any{"person_ids": []string{caseID}, "venue_id": venueID, "from": from, "to": to}, 400, "cases_or_venue"},
			{admin, map[string]any{"person_ids": []string{caseID}, "from": from}, 400, "time_range_needs_venue"},
			{admin, map[string]any{"person_ids": []string{caseID}, "lookback": "29d"}, 400, "lookback_too_long"},
			{admin, map[string]any{"person_ids": []string{caseID}, "lookback": "two weeks"}, 400, "lookback_invalid"},
			{admin, map[string]any{"person_ids": []string{caseID}, "lookback": "-3h"}, 400, "lookback_invalid"},
			{admin, map[string]any{"person_ids": []string{caseID}, "window": "10s"}, 400, "window_invalid"},
			{admin, map[string]any{"person_ids": []string{caseID}, "window": "2d"}, 400, "window_invalid"},
			{admin, map[string]any{"venue_id": venueID, "from": to, "to": from}, 400, "time_range_inverted"},
			{admin, map[string]any{"venue_id": venueID, "from": from, "to": from}, 400, "time_range_inverted"},
			{admin, map[string]any{"venue_id": venueID, "from": from}, 400, "time_range_missing"},
			{admin, map[string]any{"venue_id": venueID, "from": "yesterday", "to": to}, 400, "from_invalid"},
			{admin, map[string]any{"venue_id": venueID, "from": "2020-01-01T00:00:00Z", "to": "2020-03-01T00:00:00Z"}, 400, "time_range_too_long"},
			{admin, map[string]any{"venue_id": venueID, "from": from, "to": to, "lookback": "3d"}, 400, "lookback_needs_cases"},
			{admin, map[string]any{"venue_id": "nosuchvenue", "from": from, "to": to}, 404, "venue_not_found"},
			{officer, map[string]any{"venue_id": venueID, "from": from, "to": to}, 404, "venue_not_found"},
			{admin, map[string]any{"cases": []string{caseID}}, 400, "unknown_field"},
			{e.NewOperator("lab1", "lab", "341881"), map[string]any{"person_ids": []string{caseID}}, 403, "forbidden"},
		} {
			e.Want(e.Do("POST", "/api/v1/admin/tracing", c.tok, c.body), c.status, c.code)
		}
		if n := e.Count("tracing_runs"); n != runs {
			t.Fatalf("bad tracing requests stored %d runs", n-runs)
		}
		e.Want(e.Do("GET", "/api/v1/admin/tracing/nosuchrun", admin, nil), 404, "tracing_run_not_found")
		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"venue_id": venueID, "from": from, "to": to}), 202, "")
		if r := e.waitRun(admin, run.Str("id")); r.Str("status") != "done" || r.Body["companions"] != 0.0 {
			t.Fatalf("an empty venue window: %s", r.Raw)
		}
	})
}

// TestScansAtACheckpointArePresence: codes verified at a checkpoint through
// POST /verify are recorded (group commit) and traced like check-ins.
func TestScansAtACheckpointArePresence(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		cp := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "南山卡口", "region": "341881002"}), 201, "")
		key := cp.Str("api_key")
		caseTok, caseID := e.Resident("13900000701", "石病例", rid("19750101", 701), "341881002")
		compTok, compID := e.Resident("13900000702", "叶同行", rid("19750101", 702), "341881002")
		for _, tok := range []string{caseTok, compTok} {
			code := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
			if v := e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": code}), 200, ""); v.Body["valid"] != true {
				t.Fatalf("verify: %s", v.Raw)
			}
		}
		e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": "HC9:nonsense"}), 200, "") // unattributed: no one
		if n := e.Count("verifications"); n != 3 {
			t.Fatalf("%d verification events stored, want 3", n)
		}
		run := e.waitRun(admin, e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id"))
		rows := reportOf(run)
		if len(rows) != 1 || rows[0]["person"].(map[string]any)["id"] != compID || rows[0]["venue"].(map[string]any)["kind"] != "checkpoint" ||
			rows[0]["venue"].(map[string]any)["id"] != cp.Str("id") || rows[0]["venue"].(map[string]any)["name"] != "南山卡口" {
			t.Fatalf("run over checkpoint scans: %s", run.Raw)
		}
		if f := e.factsOf(compID); len(f) != 1 || f[0].Attrs["venue"] != cp.Str("id") {
			t.Fatalf("companion fact: %+v", f)
		}
	})
}
