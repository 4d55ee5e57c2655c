package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/loadgen"
	"github.com/healthcode/healthcode/internal/logtest"
)

// asBinary, set in the environment, makes the test binary run as
// healthcode itself (TestMain), so that loadgen can start its children
// from it.
const asBinary = "LOADGEN_TEST_AS_BINARY" // not HEALTHCODE_: loadgen keeps those from its children

// TestLoadgenCommand runs `healthcode loadgen` as a user would: it starts
// the bare handler and the server as child processes, measures briefly,
// writes the table, the JSON report and the server's profiles, and stops
// its children.
func TestLoadgenCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	t.Setenv(asBinary, "1")
	dir := t.TempDir()
	var out, errs bytes.Buffer
	err := realMain(context.Background(), []string{"loadgen", "--duration", "400ms", "--slice", "200ms", "--warmup", "50ms",
		"--residents", "6", "--concurrency", "2", "--checkpoints", "2", "--paths", "code,verify",
		"--json", filepath.Join(dir, "report.json"), "--profile", filepath.Join(dir, "prof")}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	for _, s := range []string{"machine:", "bare", "code", "verify", "% of bare"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
	if !strings.Contains(errs.String(), "--otp-interval -1s --otp-per-day -1") {
		t.Errorf("loadgen did not say how it started the server:\n%s", errs.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("results: %+v", rep.Results)
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Requests == 0 {
			t.Errorf("%s: %d requests, %d errors %v", r.Path, r.Requests, r.Errors, r.ErrorSamples)
		}
		if r.ServerCPUMicros <= 0 {
			t.Errorf("%s: no CPU time of the answering process: %+v", r.Path, r)
		}
	}
	for _, f := range []string{"code.cpu.pprof", "code.allocs.pprof", "verify.cpu.pprof", "verify.allocs.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, "prof", f)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
}

// TestLoadgenRegistrationSurge runs `healthcode loadgen --register` as a
// user would: fresh residents on the server it starts, the table with a
// row per slice and the verdict, the JSON report with the server's CPU per
// registration, and a profile of each slice.
func TestLoadgenRegistrationSurge(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	t.Setenv(asBinary, "1")
	dir := t.TempDir()
	var out, errs bytes.Buffer
	err := realMain(context.Background(), []string{"loadgen", "--register", "--residents", "40", "--register-slice", "20",
		"--concurrency", "4", "--json", filepath.Join(dir, "report.json"), "--profile", filepath.Join(dir, "prof")}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	for _, s := range []string{"registration surge: 40 residents", "population", "verdict: the rate"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.RegistrationReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Registered != 40 || rep.Errors != 0 || len(rep.Slices) != 2 {
		t.Fatalf("registered %d, errors %d %v, slices %+v", rep.Registered, rep.Errors, rep.Samples, rep.Slices)
	}
	for i, s := range rep.Slices {
		if s.ServerCPUMicros <= 0 || s.PerSecond <= 0 {
			t.Errorf("slice %d: no rate or no CPU time of the server: %+v", i+1, s)
		}
	}
	for _, f := range []string{"register-1.cpu.pprof", "register-2.cpu.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, "prof", f)); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
}

// With the hub stopped, a node verifies another region's codes by
// signature from the bundle it pulled, the colour from the code: every scan
// valid with color_source code (loadgen checks each answer).
func TestLoadgenForeignCodesWithTheHubDown(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	t.Setenv(asBinary, "1")
	var out, errs bytes.Buffer
	err := realMain(context.Background(), []string{"loadgen", "--foreign-hub-down", "--duration", "400ms", "--slice", "200ms",
		"--warmup", "50ms", "--residents", "6", "--concurrency", "2", "--checkpoints", "2", "--json", "-"}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes()[bytes.IndexByte(out.Bytes(), '{'):], &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var verify *loadgen.Result
	for i := range rep.Results {
		if rep.Results[i].Path == "verify" {
			verify = &rep.Results[i]
		}
	}
	if verify == nil || verify.Requests == 0 || verify.Errors != 0 || len(rep.Results) != 2 {
		t.Fatalf("results: %+v", rep.Results)
	}
	if !strings.Contains(strings.Join(rep.Notes, " "), "color_source code") {
		t.Errorf("notes: %q", rep.Notes)
	}
	// Every foreign code went through the signature batch, and the server
	// says how many it checked.
	if !strings.Contains(strings.Join(rep.Notes, " "), "Ed25519 signatures in") {
		t.Errorf("no note of the signature batches: %q", rep.Notes)
	}
}

// TestLoadgenWithWrk runs `healthcode loadgen --client wrk` for a second
// per run against SQLite: wrk sends the requests, and the report's figures
// are wrk's (rates, latencies, no errors) and the server's CPU time.
func TestLoadgenWithWrk(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("wrk is not installed (Debian package wrk; .ci/run installs it)")
		}
		t.Skip("wrk is not installed (Debian package wrk): loadgen --client wrk not tested")
	}
	t.Setenv(asBinary, "1")
	var out, errs bytes.Buffer
	err := realMain(context.Background(), []string{"loadgen", "--client", "wrk", "--duration", "1s", "--warmup", "0s",
		"--residents", "20", "--concurrency", "4", "--checkpoints", "2", "--venues", "2", "--paths", "code,verify,checkin", "--json", "-"}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	if !strings.Contains(out.String(), "run: wrk, 4 connections") {
		t.Errorf("the table does not say wrk measured:\n%s", out.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(out.Bytes()[bytes.Index(out.Bytes(), []byte("\n{"))+1:], &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Settings.Client != "wrk" || len(rep.Results) != 4 {
		t.Fatalf("settings %+v, results %+v", rep.Settings, rep.Results)
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Requests == 0 || r.PerSecond <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.ServerCPUMicros <= 0 || r.ClientCPUMicros <= 0 {
			t.Errorf("%s: not a real measurement: %+v", r.Path, r)
		}
		if r.Path != "bare" && (r.BarePerSecond <= 0 || r.Ratio <= 0) {
			t.Errorf("%s: no bare handler beside it: %+v", r.Path, r)
		}
	}
}

func TestLoadgenFlags(t *testing.T) {
	t.Parallel()
	if m, err := parseMix("verify=70, code=20,checkin=10"); err != nil || m["verify"] != 70 || m["code"] != 20 || m["checkin"] != 10 {
		t.Fatalf("parseMix: %v %v", m, err)
	}
	for _, bad := range []string{"verify", "verify=x", "verify=-1"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
	err := realMain(context.Background(), []string{"loadgen", "--url", "http://127.0.0.1:1"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--admin-password") {
		t.Fatalf("--url without a password: %v", err)
	}
	err = realMain(context.Background(), []string{"loadgen", "--url", "http://127.0.0.1:1", "--admin-password", "x", "--foreign-hub-down"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "does not take --url") {
		t.Fatalf("--foreign-hub-down with --url: %v", err)
	}
	err = realMain(context.Background(), []string{"loadgen", "--register", "--appointments"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "run of its own") {
		t.Fatalf("--register with --appointments: %v", err)
	}
	err = realMain(context.Background(), []string{"loadgen", "--url", "http://127.0.0.1:1", "--admin-password", "x", "--client", "curl"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "unknown client") {
		t.Fatalf("--client curl: %v", err)
	}
}

// What loadgen prints of the server's command line shows no password.
func TestLoadgenRedactsTheServerCommandLine(t *testing.T) {
	t.Parallel()
	got := strings.Join(redact([]string{"serve", "--admin-password", "s3cret", "--server-flag=--admin-password=x1",
		"--admin-password=x2", "--db", "postgres://u:pw9@h/db", "--db=postgres://u:pw8@h/db", "--addr", "127.0.0.1:0",
		"--kannel-password", "k4nnel", "--sms-dlr-secret=d1r"}), " ")
	for _, secret := range []string{"s3cret", "x1", "x2", "pw9", "pw8", "k4nnel", "d1r"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows %s", got, secret)
		}
	}
	if !strings.Contains(got, "--addr 127.0.0.1:0") || !strings.Contains(got, "postgres://u:xxxxx@h/db") {
		t.Errorf("redacted too much: %q", got)
	}
}

// TestLoadgenCommandOnNodes runs `healthcode loadgen --nodes 2` on a
// throwaway PostgreSQL: two serve processes on one database, the requests
// spread over both, every path answered without errors.
func TestLoadgenCommandOnNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	dsn := dbtest.PostgresURL(t)
	t.Setenv(asBinary, "1")
	dir := t.TempDir()
	var out bytes.Buffer
	var errs logtest.Buffer // the children write their stderr into it too
	err := realMain(context.Background(), []string{"loadgen", "--nodes", "2", "--server-db", dsn, "--duration", "400ms", "--slice", "200ms",
		"--warmup", "50ms", "--residents", "6", "--concurrency", "2", "--checkpoints", "2", "--paths", "code,verify,checkin",
		"--json", filepath.Join(dir, "report.json")}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	if n := strings.Count(errs.String(), "starting the server: "); n != 2 || !strings.Contains(errs.String(), "--node node2") {
		t.Errorf("started %d servers:\n%s", n, errs.String())
	}
	if !strings.Contains(out.String(), "over 2 nodes") {
		t.Errorf("the table does not say the run was spread over 2 nodes:\n%s", out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Settings.Nodes != 2 || len(rep.Results) != 4 {
		t.Fatalf("settings %+v, results %+v", rep.Settings, rep.Results)
	}
	for _, r := range rep.Results {
		if r.Errors != 0 || r.Requests == 0 || r.ServerCPUMicros <= 0 {
			t.Errorf("%s: %d requests, %d errors %v, server %v µs/req", r.Path, r.Requests, r.Errors, r.ErrorSamples, r.ServerCPUMicros)
		}
	}
	err = realMain(context.Background(), []string{"loadgen", "--nodes", "2"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("--nodes on SQLite: %v", err)
	}
}
