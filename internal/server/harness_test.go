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
	t   *testing.T
	App *server.Server
	URL string
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
	return &env{t: t, App: srv, URL: hs.URL}
}

// forEach runs fn on a fresh server on each engine.
func forEach(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) { fn(t, newEnv(t, engine)) })
	}
}

type resp struct {
	Status int
	Body   map[string]any
	Raw    []byte
}

func (r resp) ErrCode() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r resp) Str(key string) string { s, _ := r.Body[key].(string); return s }

// Do sends body (a value to encode, or a string sent as is) with the token.
func (e *env) Do(method, path, token string, body any) resp {
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
	req, _ := http.NewRequest(method, e.URL+path, rd)
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
	out := resp{Status: res.StatusCode, Raw: raw}
	json.Unmarshal(raw, &out.Body)
	return out
}

// Want fails unless the response has the status (and, for errors, the code).
func (e *env) Want(r resp, status int, code string) resp {
	e.t.Helper()
	if r.Status != status || (code != "" && r.ErrCode() != code) {
		e.t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, status, code)
	}
	if r.Status >= 500 {
		e.t.Fatalf("server error: %s", r.Raw)
	}
	return r
}

func (e *env) OperatorToken(username, password string) string {
	e.t.Helper()
	r := e.Want(e.Do("POST", "/api/v1/auth/operator", "", map[string]any{"username": username, "password": password}), 200, "")
	return r.Str("token")
}

func (e *env) Admin() string { return e.OperatorToken("admin", adminPassword) }

// NewOperator creates an operator and logs in as them.
func (e *env) NewOperator(username, role, region string) string {
	e.t.Helper()
	e.Want(e.Do("POST", "/api/v1/admin/operators", e.Admin(), map[string]any{
		"username": username, "password": "a long password", "role": role, "region": region}), 201, "")
	return e.OperatorToken(username, "a long password")
}

var otpRe = regexp.MustCompile(`\d{6}`)

// ResidentToken logs a phone in through the outbox, as a phone would.
func (e *env) ResidentToken(phone string) string {
	e.t.Helper()
	e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": phone}), 202, "")
	out := e.Want(e.Do("GET", "/api/v1/admin/outbox?to="+phone+"&limit=1", e.Admin(), nil), 200, "")
	msgs, _ := out.Body["messages"].([]any)
	if len(msgs) == 0 {
		e.t.Fatalf("no one-time code for %s in the outbox", phone)
	}
	code := otpRe.FindString(msgs[0].(map[string]any)["body"].(string))
	return e.Want(e.Do("POST", "/api/v1/auth/login", "", map[string]any{"phone": phone, "otp": code}), 200, "").Str("token")
}

func (e *env) Count(table string) int {
	e.t.Helper()
	var n int
	if err := e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// httpGet fetches a URL of the test server.
func (e *env) Get(path string) (*http.Response, []byte) {
	e.t.Helper()
	res, err := http.Get(e.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}
