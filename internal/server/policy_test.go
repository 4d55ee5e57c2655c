package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/venue"
)

// Who may do what is decided by the services; the API and the console
// only translate. Each rule is driven through both doors here, and each
// refusal must be the same and must leave nothing written.

// pageSession is someone logged in to the pages as a browser would be:
// its cookies and the form token of its session.
type pageSession struct {
	e    *env
	c    *http.Client
	csrf string
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	errCodeRe = regexp.MustCompile(`data-code="([^"]*)"`)
)

// page is a page's answer: its status, the error code the page shows
// (data-code) and where a redirect goes.
type page struct {
	Status   int
	code     string
	location string
	Body     string
}

func (s *pageSession) Do(method, path string, form url.Values) page {
	s.e.t.Helper()
	var res *http.Response
	var err error
	if method == "GET" {
		res, err = s.c.Get(s.e.URL + path)
	} else {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", s.csrf)
		res, err = s.c.PostForm(s.e.URL+path, form)
	}
	if err != nil {
		s.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, location: res.Header.Get("Location"), Body: string(b)}
	if m := errCodeRe.FindStringSubmatch(p.Body); m != nil {
		p.code = m[1]
	}
	if p.Status >= 500 {
		s.e.t.Fatalf("%s %s: server error %d", method, path, p.Status)
	}
	return p
}

// residentPages is a resident's browser holding the session of token
// (the page cookie holds the same token the API hands out).
func (e *env) residentPages(token string) *pageSession {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(e.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: "hc_r", Value: token, Path: "/"}})
	s := &pageSession{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	m := csrfRe.FindStringSubmatch(s.Do("GET", "/me/declare", nil).Body)
	if m == nil {
		e.t.Fatal("no form token on the declaration page")
	}
	s.csrf = m[1]
	return s
}

// console logs an operator in to the console pages.
func (e *env) console(username, password string) *pageSession {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &pageSession{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	login := s.Do("GET", "/console/login", nil)
	s.csrf = csrfRe.FindStringSubmatch(login.Body)[1]
	if p := s.Do("POST", "/console/login", url.Values{"username": {username}, "password": {password}}); p.Status != http.StatusSeeOther {
		e.t.Fatalf("console login of %s: %d", username, p.Status)
	}
	home := s.Do("GET", "/console", nil)
	m := csrfRe.FindStringSubmatch(home.Body)
	if m == nil {
		e.t.Fatalf("no form token on the console of %s", username)
	}
	s.csrf = m[1]
	return s
}

// wantRefused fails unless both doors refused with the status and code.
func wantRefused(t *testing.T, door string, gotStatus int, gotCode string, status int, code string) {
	t.Helper()
	if gotStatus != status || gotCode != code {
		t.Fatalf("%s: got %d %q, want %d %q", door, gotStatus, gotCode, status, code)
	}
}

// A fact is posted through POST /admin/facts or the console's facts form;
// status.Post decides, for both, who may post what about whom. The known
// hole: the form recorded appeal.granted, turning a case green with an
// invented appeal until 2099.
func TestFactRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		const pw = "a long password"
		officer := e.NewOperator("xijin", "health_officer", "341881001")
		e.NewOperator("gangkou", "health_officer", "341881100")
		e.NewOperator("viewer", "viewer", "341881")
		now := time.Now()
		id := e.person(officer, "王建国", rid("19781105", 13), "341881001")
		e.Want(e.fact(officer, id, "case.confirmed", now.Add(-time.Hour), nil), 201, "")
		stored := e.Count("facts")

		sessions := map[string]*pageSession{}
		session := func(user string) *pageSession {
			if sessions[user] == nil {
				sessions[user] = e.console(user, pw)
			}
			return sessions[user]
		}
		tokens := map[string]string{"xijin": officer, "gangkou": e.OperatorToken("gangkou", pw), "viewer": e.OperatorToken("viewer", pw)}
		for i, c := range []struct {
			name, user, person, kind string
			attrs                    map[string]any
			until                    string
			Status                   int
			code                     string
		}{
			{"appeal.granted is reserved", "xijin", id, "appeal.granted", map[string]any{"appeal": "invented"}, "2099-12-31T00:00", 400, "fact_kind_reserved"},
			{"a role without fact.write", "viewer", id, "case.released", nil, "", 403, "forbidden"},
			{"a person outside the scope", "gangkou", id, "case.released", nil, "", 404, "person_not_found"},
			{"a kind the registry lacks", "xijin", id, "case.suspected", nil, "", 400, "fact_kind_unknown"},
		} {
			t.Run(c.name, func(t *testing.T) {
				body := map[string]any{"person_id": c.person, "kind": c.kind, "at": now.Format(time.RFC3339)}
				form := url.Values{"person": {c.person}, "kind": {c.kind}, "nonce": {"policy-" + string(rune('a'+i))},
					"at": {now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")}}
				if c.attrs != nil {
					body["attrs"] = c.attrs
					for k, v := range c.attrs {
						form.Set("attr."+k, v.(string))
					}
				}
				if c.until != "" {
					body["until"] = "2099-12-31T00:00:00+08:00"
					form.Set("until", c.until)
				}
				r := e.Do("POST", "/api/v1/admin/facts", tokens[c.user], body)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.Status, c.code)
				p := session(c.user).Do("POST", "/console/facts", form)
				wantRefused(t, "console", p.Status, p.code, c.Status, c.code)
				if n := e.Count("facts"); n != stored {
					t.Fatalf("%d facts stored after refusals, want %d", n, stored)
				}
				if got := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, officer, nil), 200, "").Str("color"); got != "red" {
					t.Fatalf("the case is %s after refusals", got)
				}
			})
		}
		// What the rules allow goes through both doors.
		ok := session("xijin").Do("POST", "/console/facts", url.Values{"person": {id}, "kind": {"clinic.fever"}, "nonce": {"policy-ok"}, "attr.clinic": {"h-1"},
			"at": {now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02T15:04")}})
		if ok.Status != http.StatusSeeOther || e.Count("facts") != stored+1 {
			t.Fatalf("an allowed fact through the console: %d %q, %d facts", ok.Status, ok.code, e.Count("facts"))
		}
		e.Want(e.fact(officer, id, "clinic.fever", now, map[string]any{"clinic": "h-1"}), 201, "")
		// The form does not offer the reserved kind.
		if p := session("xijin").Do("GET", "/console/facts?person="+id+"&kind=appeal.granted", nil); p.Status != 200 ||
			regexp.MustCompile(`value="appeal.granted"`).MatchString(p.Body) {
			t.Fatalf("the facts form offers appeal.granted (%d)", p.Status)
		}
	})
}

// A resident acts for themselves and their dependents, nobody else: the
// person service says whom (ActingFor), and the status and testing
// services ask it, whether the API or the pages call them.
func TestResidentsActOnlyForTheirOwnAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("xijin", "health_officer", "341881001")
		tok, _ := e.Resident("13900000701", "张三", rid("19800101", 701), "341881001")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "张老", "id_type": "resident_id", "id_number": rid("19450101", 702), "relation": "parent"}), 201, "").Str("id")
		_, stranger := e.Resident("13900000703", "李四", rid("19810101", 703), "341881001")
		e.Want(e.fact(officer, stranger, "case.confirmed", time.Now().Add(-time.Hour), nil), 201, "")
		pages := e.residentPages(tok)
		facts, appeals := e.Count("facts"), e.Count("appeals")
		for _, c := range []struct {
			name      string
			apiMethod string
			apiPath   string
			apiBody   map[string]any
			pageVerb  string
			pagePath  string
			pageForm  url.Values
		}{
			{"a declaration about a stranger", "POST", "/api/v1/me/declarations", map[string]any{"person_id": stranger, "temperature": 38.5},
				"POST", "/me/declare?for=" + stranger, url.Values{"temperature": {"38.5"}}},
			{"an appeal for a stranger", "POST", "/api/v1/me/appeals", map[string]any{"person_id": stranger, "reason": "不是我"},
				"POST", "/me/appeals", url.Values{"person": {stranger}, "reason": {"不是我"}}},
			{"a stranger's tests", "GET", "/api/v1/me/dependents/" + stranger + "/tests", nil,
				"GET", "/me/tests?for=" + stranger, nil},
			{"a certificate of a stranger's test", "GET", "/api/v1/me/dependents/" + stranger + "/tests/1/certificate", nil,
				"GET", "/me/tests/1/certificate?for=" + stranger, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				var body any
				if c.apiBody != nil {
					body = c.apiBody
				}
				r := e.Do(c.apiMethod, c.apiPath, tok, body)
				wantRefused(t, "API", r.Status, r.ErrCode(), 404, "person_not_found")
				p := pages.Do(c.pageVerb, c.pagePath, c.pageForm)
				wantRefused(t, "pages", p.Status, p.code, 404, "person_not_found")
				if e.Count("facts") != facts || e.Count("appeals") != appeals {
					t.Fatalf("a refusal stored something: %d facts (was %d), %d appeals (was %d)", e.Count("facts"), facts, e.Count("appeals"), appeals)
				}
			})
		}
		// Their dependent is theirs to declare for, through either door.
		e.Want(e.Do("POST", "/api/v1/me/declarations", tok, map[string]any{"person_id": dep, "temperature": 36.6}), 201, "")
		if p := pages.Do("POST", "/me/declare?for="+dep, url.Values{"temperature": {"36.6"}}); p.Status != http.StatusCreated {
			t.Fatalf("declaring for a dependent through the pages: %d %q", p.Status, p.code)
		}
		if n := e.Count("facts"); n != facts+2 {
			t.Fatalf("%d facts after two declarations, want %d", n, facts+2)
		}
	})
}

// Rule sets and appeals: the status service checks rules.write,
// rules.activate and appeal.decide itself, and the scope of the appeal.
func TestRuleAndAppealRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		const pw = "a long password"
		admin := e.Admin()
		officer := e.NewOperator("xijin", "health_officer", "341881001")
		e.NewOperator("gangkou", "health_officer", "341881100")
		e.NewOperator("viewer", "viewer", "341881")
		e.NewOperator("townadmin", "admin", "341881001")
		tokens := map[string]string{"xijin": officer, "gangkou": e.OperatorToken("gangkou", pw), "viewer": e.OperatorToken("viewer", pw),
			"townadmin": e.OperatorToken("townadmin", pw)}
		body, _ := json.Marshal(watchedDrugOff(t))
		version := fmt.Sprint(e.Want(e.Do("POST", "/api/v1/admin/rules", admin, string(body)), 201, "").Body["version"])
		tok, me := e.Resident("13900000711", "赵六", rid("19820101", 711), "341881001")
		e.Want(e.fact(officer, me, "contact.close", time.Now().Add(-time.Hour), map[string]any{"case_person": "p-1"}), 201, "")
		time.Sleep(5 * time.Millisecond) // the contact is recorded before the filing's millisecond, so the grant hides it
		appeal := e.Want(e.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "当天我不在该场所"}), 201, "").Body["appeal"].(map[string]any)["id"].(string)

		written := func() string {
			var active, sets, pending, facts int
			e.App.DB.QueryRowContext(context.Background(), `SELECT version FROM rules_active WHERE id = 1`).Scan(&active)
			sets, facts = e.Count("rule_sets"), e.Count("facts")
			e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM appeals WHERE state = 'pending'`).Scan(&pending)
			return fmt.Sprintf("active v%d, %d rule sets, %d pending appeals, %d facts", active, sets, pending, facts)
		}
		before := written()
		for _, c := range []struct {
			name, user string
			apiPath    string
			apiBody    any
			pagePath   string
			pageForm   url.Values
			Status     int
			code       string
		}{
			{"activating without rules.activate", "xijin", "/api/v1/admin/rules/" + version + "/activate", nil,
				"/console/rules/" + version + "/activate", nil, 403, "forbidden"},
			{"creating a rule set without rules.write", "viewer", "/api/v1/admin/rules", string(body),
				"/console/rules", url.Values{"body": {string(body)}}, 403, "forbidden"},
			{"an admin storing a rule set from a town's scope", "townadmin", "/api/v1/admin/rules", string(body),
				"/console/rules", url.Values{"body": {string(body)}}, 403, "out_of_scope"},
			{"a dry run without rules.write", "viewer", "/api/v1/admin/rules/" + version + "/dry-run", nil,
				"/console/rules/" + version + "/dry-run", nil, 403, "forbidden"},
			{"deciding without appeal.decide", "viewer", "/api/v1/admin/appeals/" + appeal + "/decision", map[string]any{"decision": "granted"},
				"/console/appeals/" + appeal + "/decision", url.Values{"decision": {"granted"}}, 403, "forbidden"},
			{"deciding an appeal outside the scope", "gangkou", "/api/v1/admin/appeals/" + appeal + "/decision", map[string]any{"decision": "granted"},
				"/console/appeals/" + appeal + "/decision", url.Values{"decision": {"granted"}}, 404, "appeal_not_found"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", c.apiPath, tokens[c.user], c.apiBody)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.Status, c.code)
				p := e.console(c.user, pw).Do("POST", c.pagePath, c.pageForm)
				wantRefused(t, "console", p.Status, p.code, c.Status, c.code)
				if now := written(); now != before {
					t.Fatalf("a refusal wrote: %s, was %s", now, before)
				}
			})
		}
		// The officer of the appeal's town decides it through the console.
		if p := e.console("xijin", pw).Do("POST", "/console/appeals/"+appeal+"/decision", url.Values{"decision": {"granted"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("deciding in scope: %d %q", p.Status, p.code)
		}
		if c := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "").Str("color"); c != "green" {
			t.Fatalf("after the grant: %s", c)
		}
	})
}

// Reads: the audit log, the outbox, tracing runs, follow-up tasks, and how
// much of a person an operator sees. Each service checks the permission
// and the scope itself; both doors answer alike.
func TestReadRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		const pw = "a long password"
		admin := e.Admin()
		officer := e.NewOperator("xijin", "health_officer", "341881001")
		tokens := map[string]string{"xijin": officer, "viewer": e.NewOperator("viewer", "viewer", "341881"),
			"sampler": e.NewOperator("sampler", "sampler", "341881"), "gangkou": e.NewOperator("gangkou", "health_officer", "341881100")}
		number := rid("19781105", 721)
		id := e.person(officer, "王建国", number, "341881001")
		run := e.Want(e.Do("POST", "/api/v1/admin/tracing", admin, map[string]any{"person_ids": []string{id}}), 202, "").Str("id")
		for _, c := range []struct {
			name, user, apiPath, pagePath string
			Status                        int
			code                          string
		}{
			{"the audit log without audit.read", "viewer", "/api/v1/admin/audit", "/console/audit", 403, "forbidden"},
			{"the outbox without outbox.read", "viewer", "/api/v1/admin/outbox", "/console/outbox", 403, "forbidden"},
			{"a tracing run without tracing.run", "viewer", "/api/v1/admin/tracing/" + run, "/console/tracing/" + run, 403, "forbidden"},
			{"a tracing run outside the scope", "gangkou", "/api/v1/admin/tracing/" + run, "/console/tracing/" + run, 404, "tracing_run_not_found"},
			{"follow-up tasks without task.write", "sampler", "/api/v1/admin/tasks", "/console/tasks", 403, "forbidden"},
			{"a person outside the scope", "gangkou", "/api/v1/admin/persons/" + id, "/console/persons/" + id, 404, "person_not_found"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("GET", c.apiPath, tokens[c.user], nil)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.Status, c.code)
				p := e.console(c.user, pw).Do("GET", c.pagePath, nil)
				wantRefused(t, "console", p.Status, p.code, c.Status, c.code)
			})
		}
		// The audit log of another town shows nothing of this one, at
		// either door; the town's own administrator sees it.
		subject := "person:" + id
		for user, region := range map[string]string{"gangkou.admin": "341881100", "xijin.admin": "341881001"} {
			tok := e.NewOperator(user, "admin", region)
			own := region == "341881001"
			r := e.Want(e.Do("GET", "/api/v1/admin/audit?subject="+subject, tok, nil), 200, "")
			p := e.console(user, pw).Do("GET", "/console/audit?subject="+subject, nil)
			if api, page := len(r.Body["entries"].([]any)) > 0, p.Status == 200 && regexp.MustCompile(`person\.create`).MatchString(p.Body); api != own || page != own {
				t.Fatalf("the administrator of %s reads the entries of %s: API %v, console %v; want %v", region, subject, api, page, own)
			}
		}
		// The identity number in full only to a role with person.read_full.
		for user, full := range map[string]bool{"xijin": true, "viewer": false} {
			r := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, tokens[user], nil), 200, "")
			p := e.console(user, pw).Do("GET", "/console/persons/"+id, nil)
			if api, page := r.Str("id_number") == number, regexp.MustCompile(number).MatchString(p.Body); api != full || page != full {
				t.Fatalf("%s sees the full number: API %v, console %v; want %v", user, api, page, full)
			}
		}
	})
}

// The services refuse by themselves: called with no door in front, each
// guarded method refuses a caller without the permission, the kind of
// credential or the scope it needs, with auth's one error and nothing
// written.
func TestServicesRefuseWithoutADoor(t *testing.T) {
	e := newEnv(t, db.SQLite)
	ctx := context.Background()
	s := e.App
	admin := &auth.Principal{Kind: auth.Operator, ID: "a", Role: auth.Admin, Region: "341881"}
	viewer := &auth.Principal{Kind: auth.Operator, ID: "v", Role: auth.Viewer, Region: "341881"}
	sampler := &auth.Principal{Kind: auth.Operator, ID: "s", Role: auth.Sampler, Region: "341881"}
	officer := &auth.Principal{Kind: auth.Operator, ID: "o", Role: auth.HealthOfficer, Region: "341881"}
	key := &auth.Principal{Kind: auth.APIKey, ID: "k", Region: "341881", Scopes: []string{auth.ScopeStatus}}
	resident := &auth.Principal{Kind: auth.Resident, ID: "r"}
	p, err := s.Persons.Create(ctx, admin, person.Input{Name: "王五", IDType: "resident_id", IDNumber: rid("19700101", 731), Region: "341881001"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Venues.Create(ctx, admin, venue.Input{Name: "西津农贸市场", Kind: "market", Region: "341881001"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Tracing.Submit(ctx, admin, tracing.Request{PersonIDs: []string{p.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		by   []*auth.Principal
		call func(by *auth.Principal) error
	}{
		{"person.Create", []*auth.Principal{viewer, key, resident}, func(by *auth.Principal) error {
			_, err := s.Persons.Create(ctx, by, person.Input{Name: "赵六", IDType: "resident_id", IDNumber: rid("19700101", 732), Region: "341881001"})
			return err
		}},
		{"person.Lookup", []*auth.Principal{key, resident}, func(by *auth.Principal) error { _, err := s.Persons.Lookup(ctx, by, p.ID); return err }},
		{"codes.IssueCare", []*auth.Principal{viewer, key}, func(by *auth.Principal) error { _, err := s.Codes.IssueCare(ctx, by, p.ID); return err }},
		{"codes.Verify", []*auth.Principal{key, admin, resident}, func(by *auth.Principal) error {
			_, err := s.Codes.Verify(ctx, by, "HC1:whatever", codes.Temperature{})
			return err
		}},
		{"codes.VerifyID", []*auth.Principal{key, admin}, func(by *auth.Principal) error {
			_, err := s.Codes.VerifyID(ctx, by, "resident_id", rid("19700101", 731), codes.Temperature{})
			return err
		}},
		{"venue.Create", []*auth.Principal{viewer, key}, func(by *auth.Principal) error {
			_, err := s.Venues.Create(ctx, by, venue.Input{Name: "x", Region: "341881001"})
			return err
		}},
		{"venue.List", []*auth.Principal{key, resident}, func(by *auth.Principal) error { _, err := s.Venues.List(ctx, by, 10); return err }},
		{"venue.Get", []*auth.Principal{key, resident}, func(by *auth.Principal) error { _, err := s.Venues.Get(ctx, by, v.ID); return err }},
		{"checkin.Counts", []*auth.Principal{key, resident}, func(by *auth.Principal) error {
			_, err := s.Checkins.Counts(ctx, by, v.ID, time.Now().Add(-time.Hour), time.Now())
			return err
		}},
		{"checkpoint.List", []*auth.Principal{key, resident}, func(by *auth.Principal) error { _, err := s.Checkpoints.List(ctx, by); return err }},
		{"rollout.Compute", []*auth.Principal{key, resident}, func(by *auth.Principal) error {
			_, err := rollout.Compute(ctx, s.DB, s.Persons, by, 0.9)
			return err
		}},
		{"tracing.Submit", []*auth.Principal{viewer, sampler, key}, func(by *auth.Principal) error {
			_, err := s.Tracing.Submit(ctx, by, tracing.Request{PersonIDs: []string{p.ID}})
			return err
		}},
		{"tracing.Get", []*auth.Principal{viewer, key}, func(by *auth.Principal) error { _, err := s.Tracing.Get(ctx, by, run.ID, 0, 0); return err }},
		{"tracing.ExportCSV", []*auth.Principal{viewer, key}, func(by *auth.Principal) error {
			return s.Tracing.ExportCSV(ctx, by, run.ID, "", func(string) io.Writer { return io.Discard })
		}},
		{"tracing.Tasks", []*auth.Principal{viewer, sampler}, func(by *auth.Principal) error {
			_, err := s.Tracing.Tasks(ctx, by, tracing.TaskFilter{})
			return err
		}},
		{"audit.ListFor", []*auth.Principal{officer, viewer, key}, func(by *auth.Principal) error {
			_, err := audit.ListFor(ctx, s.DB, by, audit.Filter{})
			return err
		}},
		{"sms.Outbox.ListFor", []*auth.Principal{officer, viewer, key}, func(by *auth.Principal) error {
			_, err := s.Outbox.ListFor(ctx, by, sms.Filter{})
			return err
		}},
		{"auth.Operators", []*auth.Principal{viewer, sampler, key}, func(by *auth.Principal) error { _, err := s.Auth.Operators(ctx, by); return err }},
		{"nat.Coverage", []*auth.Principal{key, resident}, func(by *auth.Principal) error {
			_, err := s.NAT.Coverage(ctx, by, nat.CoverageQuery{Hours: 48})
			return err
		}},
	} {
		for _, by := range c.by {
			t.Run(c.name+" as "+string(by.Kind)+" "+string(by.Role), func(t *testing.T) {
				before := e.Count("audit_log")
				err := c.call(by)
				if !errors.Is(err, auth.ErrForbidden) && !errors.Is(err, auth.ErrScopeMissing) {
					t.Fatalf("err = %v, want a refusal", err)
				}
				if n := e.Count("audit_log"); n != before {
					t.Fatalf("a refusal was audited as an action: %d entries, was %d", n, before)
				}
			})
		}
	}
}

// unitPages logs a unit account in to the unit pages.
func (e *env) unitPages(username, password string) *pageSession {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &pageSession{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	s.csrf = csrfRe.FindStringSubmatch(s.Do("GET", "/unit/login", nil).Body)[1]
	if p := s.Do("POST", "/unit/login", url.Values{"username": {username}, "password": {password}}); p.Status != http.StatusSeeOther {
		e.t.Fatalf("unit login of %s: %d %q", username, p.Status, p.code)
	}
	m := csrfRe.FindStringSubmatch(s.Do("GET", "/unit/scan", nil).Body)
	if m == nil {
		e.t.Fatalf("no form token on the unit pages of %s", username)
	}
	s.csrf = m[1]
	return s
}

// The gateway's scenarios: what an organisation's kind may do, whose visit
// it may close and whose scan it may use are the services' rules; an
// organisation's key (the API) and its unit account (the pages) meet the
// same refusals, and nothing is written.
func TestScenarioRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		type door struct {
			key   string
			pages *pageSession
		}
		org := func(kind, name, uscc, username string, scopes ...string) door {
			id := e.org(admin, kind, name, uscc, "341881001")
			_, key := e.orgKey(admin, id, map[string]any{"name": "系统", "scopes": scopes})
			e.Want(e.Do("POST", "/api/v1/admin/orgs/"+id+"/accounts", admin, map[string]any{"username": username, "password": "a long unit password"}), 201, "")
			return door{key, e.unitPages(username, "a long unit password")}
		}
		pharmacy := org("pharmacy", "国胜大药房", "MA2N7T1D", "till1", "scan", "pharmacy.purchase")
		clinic := org("fever_clinic", "人民医院发热门诊", "48572011", "fever1", "scan", "clinic.fever", "hospital.identity")
		hospital := org("hospital", "宁国市中医院", "48572029", "desk", "scan", "clinic.fever", "hospital.identity", "hospital.queue")
		tok, _ := e.Resident("13900000801", "冯志远", rid("19770505", 801), "341881001")
		visit := e.Want(e.Do("POST", "/gateway/v1/clinic/visits", hospital.key, map[string]any{"subject": e.scan(hospital.key, tok),
			"temperature": 38.2, "doctor": "周医生"}), 201, "").Str("id")
		clinicSubject := e.scan(clinic.key, tok)
		counts := func() [3]int {
			return [3]int{e.Count("clinic_visits"), e.Count("hospital_tickets"), e.Count("hospital_handoffs")}
		}
		before := counts()
		for _, c := range []struct {
			name     string
			d        door
			apiPath  string
			apiBody  map[string]any
			pagePath string
			pageForm url.Values
			Status   int
			code     string
		}{
			{"a pharmacy registers a fever-clinic visit", pharmacy, "/gateway/v1/clinic/visits", map[string]any{"subject": "hcs_x", "temperature": 38, "doctor": "x"},
				"/unit/visits", url.Values{"subject": {"hcs_x"}, "temperature": {"38"}, "doctor": {"x"}}, 403, "scope_missing"},
			{"a fever clinic gives a queue number", clinic, "/gateway/v1/hospital/queue", map[string]any{"subject": clinicSubject, "department": "内科"},
				"/unit/queue", url.Values{"subject": {clinicSubject}, "department": {"内科"}}, 403, "scope_missing"},
			{"a clinic closes another's visit", clinic, "/gateway/v1/clinic/visits/" + visit + "/close", map[string]any{"outcome": "negative"},
				"/unit/visits/" + visit + "/close", url.Values{"outcome": {"negative"}}, 404, "visit_not_found"},
			{"a hospital takes a clinic's scan", hospital, "/gateway/v1/hospital/identity", map[string]any{"subject": clinicSubject, "purpose": "card"},
				"/unit/identity", url.Values{"subject": {clinicSubject}, "purpose": {"card"}}, 403, "subject_foreign"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", c.apiPath, c.d.key, c.apiBody)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.Status, c.code)
				p := c.d.pages.Do("POST", c.pagePath, c.pageForm)
				wantRefused(t, "pages", p.Status, p.code, c.Status, c.code)
				if got := counts(); got != before {
					t.Fatalf("a refusal stored something: %v, before %v", got, before)
				}
			})
		}
	})
}

// Cold-chain traceability: which holder may register, inspect and move a
// batch, and how much, are the service's rules; a holder's key (the API)
// and its unit account (the pages) meet the same refusals, and nothing is
// written.
func TestColdChainRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		type door struct {
			id, key string
			pages   *pageSession
		}
		holder := func(kind, name, uscc, username string, scopes ...string) door {
			id := e.org(admin, kind, name, uscc, "341881001")
			_, key := e.orgKey(admin, id, map[string]any{"name": "系统", "scopes": scopes})
			e.Want(e.Do("POST", "/api/v1/admin/orgs/"+id+"/accounts", admin, map[string]any{"username": username, "password": "a long unit password"}), 201, "")
			return door{id, key, e.unitPages(username, "a long unit password")}
		}
		imp := holder("importer", "宁国进出口", "CC100001", "imp1", "coldchain.batch", "coldchain.move")
		store := holder("cold_store", "宁国冷库", "CC100002", "store1", "coldchain.move", "coldchain.inspect")
		market := holder("market", "西津市场", "CC100003", "market1", "coldchain.move")
		code := e.Want(e.Do("POST", "/gateway/v1/coldchain/batches", imp.key, map[string]any{"product": "冻带鱼", "origin_country": "BR",
			"port": "上海洋山港", "declaration": "220120221000123456", "quantity": 10}), 201, "").Str("code")
		tables := []string{"cc_batches", "cc_stock", "cc_moves", "cc_inspections"}
		counts := func() []int {
			var out []int
			for _, tbl := range tables {
				out = append(out, e.Count(tbl))
			}
			return out
		}
		before := counts()
		for _, c := range []struct {
			name     string
			d        door
			apiPath  string
			apiBody  map[string]any
			pagePath string
			pageForm url.Values
			Status   int
			code     string
		}{
			{"a cold store registers a batch", store, "/gateway/v1/coldchain/batches", map[string]any{"product": "冻带鱼", "origin_country": "BR",
				"port": "上海洋山港", "declaration": "220120221000123456", "quantity": 10},
				"/unit/coldchain/batches", url.Values{"product": {"冻带鱼"}, "origin_country": {"BR"}, "port": {"上海洋山港"},
					"declaration": {"220120221000123456"}, "quantity": {"10"}}, 403, "scope_missing"},
			{"a market records an inspection", market, "/gateway/v1/coldchain/inspections", map[string]any{"batch_code": code, "kind": "goods", "result": "positive"},
				"/unit/coldchain/inspections", url.Values{"batch_code": {code}, "kind": {"goods"}, "result": {"positive"}}, 403, "scope_missing"},
			{"a market passes on a batch it does not hold", market, "/gateway/v1/coldchain/transfers", map[string]any{"batch_code": code, "to": store.id, "quantity": 1},
				"/unit/coldchain/transfers", url.Values{"batch_code": {code}, "to": {store.id}, "quantity": {"1"}}, 409, "batch_not_held"},
			{"the importer passes on more than it holds", imp, "/gateway/v1/coldchain/transfers", map[string]any{"batch_code": code, "to": store.id, "quantity": 11},
				"/unit/coldchain/transfers", url.Values{"batch_code": {code}, "to": {store.id}, "quantity": {"11"}}, 409, "quantity_exceeds_stock"},
			{"the cold store inspects a batch it does not hold", store, "/gateway/v1/coldchain/inspections", map[string]any{"batch_code": code, "kind": "goods", "result": "positive"},
				"/unit/coldchain/inspections", url.Values{"batch_code": {code}, "kind": {"goods"}, "result": {"positive"}}, 409, "batch_not_held"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", c.apiPath, c.d.key, c.apiBody)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.Status, c.code)
				p := c.d.pages.Do("POST", c.pagePath, c.pageForm)
				wantRefused(t, "pages", p.Status, p.code, c.Status, c.code)
				if got := counts(); !slices.Equal(got, before) {
					t.Fatalf("a refusal stored something: %v, before %v", got, before)
				}
			})
		}
	})
}

// Isolation and the hotline decide in their services: the API and the
// console refuse alike (a role without the permission, a site of another
// town, someone already admitted, a ticket closed) and store nothing.
func TestClosedLoopRulesHoldAtBothDoors(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		const pw = "a long password"
		admin := e.Admin()
		officer := e.NewOperator("xijin", "health_officer", "341881001")
		nanshan := e.NewOperator("nanshan", "health_officer", "341881002")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites", officer, map[string]any{"kind": "hotel", "name": "西津隔离酒店"}), 201, "").Str("id")
		room := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites/"+site+"/rooms", officer, map[string]any{"number": "101", "capacity": 2}), 201, "").Str("id")
		_, p1 := e.Resident("13900002301", "钱隔离", rid("19850101", 231), "341881001")
		e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": site, "room_id": room, "person_id": p1,
			"reason": "inbound", "days": 7}), 201, "")
		ticket := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_identity", "summary": "姓名有误",
			"person_id": p1}), 201, "").Str("id")
		closed := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_color", "summary": "颜色有误",
			"person_id": p1}), 201, "").Str("id")
		e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+closed+"/close", officer, map[string]any{"resolution": "已回复"}), 200, "")
		pages := map[string]*pageSession{admin: e.console("admin", servertest.AdminPassword), officer: e.console("xijin", pw),
			nanshan: e.console("nanshan", pw), viewer: e.console("viewer", pw)}
		tables := []string{"iso_stays", "iso_readings", "hotline_tickets", "facts", "persons"}
		counts := func() []int {
			var out []int
			for _, tbl := range tables {
				out = append(out, e.Count(tbl))
			}
			return out
		}
		before := counts()
		admit := map[string]any{"site_id": site, "room_id": room, "id_number": rid("19850101", 231), "reason": "inbound", "days": 7}
		admitForm := url.Values{"room": {site + "/" + room}, "id_number": {rid("19850101", 231)}, "reason": {"inbound"}, "days": {"7"}}
		for _, c := range []struct {
			name              string
			by                string
			apiPath, pagePath string
			apiBody           map[string]any
			pageForm          url.Values
			status            int
			code              string
		}{
			{"a viewer admits", viewer, "/api/v1/admin/isolation/stays", "/console/isolation/admit", admit, admitForm, 403, "forbidden"},
			{"another town admits", nanshan, "/api/v1/admin/isolation/stays", "/console/isolation/admit", admit, admitForm, 404, "isolation_site_not_found"},
			{"someone admitted twice", officer, "/api/v1/admin/isolation/stays", "/console/isolation/admit", admit, admitForm, 409, "isolation_already_admitted"},
			{"an officer corrects a name", officer, "/api/v1/admin/hotline/tickets/" + ticket + "/correction", "/console/hotline/" + ticket + "/correction",
				map[string]any{"name": "钱力"}, url.Values{"name": {"钱力"}}, 403, "forbidden"},
			{"a closed ticket closed again", officer, "/api/v1/admin/hotline/tickets/" + closed + "/close", "/console/hotline/" + closed + "/close",
				map[string]any{"resolution": "again"}, url.Values{"resolution": {"again"}}, 409, "ticket_closed"},
			{"a closed ticket corrected", admin, "/api/v1/admin/hotline/tickets/" + closed + "/correction", "/console/hotline/" + closed + "/correction",
				map[string]any{"name": "钱力"}, url.Values{"name": {"钱力"}}, 409, "ticket_closed"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do("POST", c.apiPath, c.by, c.apiBody)
				wantRefused(t, "API", r.Status, r.ErrCode(), c.status, c.code)
				p := pages[c.by].Do("POST", c.pagePath, c.pageForm)
				wantRefused(t, "pages", p.Status, p.code, c.status, c.code)
				if got := counts(); !slices.Equal(got, before) {
					t.Fatalf("a refusal stored something: %v, before %v", got, before)
				}
			})
		}
	})
}
