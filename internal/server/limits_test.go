package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// from posts body to path as the client at addr, behind the trusted proxy
// (the test's loopback), and returns the status and the error code.
func (e *env) from(addr, path string, body any) (int, string) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(raw, &out)
	return res.StatusCode, out.Error.Code
}

// Through the API, behind a trusted proxy: codes are limited per client
// address across phones, and guessing an operator's password from one
// address locks that address and the username but not the operator at an
// address they used before.
func TestLimitsPerClientAddress(t *testing.T) {
	forEachWith(t, func(c *server.Config) {
		c.Auth.OTPPerAddr, c.Auth.LoginFailures = 2, 3
		if err := c.TrustedProxies.Set("127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}, func(t *testing.T, e *env) {
		const bomber, neighbour = "203.0.113.9", "198.51.100.4"
		for i, phone := range []string{"13900000601", "13900000602"} {
			if st, code := e.from(bomber, "/api/v1/auth/otp", map[string]any{"phone": phone}); st != 202 {
				t.Fatalf("code %d: %d %s", i, st, code)
			}
		}
		if st, code := e.from(bomber, "/api/v1/auth/otp", map[string]any{"phone": "13900000603"}); st != 429 || code != "otp_address_limit" {
			t.Fatalf("a third phone from one address: %d %s", st, code)
		}
		if st, code := e.from(neighbour, "/api/v1/auth/otp", map[string]any{"phone": "13900000603"}); st != 202 {
			t.Fatalf("another address: %d %s", st, code)
		}
		if st, code := e.from(neighbour, "/api/v1/auth/otp", map[string]any{"phone": "12000000603"}); st != 400 || code != "phone_prefix" {
			t.Fatalf("not a mobile number: %d %s", st, code)
		}

		const office, attacker = "192.0.2.20", "203.0.113.66"
		admin := map[string]any{"username": "admin", "password": servertest.AdminPassword}
		if st, code := e.from(office, "/api/v1/auth/operator", admin); st != 200 {
			t.Fatalf("admin login: %d %s", st, code)
		}
		for range 3 {
			e.from(attacker, "/api/v1/auth/operator", map[string]any{"username": "admin", "password": "a guess"})
		}
		if st, code := e.from(attacker, "/api/v1/auth/operator", admin); st != 429 || code != "login_locked" {
			t.Fatalf("the right password from the attacker's address: %d %s", st, code)
		}
		if st, code := e.from(neighbour, "/api/v1/auth/operator", admin); st != 429 || code != "login_locked" {
			t.Fatalf("the right password from an unknown address: %d %s", st, code)
		}
		if st, code := e.from(office, "/api/v1/auth/operator", admin); st != 200 {
			t.Fatalf("the right password from the office: %d %s", st, code)
		}
	})
}
