package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/logtest"
	"github.com/healthcode/healthcode/internal/server"
)

// scrape is one read of /metrics: the families it exposes and its samples.
type scrape struct {
	families map[string]bool
	samples  []sample
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var sampleRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

func (e *env) scrape() scrape {
	e.t.Helper()
	res, body := e.Get("/metrics")
	if res.StatusCode != 200 {
		e.t.Fatalf("/metrics: %d", res.StatusCode)
	}
	s := scrape{families: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			s.families[strings.Fields(f)[0]] = true
			continue
		}
		m := sampleRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		ls := map[string]string{}
		for _, l := range labelRe.FindAllStringSubmatch(m[2], -1) {
			ls[l[1]] = l[2]
		}
		s.samples = append(s.samples, sample{m[1], ls, v})
	}
	return s
}

// sum adds the samples named name whose labels include the pairs given.
func (s scrape) sum(name string, labels ...string) float64 {
	total := 0.0
next:
	for _, x := range s.samples {
		if x.name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if x.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		total += x.value
	}
	return total
}

// secrets are what one resident's and one checkpoint's day hands the
// server that must never reach a log line.
type secrets struct {
	phone, idNumber, otp, token, apiKey, password string
}

// dayOfWork drives the server through what its metrics watch: a resident
// logs in by text message, registers, shows a code; a checkpoint verifies
// it, a pharmacy scans it at the gateway, the checkpoint verifies it again
// with a fever, then two ID numbers; an operator mistypes a password; a
// page is served.
func (e *env) dayOfWork() secrets {
	e.t.Helper()
	s := secrets{phone: "13900000777", idNumber: rid("19850312", 777), password: "a long password"}
	e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": s.phone}), 202, "")
	admin := e.Admin()
	s.otp = e.OTP(s.phone)
	wrong := "000000"
	if s.otp == wrong {
		wrong = "111111"
	}
	e.Want(e.Do("POST", "/api/v1/auth/login", "", map[string]any{"phone": s.phone, "otp": wrong}), 401, "otp_wrong")
	s.token = e.Want(e.Do("POST", "/api/v1/auth/login", "", map[string]any{"phone": s.phone, "otp": s.otp}), 200, "").Str("token")
	e.Want(e.Do("POST", "/api/v1/me/register", s.token, map[string]any{"name": "李秘密", "id_type": "resident_id",
		"id_number": s.idNumber, "region": "341881001"}), 201, "")
	code := e.myCode(s.token)

	cp := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "西津卡口", "region": "341881001",
		"scopes": []string{"verify", "verify_id"}}), 201, "")
	s.apiKey = cp.Str("api_key")
	e.Want(e.Do("POST", "/api/v1/verify", s.apiKey, map[string]any{"code": code}), 200, "")
	ph := e.org(admin, "pharmacy", "国胜大药房", "MA2N7T1D", "341881001")
	_, key := e.orgKey(admin, ph, map[string]any{"name": "收银台", "scopes": []string{"scan"}})
	e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": e.myCode(s.token)}), 200, "")
	// A fever: the person turns yellow.
	e.Want(e.Do("POST", "/api/v1/verify", s.apiKey, map[string]any{"code": code, "temperature": 38.6}), 200, "")
	e.Want(e.Do("POST", "/api/v1/verify/id", s.apiKey, map[string]any{"id_type": "resident_id", "id_number": s.idNumber}), 200, "")
	e.Want(e.Do("POST", "/api/v1/verify/id", s.apiKey, map[string]any{"id_type": "resident_id", "id_number": rid("19850312", 778)}),
		404, "id_not_registered")
	e.Want(e.Do("POST", "/api/v1/auth/operator", "", map[string]any{"username": "admin", "password": s.password}), 401, "login_failed")

	res, _ := e.Get("/login")
	if res.StatusCode != 200 {
		e.t.Fatalf("GET /login: %d", res.StatusCode)
	}
	return s
}

// startWorkers runs the background workers, as serve does, until the test
// ends, and waits until each has finished its first round.
func (e *env) startWorkers() {
	e.t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	e.t.Cleanup(stop)
	e.App.Start(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := e.scrape()
		n := 0
		for _, x := range s.samples {
			if x.name == "healthcode_worker_run_duration_seconds_count" && x.value > 0 {
				n++
			}
		}
		if n == len(e.workerNames(s)) && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d of %d workers finished a round", n, len(e.workerNames(s)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) workerNames(s scrape) map[string]bool {
	out := map[string]bool{}
	for _, x := range s.samples {
		if x.name == "healthcode_worker_run_duration_seconds_count" {
			out[x.labels["worker"]] = true
		}
	}
	return out
}

// exported is every metric family the server declares: each feature's
// metrics.go, the API's and the workers'.
var exported = []string{
	"healthcode_http_requests_total", "healthcode_http_request_duration_seconds",
	"healthcode_web_requests_total", "healthcode_web_request_duration_seconds",
	"healthcode_status_facts_total", "healthcode_status_changes_total", "healthcode_status_scheduler_evaluations_total",
	"healthcode_status_tail_seq", "healthcode_status_tail_current_timestamp_seconds", "healthcode_status_tail_applied_total",
	"healthcode_status_recompute_persons_total", "healthcode_status_recompute_progress_ratio",
	"healthcode_status_recompute_batch_duration_seconds", "healthcode_status_recompute_last_duration_seconds",
	"healthcode_status_notifications_queued_total", "healthcode_status_notifications_total",
	"healthcode_checkin_commits_total", "healthcode_checkin_committed_requests_total", "healthcode_checkin_commit_batch_requests",
	"healthcode_checkin_commit_duration_seconds", "healthcode_checkin_committed_rows_total", "healthcode_checkin_commit_failures_total",
	"healthcode_codes_issued_total", "healthcode_codes_verified_total",
	"healthcode_sms_sends_total", "healthcode_sms_send_duration_seconds",
	"healthcode_auth_logins_total", "healthcode_auth_lockouts_total", "healthcode_auth_otp_requests_total",
	"healthcode_org_key_requests_total", "healthcode_gateway_scans_total",
	"healthcode_nat_results_total", "healthcode_nat_samples_total",
	"healthcode_tracing_runs_total", "healthcode_tracing_run_duration_seconds", "healthcode_tracing_companions_total",
	"healthcode_booking_bookings_total", "healthcode_booking_cancellations_total", "healthcode_booking_entries_total",
	"healthcode_hall_tickets_total", "healthcode_hall_logins_total", "healthcode_hall_ratings_total",
	"healthcode_audit_appends_total",
	"healthcode_worker_last_success_timestamp_seconds", "healthcode_worker_errors_total", "healthcode_worker_run_duration_seconds",
}

// TestMetrics: after a day's work the server exports every family, each
// counter moved by what was done, and the Grafana dashboard in the
// repository asks only for families the server exports.
func TestMetrics(t *testing.T) {
	e := newEnv(t, db.SQLite)
	before := e.scrape()
	e.dayOfWork()
	e.startWorkers()
	after := e.scrape()

	t.Run("every family is exported", func(t *testing.T) {
		for _, f := range exported {
			if !after.families[f] {
				t.Errorf("/metrics has no family %s", f)
			}
		}
		doc, err := os.ReadFile("../../docs/OPERATIONS.md")
		if err != nil {
			t.Fatal(err)
		}
		for f := range after.families {
			if strings.HasPrefix(f, "healthcode_") && !strings.Contains(string(doc), "`"+f+"`") {
				t.Errorf("family %s is exported but docs/OPERATIONS.md does not describe it", f)
			}
		}
	})

	t.Run("counters move with the work", func(t *testing.T) {
		for _, m := range []struct {
			name   string
			labels []string
			moved  float64
		}{
			{"healthcode_auth_otp_requests_total", []string{"outcome", "sent"}, 1},
			{"healthcode_sms_sends_total", []string{"provider", "outbox", "purpose", "otp", "outcome", "sent"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "resident", "outcome", "failed"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "resident", "outcome", "ok"}, 1},
			{"healthcode_auth_logins_total", []string{"kind", "operator", "outcome", "failed"}, 1},
			{"healthcode_codes_issued_total", []string{"kind", "dynamic"}, 2},
			{"healthcode_codes_verified_total", []string{"kind", "dynamic", "outcome", "admitted"}, 2}, // the checkpoint and the pharmacy
			{"healthcode_codes_verified_total", []string{"kind", "dynamic", "outcome", "refused"}, 1},  // the fever
			{"healthcode_codes_verified_total", []string{"kind", "id", "outcome", "not_registered"}, 1},
			{"healthcode_checkin_committed_rows_total", []string{"table", "verifications"}, 5},
			{"healthcode_status_facts_total", nil, 1},
			{"healthcode_gateway_scans_total", []string{"by", "code", "outcome", "admitted"}, 1},
			{"healthcode_org_key_requests_total", []string{"outcome", "admitted"}, 1},
			{"healthcode_http_requests_total", []string{"route", "POST /api/v1/verify", "code", "200"}, 2},
			{"healthcode_http_request_duration_seconds_count", []string{"route", "POST /api/v1/verify"}, 2},
			{"healthcode_web_requests_total", []string{"route", "GET /login", "code", "200"}, 1},
			{"healthcode_web_request_duration_seconds_count", []string{"route", "GET /login"}, 1},
		} {
			if got := after.sum(m.name, m.labels...) - before.sum(m.name, m.labels...); got != m.moved {
				t.Errorf("%s%q moved by %v, want %v", m.name, m.labels, got, m.moved)
			}
		}
		// Process-wide: other tests in this binary append too.
		if got := after.sum("healthcode_audit_appends_total", "action", "person.verify_id") - before.sum("healthcode_audit_appends_total", "action", "person.verify_id"); got < 2 {
			t.Errorf("verify_id audit appends moved by %v, want at least 2", got)
		}
		if n := after.sum("healthcode_checkin_commits_total"); n < 1 || n > 5 {
			t.Errorf("%v group commits for 5 verifications", n)
		}
		now := float64(time.Now().Unix())
		for w := range e.workerNames(after) {
			if ts := after.sum("healthcode_worker_last_success_timestamp_seconds", "worker", w); ts < now-60 || ts > now+1 {
				t.Errorf("worker %q last succeeded at %v (now %v)", w, ts, now)
			}
		}
		if ts := after.sum("healthcode_status_tail_current_timestamp_seconds"); ts < now-60 {
			t.Errorf("the cache was last current at %v (now %v)", ts, now)
		}
	})

	t.Run("the dashboard asks for exported families", func(t *testing.T) {
		b, err := os.ReadFile("../../docs/grafana/healthcode.json")
		if err != nil {
			t.Fatal(err)
		}
		var dash any
		if err := json.Unmarshal(b, &dash); err != nil {
			t.Fatalf("docs/grafana/healthcode.json is not JSON: %v", err)
		}
		exprs := collect(dash, "expr")
		if len(exprs) < 10 {
			t.Fatalf("%d expressions in the dashboard", len(exprs))
		}
		names := regexp.MustCompile(`\b(?:healthcode|go|process)_[a-z0-9_]+\b`)
		seen := map[string]bool{}
		for _, x := range exprs {
			found := names.FindAllString(x, -1)
			if len(found) == 0 {
				t.Errorf("expression %q names no metric", x)
			}
			for _, n := range found {
				seen[n] = true
				base := n
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if b, ok := strings.CutSuffix(n, suf); ok && after.families[b] {
						base = b
					}
				}
				if !after.families[base] {
					t.Errorf("the dashboard asks for %s, which the server does not export (in %q)", n, x)
				}
			}
		}
		// Every feature has a panel.
		for _, f := range []string{"http", "web", "status", "checkin", "codes", "sms", "auth", "org", "gateway", "nat", "tracing", "audit", "worker"} {
			found := false
			for n := range seen {
				if strings.HasPrefix(n, "healthcode_"+f+"_") {
					found = true
				}
			}
			if !found {
				t.Errorf("no panel of the dashboard shows healthcode_%s_*", f)
			}
		}
	})
}

// collect returns every string value of key in a JSON document.
func collect(v any, key string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok && k == key {
				out = append(out, s)
				continue
			}
			out = append(out, collect(x[k], key)...)
		}
	case []any:
		for _, y := range x {
			out = append(out, collect(y, key)...)
		}
	}
	return out
}

// TestLogsKeepSecrets: a day's work logged at debug level, in both
// formats serve offers, holds none of the one-time code, the session
// token, the API key, the password tried, the phone or the ID number.
func TestLogsKeepSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			buf := &logtest.Buffer{}
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(buf, opts)
			if format == "json" {
				h = slog.NewJSONHandler(buf, opts)
			}
			e := newEnv(t, db.SQLite, func(c *server.Config) { c.Log = slog.New(h) })
			s := e.dayOfWork()
			e.startWorkers()
			logs := buf.String()
			if !strings.Contains(logs, "request") {
				t.Fatalf("nothing was logged at debug level; the test sees nothing:\n%s", logs)
			}
			for what, v := range map[string]string{"one-time code": s.otp, "session token": s.token, "API key": s.apiKey,
				"password": s.password, "phone": s.phone, "ID number": s.idNumber, "ID number's digits": s.idNumber[6:14]} {
				if strings.Contains(logs, v) {
					t.Errorf("the logs hold the %s %q", what, v)
				}
			}
			if testing.Verbose() {
				io.WriteString(os.Stderr, logs)
			}
		})
	}
}
