package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// A checkpoint an operator puts under a venue kind refuses, at POST
// /verify, whom that kind's entry policy turns away: the answer keeps its
// fields, admitted is false and the reason says why; the refusal is counted
// for the checkpoint, never who. A negative test admits the person again;
// a checkpoint without a kind admits them throughout; an unknown kind is a
// 400 that changes nothing.
func TestVenuePolicyHoldsAtVerification(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		officer := e.NewOperator("cdc", "health_officer", "341881")
		tok, id := e.Resident("13800001101", "李文博", rid("19880202", 912), "341881001")
		museumCP, museumKey := e.Checkpoint(admin, "宁国博物馆入口", "341881001")
		_, plainKey := e.Checkpoint(admin, "河沥溪卡口", "341881001")

		e.Want(e.Do("PATCH", "/api/v1/admin/checkpoints/"+museumCP, admin, map[string]any{"venue_kind": "palace"}), 400, "kind_invalid")
		cp := e.Want(e.Do("PATCH", "/api/v1/admin/checkpoints/"+museumCP, admin, map[string]any{"venue_kind": "entertainment"}), 200, "")
		if got := cp.Body["checkpoint"].(map[string]any)["venue_kind"]; got != "entertainment" {
			t.Fatalf("checkpoint after setting its kind: %s", cp.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", officer, map[string]any{"kind": "entertainment", "refuse": []string{}, "untested_hours": 72}), 200, "")

		verify := func(key string) (bool, []string) {
			t.Helper()
			r := e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": e.myCode(tok)}), 200, "")
			var reasons []string
			for _, x := range r.Body["reasons"].([]any) {
				reasons = append(reasons, x.(string))
			}
			if r.Body["valid"] != true || r.Body["color"] != "green" {
				t.Fatalf("verify: %s", r.Raw)
			}
			return r.Body["admitted"] == true, reasons
		}
		if ok, reasons := verify(museumKey); ok || !slices.Equal(reasons, []string{"venue_refused_untested"}) {
			t.Fatalf("untested at the museum: admitted %v, reasons %v", ok, reasons)
		}
		if ok, reasons := verify(plainKey); !ok || len(reasons) != 0 {
			t.Fatalf("at a checkpoint without a kind: admitted %v, reasons %v", ok, reasons)
		}
		refused, err := e.App.Checkins.CheckpointRefusals(t.Context(), museumCP, time.Now().Add(-time.Hour))
		if err != nil || refused["untested"] != 1 || len(refused) != 1 {
			t.Fatalf("the museum's refusals: %v %v", refused, err)
		}

		e.Want(e.fact(admin, id, "nat.result", time.Now().Add(-time.Hour), map[string]any{"result": "negative"}), 201, "")
		if ok, reasons := verify(museumKey); !ok || len(reasons) != 0 {
			t.Fatalf("tested at the museum: admitted %v, reasons %v", ok, reasons)
		}

		list := e.Want(e.Do("GET", "/api/v1/verify/reasons", "", nil), 200, "")
		for _, want := range []string{"venue_refused_untested", "venue_refused_starred"} {
			if !slices.ContainsFunc(list.Body["reasons"].([]any), func(x any) bool { return x.(map[string]any)["reason"] == want }) {
				t.Fatalf("GET /verify/reasons lacks %s: %s", want, list.Raw)
			}
		}
	})
}

// At a checkpoint the star also comes from the carrier: a scanned code
// names a person, whose own phone on record finds the carrier's stays. A
// person whose only stay in a starred city is the carrier's is refused at
// a checkpoint whose kind refuses starred people, and admitted where no
// such policy holds.
func TestCarrierStaysStarAtVerification(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		tok, id := e.Resident("13800001201", "赵子涵", rid("19920303", 913), "341881001")
		// The kind given when the checkpoint is added; an unknown one adds
		// nothing.
		hall := map[string]any{"name": "宁国影剧院入口", "region": "341881001", "venue_kind": "theatre"}
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, hall), 400, "kind_invalid")
		if n := e.Count("checkpoints"); n != 0 {
			t.Fatalf("%d checkpoints after a refused one", n)
		}
		hall["venue_kind"] = "entertainment"
		created := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, hall), 201, "")
		hallCP, hallKey := created.Str("id"), created.Str("api_key")
		if k := created.Body["checkpoint"].(map[string]any)["venue_kind"]; k != "entertainment" {
			t.Fatalf("the new checkpoint: %s", created.Raw)
		}
		_, plainKey := e.Checkpoint(admin, "港口卡口", "341881001")
		e.Want(e.Do("POST", "/api/v1/admin/venue-policies", admin, map[string]any{"kind": "entertainment", "refuse": []string{"starred"}}), 200, "")

		verify := func(key string) (bool, []string) {
			t.Helper()
			r := e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": e.myCode(tok)}), 200, "")
			var reasons []string
			for _, x := range r.Body["reasons"].([]any) {
				reasons = append(reasons, x.(string))
			}
			if r.Body["valid"] != true || r.Body["color"] != "green" {
				t.Fatalf("verify: %s", r.Raw)
			}
			return r.Body["admitted"] == true, reasons
		}

		// Six hours in Xuancheng three days ago, known only to the carrier
		// (the scans below are seconds apart, no stay of their own).
		cst := time.FixedZone("CST", 8*3600)
		first := time.Now().In(cst).Add(-72 * time.Hour).Truncate(time.Minute)
		f := func(t time.Time) string { return t.Format("2006-01-02 15:04") }
		e.Want(e.Send("POST", "/api/v1/admin/trip/stays/import", admin, "text/csv",
			"phone,city,first_seen,last_seen\n"+fmt.Sprintf("13800001201,341800,%s,%s\n", f(first), f(first.Add(6*time.Hour)))), 200, "")
		if ok, reasons := verify(hallKey); !ok || len(reasons) != 0 {
			t.Fatalf("before any area: admitted %v, reasons %v", ok, reasons)
		}

		now := time.Now().UTC()
		e.Want(e.Do("POST", "/api/v1/admin/risk-areas", admin, map[string]any{"region": "341881002", "level": "medium",
			"from": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}), 201, "")
		// The arrival rule turns them yellow; a negative test clears the
		// colour, not the star.
		if c := colorOf(e.Want(e.fact(admin, id, "nat.result", now.Add(-30*time.Minute), map[string]any{"result": "negative"}), 201, "")); c != "green" {
			t.Fatalf("after a negative test: %s", c)
		}
		if ok, reasons := verify(hallKey); ok || !slices.Equal(reasons, []string{"venue_refused_starred"}) {
			t.Fatalf("a carrier-starred person at the theatre: admitted %v, reasons %v", ok, reasons)
		}
		if ok, reasons := verify(plainKey); !ok || len(reasons) != 0 {
			t.Fatalf("at a checkpoint without a kind: admitted %v, reasons %v", ok, reasons)
		}
		refused, err := e.App.Checkins.CheckpointRefusals(t.Context(), hallCP, time.Now().Add(-time.Hour))
		if err != nil || refused["starred"] != 1 || len(refused) != 1 {
			t.Fatalf("the theatre's refusals: %v %v", refused, err)
		}
	})
}
