package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/clientaddr"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/venue"
)

func (s *Server) consoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/login", s.public(s.consoleLoginPage))
	mux.HandleFunc("POST /console/login", s.public(s.consoleLogin))
	mux.HandleFunc("POST /console/logout", s.console("", s.consoleLogout))
	mux.HandleFunc("GET /console", s.console("", s.dashboard))
	mux.HandleFunc("GET /console/{$}", s.console("", s.dashboard))

	mux.HandleFunc("GET /console/persons", s.console(auth.PersonRead, s.personsPage))
	mux.HandleFunc("POST /console/persons", s.console(auth.PersonWrite, s.createPerson))
	mux.HandleFunc("GET /console/persons/{id}", s.console(auth.PersonRead, s.personPage))
	mux.HandleFunc("POST /console/persons/{id}/care", s.console(auth.PersonWrite, s.issuePersonCare))
	mux.HandleFunc("GET /console/care/{cid}", s.console(auth.PersonWrite, s.printCare))
	mux.HandleFunc("POST /console/care/{cid}/revoke", s.console(auth.PersonWrite, s.revokePersonCare))

	mux.HandleFunc("GET /console/facts", s.console(auth.FactWrite, s.factsPage))
	mux.HandleFunc("POST /console/facts", s.console(auth.FactWrite, s.recordFact))

	mux.HandleFunc("GET /console/venues", s.console("", s.venuesPage))
	mux.HandleFunc("POST /console/venues", s.console(auth.VenueWrite, s.createVenue))
	mux.HandleFunc("GET /console/venues/{id}", s.console("", s.venuePage))
	mux.HandleFunc("POST /console/venues/{id}/rotate", s.console(auth.VenueWrite, s.rotateVenue))

	mux.HandleFunc("GET /console/checkpoints", s.console(auth.StatsRead, s.checkpointsPage))
	mux.HandleFunc("POST /console/checkpoints", s.console(auth.CheckpointEdit, s.createCheckpoint))
	mux.HandleFunc("POST /console/checkpoints/{id}", s.console(auth.CheckpointEdit, s.updateCheckpoint))
	mux.HandleFunc("POST /console/checkpoints/{id}/key", s.console(auth.CheckpointEdit, s.newCheckpointKey))

	mux.HandleFunc("GET /console/coverage", s.console(auth.StatsRead, s.coveragePage))
	mux.HandleFunc("GET /console/outbox", s.console(auth.OutboxRead, s.outboxPage))
	mux.HandleFunc("GET /console/audit", s.console(auth.AuditRead, s.auditPage))
	mux.HandleFunc("GET /console/operators", s.console(auth.OperatorWrite, s.operatorsPage))
	mux.HandleFunc("POST /console/operators", s.console(auth.OperatorWrite, s.createOperator))
	mux.HandleFunc("POST /console/operators/{id}/totp-reset", s.console(auth.OperatorWrite, s.resetOperatorTOTP))
	s.totpRoutes(mux)
	s.featureConsoleRoutes(mux)
}

// navEntry is one line of the console's menu, shown to operators whose
// role has the permission ("" for all).
type navEntry struct {
	key, href string
	perm      auth.Permission
}

// navEntries is the console menu in order; features add their pages here.
var navEntries = []navEntry{
	{"nav.dashboard", "/console", ""},
	{"nav.persons", "/console/persons", auth.PersonRead},
	{"nav.facts", "/console/facts", auth.FactWrite},
	{"nav.venues", "/console/venues", ""},
	{"nav.checkpoints", "/console/checkpoints", auth.StatsRead},
	{"nav.coverage", "/console/coverage", auth.StatsRead},
	{"nav.outbox", "/console/outbox", auth.OutboxRead},
	{"nav.audit", "/console/audit", auth.AuditRead},
	{"nav.operators", "/console/operators", auth.OperatorWrite},
	{"nav.totp", "/console/totp", ""},
}

func (s *Server) nav(op *auth.Principal) []navItem {
	var out []navItem
	for _, e := range s.navList() {
		if e.perm == "" || op.Can(e.perm) {
			out = append(out, navItem{Key: e.key, Href: e.href})
		}
	}
	return out
}

type consoleLoginData struct {
	Username, Next string
}

func (s *Server) consoleLoginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	next := localPath(r.URL.Query().Get("next"), consolePath)
	if tok := cookie(r, operatorCookie); tok != "" {
		if pr, err := s.Auth.Authenticate(r.Context(), tok); err == nil && pr.Kind == auth.Operator && strings.HasPrefix(next, consolePath) {
			redirect(w, r, next)
			return nil
		}
	}
	return s.showConsoleLogin(w, r, p, http.StatusOK, consoleLoginData{Next: next})
}

func (s *Server) showConsoleLogin(w http.ResponseWriter, r *http.Request, p *page, status int, d consoleLoginData) error {
	p.Title, p.Body, p.Data = p.T("console.login"), "console bare", d
	p.Demo = s.demoMode(r.Context())
	s.render(w, r, status, "console_login", p)
	return nil
}

func (s *Server) consoleLogin(w http.ResponseWriter, r *http.Request, p *page) error {
	d := consoleLoginData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: localPath(r.PostFormValue("next"), consolePath)}
	if !strings.HasPrefix(d.Next, consolePath) {
		d.Next = consolePath
	}
	token, _, err := s.Auth.OperatorLoginWith(r.Context(), auth.OperatorCredentials{Username: d.Username,
		Password: r.PostFormValue("password"), TOTP: strings.TrimSpace(r.PostFormValue("totp")), Addr: clientaddr.Of(r)})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showConsoleLogin(w, r, p, st, d) })
	}
	// No Max-Age: the cookie ends with the browser; the session itself
	// ends after the operator session lifetime in any case.
	s.setCookie(w, r, operatorCookie, token, consolePath, 0)
	redirect(w, r, d.Next)
	return nil
}

func (s *Server) consoleLogout(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.Auth.Logout(r.Context(), cookie(r, operatorCookie)); err != nil {
		return err
	}
	s.clearCookie(w, r, operatorCookie, consolePath)
	s.flash(w, r, "flash.logged_out", "")
	redirect(w, r, consolePath+"/login")
	return nil
}

// scopeRegions are the regions an operator picks from in forms: their own
// and the level below it.
func (s *Server) scopeRegions(op *auth.Principal) []region.Region {
	code := op.Region
	if code == "" {
		code = s.Config.Region
	}
	self, ok := s.Regions.Lookup(code)
	if !ok {
		return nil
	}
	return append([]region.Region{self}, s.Regions.Children(code)...)
}

// RegionName is the short name of a region for tables.
func (s *Server) regionName(code string) string {
	if r, ok := s.Regions.Lookup(code); ok {
		return r.Name
	}
	return code
}

func intQuery(r *http.Request, key string, def int) (int, error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, ErrInvalidParameter.Withf("%s=%q is not a non-negative integer", key, v)
	}
	return n, nil
}

// checkpointsData is the checkpoint table page.
type checkpointsData struct {
	Table   *checkpoint.Table
	Rows    []checkpointRow
	Regions []region.Region
	Created *checkpoint.Checkpoint
	Key     string // a new API key, shown once
	KeyQR   string // the scanner's address that signs in with Key, as a QR
	Form    checkpoint.Input
	Kinds   []string // the venue kinds a checkpoint may stand under
}

type checkpointRow struct {
	*checkpoint.Checkpoint
	RegionName string
}

func (s *Server) checkpointsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showCheckpoints(w, r, p, http.StatusOK, checkpointsData{})
}

func (s *Server) showCheckpoints(w http.ResponseWriter, r *http.Request, p *page, status int, d checkpointsData) error {
	t, err := s.Checkpoints.List(r.Context(), p.Op)
	if err != nil {
		return err
	}
	d.Table = t
	if d.Key != "" {
		// The key rides in the fragment, which the browser never sends:
		// the tablet's camera opens the scanner signed in, and no server
		// log sees the key.
		if d.KeyQR, err = qrSVGSized(strings.TrimRight(s.Config.PublicURL, "/")+"/scan#key="+d.Key, qrcode.Medium,
			p.T("cp.qr_label", d.Created.Name), 4); err != nil {
			return err
		}
	}
	for _, c := range t.Checkpoints {
		d.Rows = append(d.Rows, checkpointRow{c, s.regionName(c.Region)})
	}
	d.Regions = s.scopeRegions(p.Op)
	d.Kinds = venue.Kinds
	p.Title, p.NavOn, p.Data = p.T("nav.checkpoints"), "/console/checkpoints", d
	s.render(w, r, status, "console_checkpoints", p)
	return nil
}

func (s *Server) createCheckpoint(w http.ResponseWriter, r *http.Request, p *page) error {
	in := checkpoint.Input{Name: r.PostFormValue("name"), Region: r.PostFormValue("region"), Address: r.PostFormValue("address"),
		VenueKind: r.PostFormValue("venue_kind")}
	if v := r.PostFormValue("seq"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return s.formErr(w, r, p, checkpoint.ErrSeqInvalid.Withf("seq must be a whole number"), func(st int) error {
				return s.showCheckpoints(w, r, p, st, checkpointsData{Form: in})
			})
		}
		in.Seq = n
	}
	c, key, err := s.Checkpoints.Create(r.Context(), p.Op, in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showCheckpoints(w, r, p, st, checkpointsData{Form: in}) })
	}
	// The key is shown on this response only; it is stored hashed.
	return s.showCheckpoints(w, r, p, http.StatusCreated, checkpointsData{Created: c, Key: key})
}

func (s *Server) updateCheckpoint(w http.ResponseWriter, r *http.Request, p *page) error {
	var built, enabled *bool
	if v := r.PostFormValue("built"); v != "" {
		b := v == "true"
		built = &b
	}
	if v := r.PostFormValue("enabled"); v != "" {
		b := v == "true"
		enabled = &b
	}
	// Only the kind's own form sends venue_kind; the built and enabled
	// buttons leave it as it is.
	var kind *string
	if _, ok := r.PostForm["venue_kind"]; ok {
		k := r.PostFormValue("venue_kind")
		kind = &k
	}
	c, key, err := s.Checkpoints.Update(r.Context(), p.Op, r.PathValue("id"), built, enabled, kind)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showCheckpoints(w, r, p, st, checkpointsData{}) })
	}
	if key != "" {
		return s.showCheckpoints(w, r, p, http.StatusOK, checkpointsData{Created: c, Key: key})
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/checkpoints#cp-"+c.ID)
	return nil
}

// newCheckpointKey gives an enabled checkpoint a new key, shown once like
// a new checkpoint's.
func (s *Server) newCheckpointKey(w http.ResponseWriter, r *http.Request, p *page) error {
	c, key, err := s.Checkpoints.IssueKey(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showCheckpoints(w, r, p, st, checkpointsData{}) })
	}
	return s.showCheckpoints(w, r, p, http.StatusOK, checkpointsData{Created: c, Key: key})
}

type coverageData struct {
	Table *rollout.Table
	Ratio string
	Chart string
}

func (s *Server) coveragePage(w http.ResponseWriter, r *http.Request, p *page) error {
	ratio := s.Config.CoverageRatio
	rs := r.URL.Query().Get("ratio")
	if rs != "" {
		f, err := strconv.ParseFloat(rs, 64)
		if err != nil {
			return rollout.ErrRatioInvalid.Withf("ratio must be a number such as 0.9")
		}
		ratio = f
	}
	t, err := rollout.Compute(r.Context(), s.DB, s.Persons, p.Op, ratio)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = p.T("nav.coverage"), "/console/coverage"
	p.Data = coverageData{Table: t, Ratio: strconv.FormatFloat(ratio, 'f', -1, 64), Chart: coverageChart(p, t)}
	s.render(w, r, http.StatusOK, "console_coverage", p)
	return nil
}

type outboxData struct {
	To       string
	State    string
	States   []string
	Provider string
	Off      bool // a real gateway carries the messages: nothing to read
	Items    []sms.Item
	Next     int64
}

func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d := outboxData{To: strings.TrimSpace(r.URL.Query().Get("to")), State: r.URL.Query().Get("state"),
		States: []string{sms.StateQueued, sms.StateSent, sms.StateDelivered, sms.StateFailed}, Provider: s.Outbox.Provider()}
	if !s.Outbox.Open() {
		d.Off = true
		p.Title, p.NavOn, p.Data = p.T("nav.outbox"), "/console/outbox", d
		s.render(w, r, http.StatusNotFound, "console_outbox", p)
		return nil
	}
	f := sms.Filter{Limit: 50, State: d.State}
	if d.To != "" {
		phone, err := idnum.NormalizePhone(d.To)
		if err != nil {
			return err
		}
		f.To = phone
	}
	before, err := intQuery(r, "before", 0)
	if err != nil {
		return err
	}
	f.Before = int64(before)
	if d.Items, err = s.Outbox.ListFor(r.Context(), p.Op, f); err != nil {
		return err
	}
	if len(d.Items) == f.Limit {
		d.Next = d.Items[len(d.Items)-1].ID
	}
	p.Title, p.NavOn, p.Data = p.T("nav.outbox"), "/console/outbox", d
	s.render(w, r, http.StatusOK, "console_outbox", p)
	return nil
}

type auditData struct {
	Subject string
	Entries []audit.Entry
	Next    int64
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d := auditData{Subject: strings.TrimSpace(r.URL.Query().Get("subject"))}
	before, err := intQuery(r, "before", 0)
	if err != nil {
		return err
	}
	d.Entries, err = audit.ListFor(r.Context(), s.DB, p.Op, audit.Filter{Subject: d.Subject, Before: int64(before), Limit: 50})
	if err != nil {
		return err
	}
	if len(d.Entries) == 50 {
		d.Next = d.Entries[len(d.Entries)-1].Seq
	}
	actors := make([]string, len(d.Entries))
	for i, e := range d.Entries {
		actors[i] = e.Actor
	}
	if err := s.nameActors(r, p, actors...); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.audit"), "/console/audit", d
	s.render(w, r, http.StatusOK, "console_audit", p)
	return nil
}

type operatorsData struct {
	Operators []auth.OperatorInfo
	Roles     []auth.Role
	Regions   []region.Region
	Form      auth.NewOperator
}

func (s *Server) operatorsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showOperators(w, r, p, http.StatusOK, auth.NewOperator{Role: string(auth.Viewer), Region: p.Op.Region})
}

func (s *Server) showOperators(w http.ResponseWriter, r *http.Request, p *page, status int, f auth.NewOperator) error {
	ops, err := s.Auth.Operators(r.Context(), p.Op)
	if err != nil {
		return err
	}
	f.Password = ""
	p.Title, p.NavOn = p.T("nav.operators"), "/console/operators"
	p.Data = operatorsData{Operators: ops, Roles: auth.Roles, Regions: s.scopeRegions(p.Op), Form: f}
	s.render(w, r, status, "console_operators", p)
	return nil
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request, p *page) error {
	f := auth.NewOperator{Username: strings.TrimSpace(r.PostFormValue("username")), DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
		Password: r.PostFormValue("password"), Role: r.PostFormValue("role"), Region: r.PostFormValue("region")}
	op, err := s.Auth.CreateOperator(r.Context(), p.Op, f)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOperators(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.operator_created", op.Username)
	redirect(w, r, "/console/operators")
	return nil
}

func (s *Server) resetOperatorTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	op, err := s.Auth.ResetTOTP(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOperators(w, r, p, st, auth.NewOperator{Region: p.Op.Region}) })
	}
	s.flash(w, r, "flash.totp_reset", op.Username)
	redirect(w, r, "/console/operators")
	return nil
}

// hours lists the hour starts of the last n hours up to now, in the
// deployment's zone, oldest first.
func hours(now time.Time, loc *time.Location, n int) []time.Time {
	t := now.In(loc).Truncate(time.Hour)
	out := make([]time.Time, n)
	for i := range out {
		out[n-1-i] = t.Add(-time.Duration(i) * time.Hour)
	}
	return out
}

// days lists the starts of the last n days up to today, oldest first.
func days(now time.Time, loc *time.Location, n int) []time.Time {
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, loc)
	out := make([]time.Time, n)
	for i := range out {
		out[n-1-i] = today.AddDate(0, 0, -i)
	}
	return out
}

// withQuery adds key=value to a path.
func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
