package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// What the script's done() prints is what the report is made of; wrk's
// own summary around it is ignored.
func TestParseWrk(t *testing.T) {
	t.Parallel()
	out := `Running 1s test @ http://127.0.0.1:4000/
  2 threads and 4 connections
Requests/sec:   1234.00
hcwrk requests=1234 duration_us=1000500 connect=0 read=1 write=0 status=2 timeout=0 bad=3 repeats=7
hcwrk p50_us=800 p95_us=2000 p99_us=4500 max_us=9000
hcwrk sample={"valid":false}
`
	w, err := parseWrk([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if w.requests != 1234 || w.seconds != 1.0005 || w.read != 1 || w.status != 2 || w.bad != 3 || w.rep != 7 || w.errors() != 6 ||
		w.p50 != 800*time.Microsecond || w.p99 != 4500*time.Microsecond || w.max != 9*time.Millisecond || w.sample != `{"valid":false}` {
		t.Fatalf("%+v", w)
	}
	r := wrkResult(PathVerify, w, 2468)
	if r.Ratio != 0.5 || r.Errors != 6 || r.Meets == nil || *r.Meets || len(r.ErrorSamples) != 2 {
		t.Fatalf("%+v", r)
	}
	for _, bad := range []string{"Running 1s test\nRequests/sec: 10\n", "hcwrk requests=x\n"} {
		if _, err := parseWrk([]byte(bad)); err == nil || !strings.Contains(err.Error(), "wrk") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// With several nodes wrk runs a thread per node, each thread's connections
// to its node, and every connection wrk is given is used.
func TestWrkShape(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ conc, nodes, threads, conns int }{
		{32, 1, 2, 32}, {1, 1, 1, 1}, {32, 3, 3, 33}, {32, 2, 2, 32}, {2, 3, 3, 3},
	} {
		if th, co := wrkShape(c.conc, c.nodes); th != c.threads || co != c.conns {
			t.Errorf("wrkShape(%d, %d) = -t%d -c%d, want -t%d -c%d", c.conc, c.nodes, th, co, c.threads, c.conns)
		}
	}
}

// A run over three nodes sends each node its share: every request of the
// run reaches one of them, and each gets a third of them, give or take
// what a thread's connections finish in the same time as another's.
func TestWrkSpreadsOverNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs wrk for a second: skipped under -short")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("wrk is not installed (Debian package wrk; .ci/run installs it)")
		}
		t.Skip("wrk is not installed (Debian package wrk)")
	}
	t.Parallel()
	hits := make([]atomic.Int64, 3)
	var bases []string
	for i := range hits {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			w.Write([]byte(`{"valid":true}`))
		}))
		defer s.Close()
		bases = append(bases, s.URL)
	}
	r := &wrkRunner{bin: "wrk", dir: t.TempDir(), conc: 6}
	reqs := []*request{{method: "POST", url: bases[0] + "/api/v1/verify", token: "t", body: []byte(`{"code":"x"}`)}}
	w, err := r.runDB(context.Background(), bases, reqs, `"valid":true`, false, time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for i := range hits {
		total += hits[i].Load()
	}
	if w.errors() != 0 || w.requests == 0 || total < w.requests {
		t.Fatalf("wrk counted %d requests (%d errors), the nodes %d", w.requests, w.errors(), total)
	}
	for i := range hits {
		if n := hits[i].Load(); n < total/6 {
			t.Errorf("node %d got %d of %d requests", i+1, n, total)
		}
	}
}
