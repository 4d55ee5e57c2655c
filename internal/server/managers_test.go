package server_test

import (
	"context"
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
