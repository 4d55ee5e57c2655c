package loadgen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/loadgen"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// TestRunAgainstAServer drives an in-process server for a moment and
// checks that the figures are sane: every path measured, no errors,
// ordered percentiles, rates that agree with what the server counted.
func TestRunAgainstAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	s := servertest.Start(t, db.SQLite)
	bare := httptest.NewServer(loadgen.BareHandler())
	t.Cleanup(bare.Close)

	var progress bytes.Buffer
	phases := map[string]int{}
	rep, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: s.URL, BareURL: bare.URL, AdminPassword: servertest.AdminPassword,
		Concurrency: 4, Duration: 400 * time.Millisecond, Slice: 200 * time.Millisecond, Warmup: 50 * time.Millisecond,
		Residents: 12, Checkpoints: 3, Venues: 2, Rescan: 0.5,
		Mix:      map[string]int{"verify": 6, "code": 3, "checkin": 1},
		Progress: &progress,
		Phase: func(name string, start bool, _ time.Duration) {
			if start {
				phases[name]++
			}
		},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	byPath := map[string]loadgen.Result{}
	for _, r := range rep.Results {
		byPath[r.Path] = r
		if r.Errors != 0 {
			t.Errorf("%s: %d errors: %v", r.Path, r.Errors, r.ErrorSamples)
		}
		if r.Requests == 0 || r.PerSecond <= 0 || r.Seconds <= 0 {
			t.Errorf("%s: nothing measured: %+v", r.Path, r)
		}
		if !(0 < r.P50 && r.P50 <= r.P95 && r.P95 <= r.P99 && r.P99 <= r.Max) {
			t.Errorf("%s: percentiles out of order: %+v", r.Path, r)
		}
		if r.Path != loadgen.PathBare && (r.Ratio <= 0 || r.Ratio > 10) {
			t.Errorf("%s: ratio to the bare handler %v", r.Path, r.Ratio)
		}
	}
	want := []string{"bare", "code", "verify", "scan", "mixed", "mixed/code", "mixed/verify"}
	checkins := !strings.Contains(strings.Join(rep.Notes, " "), "no POST /api/v1/checkins")
	if checkins {
		want = append(want, "checkin", "mixed/checkin")
	}
	for _, p := range want {
		if _, ok := byPath[p]; !ok {
			t.Errorf("no result for %s: %+v", p, rep.Results)
		}
	}
	for _, p := range []string{"code", "verify", "scan", "mixed"} {
		if r := byPath[p]; r.Target == 0 && p != "mixed" || r.BarePerSecond <= 0 {
			t.Errorf("%s: no target or no bare rate beside it: %+v", p, r)
		}
		if phases[p] == 0 {
			t.Errorf("the phase hook was not called for %s", p)
		}
	}
	if m := rep.Machine; m.CPUs <= 0 || m.GoVersion == "" {
		t.Errorf("machine: %+v", m)
	}

	// The server answered at least every request the report counts (it
	// also answered those of the warm-ups and the code pre-fetches).
	counted := serverCounts(t, s.URL)
	if got, n := counted["POST /api/v1/verify 200"], byPath["verify"].Requests+byPath["mixed/verify"].Requests; got < n {
		t.Errorf("server answered %d scans, the report counts %d", got, n)
	}
	if got, n := counted["POST /gateway/v1/scan 200"], byPath["scan"].Requests; got < n || n == 0 {
		t.Errorf("server answered %d gateway scans, the report counts %d", got, n)
	}
	if got, n := counted["GET /api/v1/me/code 200"], byPath["code"].Requests+byPath["mixed/code"].Requests; got < n {
		t.Errorf("server answered %d codes, the report counts %d", got, n)
	}
	for k, v := range counted {
		if strings.HasSuffix(k, " 500") {
			t.Errorf("server errors: %s: %d", k, v)
		}
	}

	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"bare", "verify", "% of bare", "p99 ms"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back loadgen.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON report does not read back: %v\n%s", err, js.String())
	}
}

// serverCounts reads the server's request counters from /metrics, keyed
// "ROUTE STATUS".
func serverCounts(t *testing.T, url string) map[string]int64 {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "healthcode_http_requests_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(line, "} ")
		var code, route string
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "code":
				code = v
			case "route":
				route = v
			}
		}
		n, _ := strconv.ParseFloat(value, 64)
		out[route+" "+code] = int64(n)
	}
	return out
}

func TestRunRefusesBadSettings(t *testing.T) {
	for _, cfg := range []loadgen.Config{
		{URL: "http://127.0.0.1:1"},
		{URL: "http://127.0.0.1:1", BareURL: "http://127.0.0.1:1", Paths: []string{"nap"}},
		{URL: "http://127.0.0.1:1", BareURL: "http://127.0.0.1:1", Rescan: 2},
		{URL: "http://127.0.0.1:1", BareURL: "http://127.0.0.1:1", Mix: map[string]int{"sleep": 1}},
	} {
		if _, err := loadgen.Run(context.Background(), cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}
