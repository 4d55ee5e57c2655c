package server_test

import (
	"fmt"
	"testing"
	"time"
)

// These tests run the features together with nothing faked: residents'
// own dynamic codes are scanned into tubes, lab results become facts, the
// status engine decides colours with the default rules, and /me and
// /verify show them.

func (e *env) colourOf(token string) string {
	e.t.Helper()
	return e.Want(e.Do("GET", "/api/v1/me", token, nil), 200, "").Str("color")
}

func TestMixedTubeEndToEnd(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		sampler := e.NewOperator("caiyang", "sampler", "341881001")
		lab := e.NewOperator("jianyan", "lab", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/sites", admin, map[string]any{"name": "西津街道采样点", "address": "宁国市西津街道",
			"lat": 30.633, "lng": 118.983, "region": "341881001"}), 201, "").Str("id")

		type res struct{ token string }
		people := make([]res, 10)
		for i := range people {
			tok := e.ResidentToken(fmt.Sprintf("139100000%02d", i))
			e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{"name": "居民" + fmt.Sprint(i), "id_type": "resident_id",
				"id_number": rid("19800101", 100+i), "region": "341881001"}), 201, "")
			people[i] = res{tok}
			if c := e.colourOf(tok); c != "green" {
				t.Fatalf("a new resident is %s", c)
			}
		}
		sample := func(barcode string, capacity int, idx ...int) {
			t.Helper()
			e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": barcode, "capacity": capacity, "site_id": site}), 201, "")
			for _, i := range idx {
				code := e.Want(e.Do("GET", "/api/v1/me/code", people[i].token, nil), 200, "").Str("code")
				e.Want(e.Do("POST", "/api/v1/nat/tubes/"+barcode+"/samples", sampler, map[string]any{"code": code}), 201, "")
			}
			e.Want(e.Do("POST", "/api/v1/nat/tubes/"+barcode+"/seal", sampler, nil), 200, "")
		}
		all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		sample("M0000001", 10, all...)
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "M0000001", "result": "positive"}), 201, "")
		for i, p := range people {
			if c := e.colourOf(p.token); c == "green" {
				t.Fatalf("resident %d is still green after a positive 10-in-1 tube", i)
			}
		}
		// Each turns green only after their own negative single-tube retest.
		for i := range people {
			barcode := fmt.Sprintf("S%07d", i)
			sample(barcode, 1, i)
			e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": barcode, "result": "negative"}), 201, "")
			for j, p := range people {
				want := j <= i
				if got := e.colourOf(p.token) == "green"; got != want {
					t.Fatalf("after %d retests, resident %d green = %v, want %v", i+1, j, got, want)
				}
			}
		}
	})
}

func TestCompanionClearsWithTwoNegativesADayApart(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		tok := e.ResidentToken("13920000001")
		me := e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{"name": "王五", "id_type": "resident_id",
			"id_number": rid("19900101", 201), "region": "341881001"}), 201, "")
		id := me.Str("id")
		now := time.Now().UTC()
		post := func(kind string, at time.Time, attrs map[string]any) {
			t.Helper()
			e.Want(e.Do("POST", "/api/v1/admin/facts", admin, map[string]any{"person_id": id, "kind": kind,
				"at": at.Format(time.RFC3339), "attrs": attrs}), 201, "")
		}
		post("contact.companion", now.Add(-50*time.Hour), map[string]any{"case_person": "p1", "venue": "v1",
			"case_at": now.Add(-50 * time.Hour).Format(time.RFC3339), "person_at": now.Add(-50*time.Hour + 10*time.Minute).Format(time.RFC3339),
			"overlap_minutes": 20})
		if c := e.colourOf(tok); c != "yellow" {
			t.Fatalf("a companion is %s, want yellow", c)
		}
		post("nat.result", now.Add(-47*time.Hour), map[string]any{"result": "negative"})
		if c := e.colourOf(tok); c != "yellow" {
			t.Fatalf("one negative made the companion %s", c)
		}
		post("nat.result", now.Add(-24*time.Hour-30*time.Minute), map[string]any{"result": "negative"})
		if c := e.colourOf(tok); c != "yellow" {
			t.Fatalf("two negatives 22.5 h apart made the companion %s; the rule needs 24 h", c)
		}
		post("nat.result", now.Add(-22*time.Hour), map[string]any{"result": "negative"})
		if c := e.colourOf(tok); c != "green" {
			t.Fatalf("two negatives 25 h apart within 3 days left the companion %s", c)
		}
	})
}
