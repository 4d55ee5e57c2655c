package server_test

import (
	"testing"
	"time"
)

// A checkpoint key looks people up by identity number at a desk's pace; a
// stolen one cannot walk the register. Refused input costs nothing.
func TestIdentityLookupsAreRateLimited(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		e.resident("13900000601", "刘备查", rid("19700101", 601), "341881001")
		checkpoint := func(name string) string {
			return e.want(e.do("POST", "/api/v1/admin/checkpoints", e.admin(), map[string]any{"name": name, "region": "341881001"}), 201, "").str("api_key")
		}
		key, other := checkpoint("服务台"), checkpoint("另一服务台")
		lookup := func(key, number string) resp {
			return e.do("POST", "/api/v1/verify/id", key, map[string]any{"id_type": "resident_id", "id_number": number})
		}
		for range 30 {
			e.want(lookup(key, "123"), 400, "")
		}
		// 20 at once, then one every 3 seconds; nobody found is a lookup too.
		start := time.Now()
		done := 0
		for ; done < 60; done++ {
			number := rid("19700101", 601)
			if done%2 == 1 {
				number = rid("19700101", 700+done)
			}
			r := lookup(key, number)
			if r.status == 429 {
				e.want(r, 429, "rate_limited")
				break
			}
			if r.status != 200 && r.errCode() != "id_not_registered" {
				t.Fatalf("lookup %d: %d %s", done, r.status, r.raw)
			}
		}
		if refilled := int(time.Since(start)/(3*time.Second)) + 1; done < 20 || done > 20+refilled {
			t.Fatalf("%d lookups before the limit in %v, want 20 and at most %d more", done, time.Since(start), refilled)
		}
		e.want(lookup(other, rid("19700101", 601)), 200, "")
	})
}
