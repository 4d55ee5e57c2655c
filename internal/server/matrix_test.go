package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
)

// The authorisation matrix: every route of the OpenAPI document (so of the
// route table: a new route is in it) x every kind of caller, in and out of
// scope. A caller the route's declared Authorization does not admit is
// refused (401 or 403) and one it admits gets past the door; a caller out of
// scope never reads a person of the fixtures' world, nor anything by its id.
// A route whose Authorization the matrix cannot read fails the test until
// authAdmits learns it.

// matrixCaller is a kind of caller: a credential, what it is and whether
// the fixtures' world lies in its scope.
type matrixCaller struct {
	name    string
	token   string
	kind    string    // none, resident, operator, api_key, org_key, unit
	role    auth.Role // operators
	inScope bool
}

// admission is what a route's Authorization says of a caller.
type admission int

const (
	refused  admission = iota
	admitted           // gets past the door (may still be 404 for an id, 400 for a body)
	either             // decided by what the credential is for (an organisation's key's scopes)
)

// authAdmits reads a route's declared Authorization. ok is false for a form
// it does not know.
func authAdmits(authz string, c matrixCaller) (a admission, ok bool) {
	is := func(b bool) admission {
		if b {
			return admitted
		}
		return refused
	}
	perms := func(list string) admission {
		if c.kind != "operator" {
			return refused
		}
		for _, p := range strings.Split(list, " or ") {
			if c.role.Can(auth.Permission(strings.TrimSpace(p))) {
				return admitted
			}
		}
		return refused
	}
	head, _, _ := strings.Cut(authz, ";")
	switch {
	case authz == "":
		return admitted, true
	case authz == "any":
		return is(c.kind != "none"), true
	case authz == "resident" || strings.HasPrefix(authz, "resident:"):
		return is(c.kind == "resident"), true
	case authz == "operator":
		return is(c.kind == "operator"), true
	case strings.HasPrefix(authz, "API key: ") && strings.Contains(authz, ", or operator: "):
		// API key: verify, or operator: entry.write
		_, p, _ := strings.Cut(authz, ", or operator: ")
		if c.kind == "api_key" {
			return admitted, true
		}
		return perms(p), true
	case strings.HasPrefix(authz, "API key: "):
		return is(c.kind == "api_key"), true
	case strings.HasPrefix(head, "operator: ") && strings.Contains(authz, "API key with"):
		// operator: fact.write, or API key with facts:KIND
		p, _, _ := strings.Cut(strings.TrimPrefix(head, "operator: "), ",")
		if c.kind == "api_key" {
			return either, true
		}
		return perms(p), true
	case strings.HasPrefix(head, "operator: "):
		p, _, _ := strings.Cut(strings.TrimPrefix(head, "operator: "), ",")
		if c.kind == "unit" || c.kind == "org_key" {
			return either, true // an organisation's own keys and accounts read what is theirs
		}
		return perms(p), true
	case strings.Contains(authz, "API key") || strings.Contains(authz, "unit account"):
		// The gateway: an organisation's key or account, by its kind and scopes.
		if c.kind == "org_key" || c.kind == "unit" {
			return either, true
		}
		return refused, true
	}
	return refused, false
}

// documentedAuth maps "METHOD path" to the route's declared Authorization.
func (e *env) documentedAuth() map[string]string {
	e.t.Helper()
	res, body := e.Get("/api/v1/openapi.json")
	if res.StatusCode != 200 {
		e.t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Description string `json:"description"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			a, _ := strings.CutPrefix(op.Description, "Authorization: ")
			if !strings.HasPrefix(op.Description, "Authorization: ") {
				a = ""
			}
			a, _, _ = strings.Cut(a, "\n")
			out[strings.ToUpper(method)+" "+path] = a
		}
	}
	return out
}

// doorCodes are the refusals of the door: who is calling and with what role.
var doorCodes = []string{"unauthenticated", "token_invalid", "forbidden", "resident_only", "operator_only", "scope_missing"}

// publicKinds are ids that are not anyone's in particular: anyone who may
// call the route may read them by id. A hall terminal's sign-in request is
// read by whichever resident scanned its code (it names the hall only).
var publicKinds = []string{"region", "version", "site", "venue_token", "operator", "platform", "place", "hall_login"}

func TestAuthorisationMatrix(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		fx := e.robustFixtures()
		authz := e.documentedAuth()
		routes := e.documentedRoutes()
		if len(routes) < 80 {
			t.Fatalf("the OpenAPI document lists %d routes", len(routes))
		}
		const elsewhere = "341881005" // a town with nothing of the fixtures' world
		callers := []matrixCaller{{name: "none", kind: "none"}, {name: "bogus", token: "hco_notarealtoken", kind: "none"},
			{name: "resident", token: fx.resident, kind: "resident", inScope: true},
			{name: "other resident", token: fx.companion, kind: "resident"},
			{name: "unregistered", token: fx.unreg, kind: "resident"},
			{name: "checkpoint key", token: fx.apiKey, kind: "api_key", inScope: true}}
		for _, c := range fx.creds {
			switch c.name {
			case "org_key":
				callers = append(callers, matrixCaller{name: c.name, token: c.token, kind: "org_key", inScope: true})
			case "unit":
				callers = append(callers, matrixCaller{name: c.name, token: c.token, kind: "unit", inScope: true})
			}
		}
		for _, role := range auth.Roles {
			tok := fx.admin
			if role != auth.Admin {
				tok = e.OperatorToken("robust_"+string(role), "a long password")
			}
			callers = append(callers, matrixCaller{name: string(role), token: tok, kind: "operator", role: role, inScope: true},
				matrixCaller{name: string(role) + " elsewhere", token: e.NewOperator("matrix_"+string(role), string(role), elsewhere),
					kind: "operator", role: role})
		}
		_, outKey := e.Checkpoint(fx.admin, "远处卡口", elsewhere)
		callers = append(callers, matrixCaller{name: "checkpoint key elsewhere", token: outKey, kind: "api_key"})

		// What a caller out of scope must never read: the world's persons
		// (the other resident is one of them, and may read themselves).
		secrets := []string{fx.ids["self"], fx.ids["dependent"], "陈*例", "陈*宝"}
		others := []string{fx.ids["person"], "林*行"}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do := func(method, path, token string, body []byte) (int, string) {
			var rd io.Reader
			if body != nil {
				rd = strings.NewReader(string(body))
			}
			req, _ := http.NewRequest(method, e.URL+path, rd)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return res.StatusCode, string(raw)
		}
		b := &battery{e: e, fx: fx}
		sent, outAnswered := 0, 0
		for _, rt := range routes {
			key := rt.method + " " + rt.path
			a, ok := authz[key]
			if !ok {
				t.Fatalf("%s: not in the document", key)
			}
			if isLogout(rt) {
				continue // would end the sessions the matrix calls with; TestNamesAndLogoutHold covers it
			}
			// A route that changes state is called with an id nobody has (or
			// with a body it cannot decode): the door answers first, and
			// nothing of the world changes.
			path := b.validPath(rt)
			var body []byte
			if rt.method != "GET" {
				body = []byte(`{}`)
				if len(rt.params) > 0 {
					path = b.expandPath(rt, len(rt.params)-1, "Qx7vN2pLm9aR4tYw")
				}
			}
			scoped := len(rt.params) > 0
			for _, p := range rt.params {
				for _, k := range paramKinds(rt.path, p) {
					if slices.Contains(publicKinds, k) {
						scoped = false
					}
				}
			}
			for _, c := range callers {
				want, known := authAdmits(a, c)
				if !known {
					t.Fatalf("%s: the matrix does not know the Authorization %q; teach authAdmits", key, a)
				}
				status, raw := do(rt.method, path, c.token, body)
				sent++
				where := fmt.Sprintf("%s %s as %s (%q)", rt.method, trunc(path, 90), c.name, a)
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				json.Unmarshal([]byte(raw), &e)
				gateway := strings.HasPrefix(rt.path, "/gateway/")
				switch {
				case status >= 500:
					t.Errorf("%s: %d %s", where, status, trunc(raw, 200))
				// Refused at the door, or told the object does not exist
				// (which says nothing); the gateway reads its body first.
				case want == refused && status != 401 && status != 403 && status != 404 && !(gateway && status == 400):
					t.Errorf("%s: %d, want it refused: %s", where, status, trunc(raw, 200))
				case want == admitted && a != "" && c.inScope && slices.Contains(doorCodes, e.Error.Code):
					t.Errorf("%s: %d, want past the door: %s", where, status, trunc(raw, 200))
				}
				if c.inScope || a == "" || status >= 400 {
					continue
				}
				outAnswered++
				// Out of scope and answered: nothing of the world's persons,
				// and nothing read by a scoped id.
				hidden := secrets
				if c.name != "other resident" {
					hidden = append(slices.Clone(secrets), others...)
				}
				for _, s := range hidden {
					if strings.Contains(raw, s) {
						t.Errorf("%s: %d shows %q of another scope: %s", where, status, s, trunc(raw, 300))
					}
				}
				if scoped && rt.method == "GET" {
					t.Errorf("%s: %d for an id of another scope: %s", where, status, trunc(raw, 200))
				}
			}
		}
		t.Logf("%d requests over %d routes and %d callers; %d answers to callers out of scope searched for the world's persons",
			sent, len(routes), len(callers), outAnswered)
		if outAnswered == 0 {
			t.Fatal("no caller out of scope was answered: the scope half of the matrix checked nothing")
		}
	})
}
