package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The counters judge a run as the body check did: an answer the server
// counted bad, or one it did not count good, is an error.
func TestAnswerCheckJudgesByTheServersCounters(t *testing.T) {
	admitted, refused, invalid := 10.0, 2.0, 1.0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "# HELP healthcode_codes_verified_total x\n"+
			"healthcode_codes_verified_total{kind=\"dynamic\",outcome=\"admitted\"} %g\n"+
			"healthcode_codes_verified_total{kind=\"dynamic\",outcome=\"refused\"} %g\n"+
			"healthcode_codes_verified_total{kind=\"dynamic\",outcome=\"invalid\"} %g\n"+
			"healthcode_codes_issued_total{kind=\"dynamic\"} 5\n", admitted, refused, invalid)
	}))
	defer srv.Close()
	nodes := []string{srv.URL, srv.URL + "/"} // two nodes: summed
	before, ok := verifyCheck.counts(t.Context(), srv.Client(), nodes)
	if !ok || before.good != 24 || before.other != 2 {
		t.Fatalf("counts %+v %v, want 24 good and 2 other", before, ok)
	}
	for _, c := range []struct {
		name                 string
		admit, refuse, inval float64
		requests, status     int64
		bad                  int64
	}{
		{"every answer good", 90, 10, 0, 100, 0, 0},
		{"a few more counted than wrk saw", 92, 10, 0, 100, 0, 0},
		{"an invalid answer", 89, 10, 1, 100, 0, 1 + 1},
		{"answers not counted", 70, 10, 0, 100, 0, 20},
		{"4xx answers are wrk's errors, not counted again", 70, 10, 0, 100, 20, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			admitted, refused, invalid = 10+c.admit/2, 2+c.refuse/2, 1+c.inval/2
			after, ok := verifyCheck.counts(t.Context(), srv.Client(), nodes)
			if !ok {
				t.Fatal("counts not read")
			}
			w := &wrkRun{requests: c.requests, status: c.status}
			verifyCheck.judge(w, before, after)
			if w.bad != c.bad || (c.bad > 0) != (w.sample != "") {
				t.Fatalf("bad %d (%q), want %d", w.bad, w.sample, c.bad)
			}
		})
	}
	if _, ok := scanCheck.counts(t.Context(), srv.Client(), nodes); ok {
		t.Fatal("a counter the server lacks was read")
	}
	if n, ok := codeCheck.counts(t.Context(), srv.Client(), nodes); !ok || n.good != 10 {
		t.Fatalf("codes issued %+v %v, want 10", n, ok)
	}
	if _, ok := verifyCheck.counts(t.Context(), srv.Client(), []string{srv.URL + "/none"}); ok {
		t.Fatal("a node without /metrics was read")
	}
}
