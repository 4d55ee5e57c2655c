package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server"
)

const adminPassword = "correct horse battery"

// env is a running server on one engine and a client for it.
type env struct {
	t   testing.TB
	srv *server.Server
	url string
}

func newEnv(t *testing.T, engine db.Engine, mod ...func(*server.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	cfg := server.Config{
		DataDir: dir, AdminPassword: adminPassword, Region: "341881",
		Auth: auth.Config{OTPInterval: -1, OTPPerDay: -1},
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if engine == db.Postgres {
		cfg.DB = dbtest.PostgresURL(t)
	} else {
		cfg.DB = "sqlite:" + filepath.Join(dir, "hc.db")
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if _, err := srv.EnsureAdmin(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, url: hs.URL}
}

// forEach runs fn on a fresh server on each engine.
func forEach(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine)) })
	}
}

type resp struct {
	status int
	body   map[string]any
	raw    []byte
}

func (r resp) errCode() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r resp) str(key string) string { s, _ := r.body[key].(string); return s }

// do sends body (a value to encode, or a string sent as is) with the token.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: raw}
	json.Unmarshal(raw, &out.body)
	return out
}

// want fails unless the response has the status (and, for errors, the code).
func (e *env) want(r resp, status int, code string) resp {
	e.t.Helper()
	if r.status != status || (code != "" && r.errCode() != code) {
		e.t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
	if r.status >= 500 {
		e.t.Fatalf("server error: %s", r.raw)
	}
	return r
}

func (e *env) operatorToken(username, password string) string {
	e.t.Helper()
	r := e.want(e.do("POST", "/api/v1/auth/operator", "", map[string]any{"username": username, "password": password}), 200, "")
	return r.str("token")
}

func (e *env) admin() string { return e.operatorToken("admin", adminPassword) }

// newOperator creates an operator and logs in as them.
func (e *env) newOperator(username, role, region string) string {
	e.t.Helper()
	e.want(e.do("POST", "/api/v1/admin/operators", e.admin(), map[string]any{
		"username": username, "password": "a long password", "role": role, "region": region}), 201, "")
	return e.operatorToken(username, "a long password")
}

var otpRe = regexp.MustCompile(`\d{6}`)

// residentToken logs a phone in through the outbox, as a phone would.
func (e *env) residentToken(phone string) string {
	e.t.Helper()
	e.want(e.do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": phone}), 202, "")
	out := e.want(e.do("GET", "/api/v1/admin/outbox?to="+phone+"&limit=1", e.admin(), nil), 200, "")
	msgs, _ := out.body["messages"].([]any)
	if len(msgs) == 0 {
		e.t.Fatalf("no one-time code for %s in the outbox", phone)
	}
	code := otpRe.FindString(msgs[0].(map[string]any)["body"].(string))
	return e.want(e.do("POST", "/api/v1/auth/login", "", map[string]any{"phone": phone, "otp": code}), 200, "").str("token")
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.srv.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// httpGet fetches a URL of the test server.
func (e *env) get(path string) (*http.Response, []byte) {
	e.t.Helper()
	res, err := http.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}
