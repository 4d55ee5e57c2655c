package server_test

import (
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
)

// A code fetched through the API is a code shown, counted like one a page
// shows: in the holder's region, for operators whose scope holds it.
// Fetches that are refused show nothing and count nothing.
func TestAPICodeFetchesAreCounted(t *testing.T) {
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		tok, _ := e.resident("13900000105", "赵六", rid("19800101", 105))
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "赵老太", "id_type": "resident_id", "id_number": rid("19400101", 106), "relation": "parent"}), 201, "").Str("id")
		e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "")
		e.getPNG("/api/v1/me/code.png", tok)
		e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/code", tok, nil), 200, "")
		e.getPNG("/api/v1/me/dependents/"+dep+"/code.png", tok)
		e.Want(e.Do("GET", "/api/v1/me/code.png?size=5", tok, nil), 400, "size_invalid")
		e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/code", e.ResidentToken("13900000106"), nil), 404, "person_not_found")

		from := time.Now().Add(-time.Hour).Truncate(time.Hour)
		total := func(region string) int64 {
			by := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Viewer, Region: region}
			shows, err := e.App.Codes.ShowsPerHour(t.Context(), by, from)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for _, c := range shows {
				n += c
			}
			return n
		}
		if n := total("341881"); n != 4 {
			t.Fatalf("%d code fetches counted in 宁国市, want 4", n)
		}
		if n := total("110000"); n != 0 {
			t.Fatalf("%d code fetches counted outside the holders' region", n)
		}
	})
}
