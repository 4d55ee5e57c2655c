package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Client speaks the JSON API of a server at URL and fails its test on
// anything a test does not expect.
type Client struct {
	URL string
	t   testing.TB

	mu    sync.Mutex
	admin string // the client's own admin session, for the outbox and new operators
}

// NewClient is a client for the server at url (one started by Start, or a
// `healthcode serve` process whose admin password is AdminPassword).
func NewClient(t testing.TB, url string) *Client { return &Client{URL: url, t: t} }

// Response is an answer of the API.
type Response struct {
	Status int
	Body   map[string]any // the JSON object answered, if it was one
	Raw    []byte
}

// ErrCode is the code of an error answer ({"error":{"code":...}}).
func (r Response) ErrCode() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// Str is a string field of the answer.
func (r Response) Str(key string) string { s, _ := r.Body[key].(string); return s }

// Do sends body (a value to encode, or a string sent as is) with the token.
func (c *Client) Do(method, path, token string, body any) Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	contentType := ""
	if rd != nil {
		contentType = "application/json"
	}
	return c.send(method, path, token, contentType, rd)
}

// Send sends a raw body with a content type (a CSV upload, a wrong type).
func (c *Client) Send(method, path, token, contentType, body string) Response {
	c.t.Helper()
	return c.send(method, path, token, contentType, strings.NewReader(body))
}

func (c *Client) send(method, path, token, contentType string, body io.Reader) Response {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.URL+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := Response{Status: res.StatusCode, Raw: raw}
	json.Unmarshal(raw, &out.Body)
	return out
}

// Want fails unless the response has the status (and, for errors, the code).
func (c *Client) Want(r Response, status int, code string) Response {
	c.t.Helper()
	if r.Status != status || (code != "" && r.ErrCode() != code) {
		c.t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, status, code)
	}
	if r.Status >= 500 {
		c.t.Fatalf("server error: %s", r.Raw)
	}
	return r
}

// Get fetches a path without credentials.
func (c *Client) Get(path string) (*http.Response, []byte) {
	c.t.Helper()
	return c.GetAuth(path, "")
}

// GetAuth fetches a path with a token (an image, a CSV file).
func (c *Client) GetAuth(path, token string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// OperatorToken logs an operator in.
func (c *Client) OperatorToken(username, password string) string {
	c.t.Helper()
	r := c.Want(c.Do("POST", "/api/v1/auth/operator", "", map[string]any{"username": username, "password": password}), 200, "")
	return r.Str("token")
}

// Admin logs the first operator in: a new session (and an audited login)
// at each call.
func (c *Client) Admin() string { return c.OperatorToken("admin", AdminPassword) }

// ownAdmin is one admin session the client keeps for its plumbing (reading
// the outbox, creating operators): a password check costs tens of
// milliseconds of CPU by design.
func (c *Client) ownAdmin() string {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admin == "" {
		c.admin = c.Admin()
	}
	return c.admin
}

// NewOperator creates an operator and logs in as them.
func (c *Client) NewOperator(username, role, region string) string {
	c.t.Helper()
	c.Want(c.Do("POST", "/api/v1/admin/operators", c.ownAdmin(), map[string]any{
		"username": username, "password": "a long password", "role": role, "region": region}), 201, "")
	return c.OperatorToken(username, "a long password")
}

// ResidentToken logs a phone in with the one-time code texted to it, read
// from the outbox as the person would read their messages.
func (c *Client) ResidentToken(phone string) string {
	c.t.Helper()
	c.Want(c.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": phone}), 202, "")
	out := c.Want(c.Do("GET", "/api/v1/admin/outbox?to="+phone+"&limit=1", c.ownAdmin(), nil), 200, "")
	msgs, _ := out.Body["messages"].([]any)
	if len(msgs) == 0 {
		c.t.Fatalf("no one-time code for %s in the outbox", phone)
	}
	code := sixDigits.FindString(msgs[0].(map[string]any)["body"].(string))
	return c.Want(c.Do("POST", "/api/v1/auth/login", "", map[string]any{"phone": phone, "otp": code}), 200, "").Str("token")
}

// Resident logs a phone in and registers a person with a resident ID (in
// region, unless it is empty); it returns the session token and the public
// person id.
func (c *Client) Resident(phone, name, idNumber, region string) (token, id string) {
	c.t.Helper()
	token = c.ResidentToken(phone)
	body := map[string]any{"name": name, "id_type": "resident_id", "id_number": idNumber}
	if region != "" {
		body["region"] = region
	}
	return token, c.Want(c.Do("POST", "/api/v1/me/register", token, body), 201, "").Str("id")
}

// Venue registers a venue and returns its id and check-in token.
func (c *Client) Venue(admin, name, kind, region string) (id, token string) {
	c.t.Helper()
	v := c.Want(c.Do("POST", "/api/v1/admin/venues", admin, map[string]any{
		"name": name, "kind": kind, "address": "宁国市", "region": region}), 201, "")
	return v.Str("id"), v.Str("venue_token")
}

// Checkpoint adds a checkpoint (with the scopes of its key, if any) and
// returns its id and API key.
func (c *Client) Checkpoint(admin, name, region string, scopes ...string) (id, apiKey string) {
	c.t.Helper()
	body := map[string]any{"name": name, "region": region}
	if scopes != nil {
		body["scopes"] = scopes
	}
	r := c.Want(c.Do("POST", "/api/v1/admin/checkpoints", admin, body), 201, "")
	return r.Str("id"), r.Str("api_key")
}
