package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/status"
)

// recorder is a FactRecorder that validates as the status service does
// and keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	got     []status.NewFact
	keys    map[string]bool
	handles *person.Handles // for Post
}

// Post keeps a posted fact as Record would, without the status service's
// rules of who may post what (facts_policy_test.go drives those).
func (r *recorder) Post(ctx context.Context, by *auth.Principal, in status.Posted) (status.PostResult, error) {
	num, err := r.handles.ParseID(in.PersonID)
	if err != nil {
		return status.PostResult{}, err
	}
	n, err := r.Record(ctx, status.NewFact{Person: num, Fact: in.Fact, RecordedBy: by.Actor(), Key: in.Key})
	return status.PostResult{Person: num, Created: n == 1}, err
}

func (r *recorder) Record(_ context.Context, facts ...status.NewFact) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range facts {
		if err := f.Fact.Validate(); err != nil {
			return 0, err
		}
		if r.keys == nil {
			r.keys = map[string]bool{}
		}
		if f.Key != "" && r.keys[f.Key] {
			continue
		}
		r.keys[f.Key] = true
		r.got = append(r.got, f)
		n++
	}
	return n, nil
}

// withFacts wires a fact recorder in place of the status engine.
func withFacts(r *recorder) envOpt { return func(c *server.Config) { c.Facts = r } }

func consoleClient(t *testing.T, e *env, username, password string) *http.Client {
	t.Helper()
	c := e.client()
	_, body := e.get(c, "/console/login")
	res, _ := e.post(c, "/console/login", url.Values{"username": {username}, "password": {password}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("operator login: %d", res.StatusCode)
	}
	return c
}

// The facts form takes any kind of the registry, reads times in the
// deployment's zone and refuses what the registry refuses.
func TestFactsEntryForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	rec := &recorder{handles: e.App.Persons.Handles()}
	e.App.Web.Facts = rec
	admin := &auth.Principal{Kind: auth.Operator, ID: "t", Role: auth.Admin, Region: "341881"}
	p, err := e.App.Persons.Create(context.Background(), admin, person.Input{Name: "王五", IDType: "resident_id", IDNumber: rid("19700101", 5), Region: "341881001"})
	if err != nil {
		t.Fatal(err)
	}
	c := consoleClient(t, e, "admin", adminPassword)
	st, body := e.get(c, "/console/facts?person="+p.ID+"&kind=nat.result")
	if st != 200 || !strings.Contains(body, "核酸检测结果") || !strings.Contains(body, "王五") || !strings.Contains(body, "混管阳性") {
		t.Fatalf("facts form: %d", st)
	}
	form := url.Values{"csrf": {csrfOf(body)}, "person": {p.ID}, "kind": {"nat.result"}, "nonce": {"n1"},
		"at": {"2026-11-20T08:30"}, "attr.result": {"negative"}, "attr.tube_capacity": {"10"}, "attr.tube": {"T0001"}}
	res, _ := e.post(c, "/console/facts", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/persons/"+p.ID {
		t.Fatalf("record: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if len(rec.got) != 1 {
		t.Fatalf("recorded %d facts", len(rec.got))
	}
	f := rec.got[0]
	want := time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC)
	if f.Person != p.Num || f.Fact.Kind != "nat.result" || !f.Fact.At.Equal(want) || f.Fact.Attrs["result"] != "negative" ||
		f.Fact.Attrs["tube_capacity"] != 10.0 || f.RecordedBy != "operator:"+opID(t, e, "admin") {
		t.Fatalf("recorded %+v", f)
	}
	// The same form twice is one fact.
	res, _ = e.post(c, "/console/facts", form)
	if res.StatusCode != http.StatusSeeOther || len(rec.got) != 1 {
		t.Fatalf("a resubmitted form recorded again: %d, %d facts", res.StatusCode, len(rec.got))
	}
	// A missing required attribute is refused with the registry's reason.
	form.Set("nonce", "n2")
	form.Del("attr.result")
	res, body = e.post(c, "/console/facts", form)
	if res.StatusCode != 400 || !strings.Contains(body, "缺少必填项") {
		t.Fatalf("missing result: %d", res.StatusCode)
	}
	// An until on an instantaneous kind is refused.
	form.Set("attr.result", "negative")
	form.Set("until", "2026-11-21T08:00")
	if res, _ = e.post(c, "/console/facts", form); res.StatusCode != 400 {
		t.Fatalf("until on a test result: %d", res.StatusCode)
	}
	// Symptoms are a list of checkboxes.
	decl := url.Values{"csrf": {csrfOf(body)}, "person": {p.ID}, "kind": {"declaration"}, "nonce": {"n3"},
		"at": {"2026-11-20T08:30"}, "attr.temperature": {"37.8"}, "attr.symptoms": {"fever", "dry_cough"}}
	if res, _ = e.post(c, "/console/facts", decl); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("declaration: %d", res.StatusCode)
	}
	if got := rec.got[len(rec.got)-1].Fact.Attrs["symptoms"]; len(got.([]any)) != 2 {
		t.Fatalf("symptoms %v", got)
	}
	// A person outside the operator's scope is not found.
	if _, err := e.App.Auth.CreateOperator(context.Background(), admin, auth.NewOperator{Username: "meilin", Password: "a long password", Role: "health_officer", Region: "341881101"}); err != nil {
		t.Fatal(err)
	}
	ml := consoleClient(t, e, "meilin", "a long password")
	_, body = e.get(ml, "/console/facts")
	decl.Set("csrf", csrfOf(body))
	decl.Set("nonce", "n4")
	if res, _ = e.post(ml, "/console/facts", decl); res.StatusCode != 404 {
		t.Fatalf("out of scope: %d", res.StatusCode)
	}
}

func opID(t *testing.T, e *env, username string) string {
	var id string
	if err := e.App.DB.QueryRowContext(context.Background(), `SELECT id FROM operators WHERE username = $1`, username).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
