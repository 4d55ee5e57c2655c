package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/sms"
)

// messages are the texts of a purpose queued for a phone.
func (e *env) messages(phone, purpose string) []string {
	e.t.Helper()
	items, err := e.App.Outbox.List(context.Background(), sms.Filter{To: phone, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Purpose == purpose {
			out = append(out, it.Body)
		}
	}
	return out
}

// Knowing a phone-less dependent's name and identity number does not make
// anyone one of its managers: a manager consents, or a service desk verifies
// the requester in person (audited), and every manager hears of every new one.
func TestManagingSomeoneManagedNeedsConsent(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		const phoneA, phoneB, phoneC, phoneD = "13900000801", "13900000802", "13900000803", "13900000804"
		a, _ := e.Resident(phoneA, "周大", rid("19700101", 801), "341881001")
		dep := map[string]any{"name": "周老太", "id_type": "resident_id", "id_number": rid("19400101", 802), "relation": "parent"}
		depID := e.Want(e.Do("POST", "/api/v1/me/dependents", a, dep), 201, "").Str("id")
		testsOf := "/api/v1/me/dependents/" + depID + "/tests"
		e.Want(e.Do("GET", testsOf, a, nil), 200, "")

		// Nor does registering one's own phone as that person: the managed
		// person is not taken over, and stays without a phone.
		thief := e.ResidentToken("13900000809")
		e.Want(e.Do("POST", "/api/v1/me/register", thief, map[string]any{"name": "周老太", "id_type": "resident_id",
			"id_number": rid("19400101", 802)}), 409, "person_managed")
		e.Want(e.Do("GET", "/api/v1/me", thief, nil), 404, "not_registered")
		e.Want(e.Do("GET", testsOf, a, nil), 200, "")

		// A stranger who knows the name and number: a request, nothing readable.
		b, _ := e.Resident(phoneB, "吴某", rid("19800101", 803), "341881001")
		req := e.Want(e.Do("POST", "/api/v1/me/dependents", b, dep), 202, "")
		if req.Str("state") != "pending" || req.Str("person_id") != depID || req.Str("masked_name") == "周老太" {
			t.Fatalf("request: %s", req.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/dependents", b, dep), 409, "manager_request_pending")
		e.Want(e.Do("GET", testsOf, b, nil), 404, "person_not_found")
		if n := len(e.Want(e.Do("GET", "/api/v1/me/dependents", b, nil), 200, "").Body["dependents"].([]any)); n != 0 {
			t.Fatalf("the requester manages %d dependents before consent", n)
		}
		if got := e.messages(phoneA, sms.KindManagerRequest); len(got) != 1 {
			t.Fatalf("the manager got %d requests: %q", len(got), got)
		}
		// Only a manager sees and decides the request.
		e.Want(e.Do("POST", "/api/v1/me/manager-requests/"+req.Str("id")+"/approve", b, nil), 404, "manager_request_not_found")
		list := e.Want(e.Do("GET", "/api/v1/me/manager-requests", a, nil), 200, "").Body["requests"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["requester_phone"] != "139****0802" {
			t.Fatalf("requests: %v", list)
		}
		e.Want(e.Do("POST", "/api/v1/me/manager-requests/"+req.Str("id")+"/approve", a, nil), 200, "")
		e.Want(e.Do("POST", "/api/v1/me/manager-requests/"+req.Str("id")+"/refuse", a, nil), 404, "manager_request_not_found")
		e.Want(e.Do("GET", testsOf, b, nil), 200, "")
		for ph, want := range map[string]int{phoneA: 1, phoneB: 0} {
			if got := e.messages(ph, sms.KindManagerAdded); len(got) != want {
				t.Errorf("%s heard of the new manager %d times, want %d", ph, len(got), want)
			}
		}

		// Refused: nothing changes.
		c, _ := e.Resident(phoneC, "郑某", rid("19810101", 804), "341881001")
		req = e.Want(e.Do("POST", "/api/v1/me/dependents", c, dep), 202, "")
		if got := e.messages(phoneB, sms.KindManagerRequest); len(got) != 1 {
			t.Fatalf("the second manager got %d requests", len(got))
		}
		e.Want(e.Do("POST", "/api/v1/me/manager-requests/"+req.Str("id")+"/refuse", b, nil), 200, "")
		e.Want(e.Do("GET", testsOf, c, nil), 404, "person_not_found")

		// A desk verification, in scope only, audited; every manager told.
		d, _ := e.Resident(phoneD, "王孙", rid("19950101", 805), "341881001")
		other := e.NewOperator("desk_elsewhere", "admin", "341881002")
		desk := map[string]any{"phone": phoneD, "relation": "child"}
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+depID+"/managers", other, desk), 404, "person_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+depID+"/managers", admin, map[string]any{"phone": "13900000899"}), 404, "account_not_found")
		e.Want(e.Do("GET", testsOf, d, nil), 404, "person_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+depID+"/managers", admin, desk), 201, "")
		e.Want(e.Do("GET", testsOf, d, nil), 200, "")
		for ph, want := range map[string]int{phoneA: 2, phoneB: 1, phoneD: 0} {
			if got := e.messages(ph, sms.KindManagerAdded); len(got) != want {
				t.Errorf("%s heard of new managers %d times, want %d", ph, len(got), want)
			}
		}
		log := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+depID, admin, nil), 200, "")
		found := false
		for _, en := range log.Body["entries"].([]any) {
			if en.(map[string]any)["action"] == "dependent.desk_verify" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no desk verification in the audit log: %s", log.Raw)
		}
	})
}

// A town's health officer runs a tracing run from a case in their town: the
// run records facts for every companion, but the report shows the officer
// only the companions living in their town and counts the others, whose own
// town's officers get their tasks.
func TestTracingReportIsScoped(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		_, venueTok := e.Venue(admin, "边界茶楼", "restaurant", "341881001")
		caseTok, caseID := e.Resident("13900000821", "许病例", rid("19700101", 821), "341881001")
		nearTok, nearID := e.Resident("13900000822", "本镇人", rid("19710101", 822), "341881001")
		farTok, farID := e.Resident("13900000823", "外镇人", rid("19720101", 823), "341881002")
		for _, tok := range []string{caseTok, nearTok, farTok} {
			e.Want(e.Do("POST", "/api/v1/checkins", tok, map[string]any{"venue_token": venueTok}), 201, "")
		}
		officer := e.NewOperator("town1_officer", "health_officer", "341881001")
		otherTown := e.NewOperator("town2_officer", "health_officer", "341881002")
		e.Want(e.Do("GET", "/api/v1/admin/persons/"+farID, officer, nil), 404, "person_not_found")

		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", officer, map[string]any{"person_ids": []string{caseID}}), 202, "").Str("id")
		done := e.waitRun(officer, run)
		if done.Body["companions"] != 2.0 || done.Body["companions_out_of_scope"] != 1.0 {
			t.Fatalf("run: %s", done.Raw)
		}
		page := e.Want(e.Do("GET", "/api/v1/admin/tracing/"+run+"?limit=100", officer, nil), 200, "")
		report := page.Body["report"].([]any)
		if len(report) != 1 || report[0].(map[string]any)["person"].(map[string]any)["id"] != nearID {
			t.Fatalf("the town's officer sees: %s", page.Raw)
		}
		_, csv := e.GetAuth("/api/v1/admin/tracing/"+run+"/report.csv?lang=en", officer)
		if strings.Contains(string(csv), farID) || !strings.Contains(string(csv), nearID) {
			t.Fatalf("export:\n%s", csv)
		}
		// The city's admin sees both.
		if all := e.Want(e.Do("GET", "/api/v1/admin/tracing/"+run+"?limit=100", admin, nil), 200, ""); len(all.Body["report"].([]any)) != 2 ||
			all.Body["companions_out_of_scope"] != 0.0 {
			t.Fatalf("the admin sees: %s", all.Raw)
		}
		// The other town's officer gets the task of their resident, and not the other.
		tasks := e.Want(e.Do("GET", "/api/v1/admin/tasks", otherTown, nil), 200, "").Body["tasks"].([]any)
		if len(tasks) != 1 || tasks[0].(map[string]any)["person"].(map[string]any)["id"] != farID {
			t.Fatalf("the other town's tasks: %v", tasks)
		}
		// The facts are recorded for everyone: the far companion's colour changed too.
		if c := e.Want(e.Do("GET", "/api/v1/me", farTok, nil), 200, "").Str("color"); c == "green" {
			t.Fatalf("the other town's companion is still green")
		}
	})
}
