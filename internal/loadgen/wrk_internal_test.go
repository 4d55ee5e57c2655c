package loadgen

import (
	"strings"
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
