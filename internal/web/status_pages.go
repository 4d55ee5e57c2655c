package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// Pages of the status engine: why a colour is what it is, the daily
// declaration, appeals, rule sets and the colour dashboard.

func (s *Server) statusRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me/declare", s.resident(s.declarePage))
	mux.HandleFunc("POST /me/declare", s.resident(s.declare))
	mux.HandleFunc("GET /me/appeals", s.resident(s.myAppealsPage))
	mux.HandleFunc("POST /me/appeals", s.resident(s.fileAppeal))

	mux.HandleFunc("GET /console/rules", s.console(auth.RulesRead, s.rulesPage))
	mux.HandleFunc("POST /console/rules", s.console(auth.RulesWrite, s.createRules))
	mux.HandleFunc("POST /console/rules/validate", s.console(auth.RulesRead, s.validateRules))
	mux.HandleFunc("GET /console/rules/{version}", s.console(auth.RulesRead, s.ruleSetPage))
	mux.HandleFunc("POST /console/rules/{version}/dry-run", s.console(auth.RulesWrite, s.dryRunRules))
	mux.HandleFunc("POST /console/rules/{version}/activate", s.console(auth.RulesActivate, s.activateRules))
	mux.HandleFunc("GET /console/appeals", s.console(auth.AppealDecide, s.appealsQueue))
	mux.HandleFunc("POST /console/appeals/{id}/decision", s.console(auth.AppealDecide, s.decideAppeal))
}

var statusNav = []navEntry{
	{"nav.rules", "/console/rules", auth.RulesRead},
	{"nav.appeals", "/console/appeals", auth.AppealDecide},
}

var statusMore = []navItem{
	{"more.declare", "/me/declare"},
	{"more.appeals", "/me/appeals"},
}

// statusOf is a person's colour and, when it is not green, why and what to
// do. The colour comes from the node's cache, so a green person costs no
// database read.
// self says whether the reader is the person (see aboutOther).
func (s *Server) statusOf(r *http.Request, p *page, num int64, self bool) (*statusView, error) {
	if c, _ := s.Status.Color(num); c == rules.Green || !c.Valid() {
		return &statusView{Color: "green"}, nil
	}
	return s.fullStatus(r, p, num, self)
}

func (s *Server) fullStatus(r *http.Request, p *page, num int64, self bool) (*statusView, error) {
	st, err := s.Status.Status(r.Context(), num)
	if err != nil {
		return nil, err
	}
	v := &statusView{Color: st.Color.String(), Rule: st.RuleID, Reason: label(p.Lang, st.Reason), Advice: label(p.Lang, st.Advice),
		Updated: st.UpdatedAt, NextEval: st.NextEval}
	if !self {
		v.Reason, v.Advice = aboutOther(p.Lang, v.Reason), aboutOther(p.Lang, v.Advice)
	}
	return v, nil
}

var (
	otherZH = strings.NewReplacer("您的", "此人的", "您", "此人")
	youEN   = regexp.MustCompile(`\b(You|Your|you|your)\b`)
	otherEN = map[string]string{"You": "They", "Your": "Their", "you": "them", "your": "their"}
)

// aboutOther turns a text written to the person ("您…", "You…"), as rule
// sets write their reasons for the person's own code page, into one about
// them, for a reader who is someone else: a family member managing a
// dependent, an operator in the console. The rewrite is of the pronouns
// only; the name of whom it is about stands beside it on every such page.
func aboutOther(l Lang, text string) string {
	if l == EN {
		return youEN.ReplaceAllStringFunc(text, func(w string) string { return otherEN[w] })
	}
	return otherZH.Replace(text)
}

// factView is one line of a person's timeline.
type factView struct {
	ID         string
	Kind       string
	Label      string
	At, Until  time.Time
	Attrs      []attrView
	Source     string
	RecordedAt time.Time
	RecordedBy string
}

type attrView struct{ Name, Value string }

// attrsOf shows a fact's attributes with the registry's labels.
func attrsOf(p *page, kind string, attrs map[string]any) []attrView {
	info, _ := fact.Lookup(kind)
	var out []attrView
	for _, a := range info.Attrs {
		v, ok := attrs[a.Name]
		if !ok {
			continue
		}
		out = append(out, attrView{label(p.Lang, a.Label), attrValue(p, a.Name, v)})
	}
	return out
}

func attrValue(p *page, name string, v any) string {
	l := p.Lang
	switch x := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return p.Time(t)
		}
		return enumLabel(l, name, x)
	case bool:
		if x {
			return l.T("yes")
		}
		return l.T("no")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = attrValue(p, name, e)
		}
		return strings.Join(parts, "、")
	}
	return ""
}

func (s *Server) factViews(r *http.Request, p *page, num int64, limit int) ([]factView, error) {
	facts, err := s.Status.Facts(r.Context(), num, limit)
	if err != nil {
		return nil, err
	}
	out := make([]factView, 0, len(facts))
	for _, f := range facts {
		info, _ := fact.Lookup(f.Kind)
		out = append(out, factView{ID: f.ID, Kind: f.Kind, Label: label(p.Lang, info.Label), At: f.At, Until: f.Until,
			Attrs: attrsOf(p, f.Kind, f.Attrs), Source: f.Source, RecordedAt: f.RecordedAt, RecordedBy: f.RecordedBy})
	}
	return out, nil
}

// The daily declaration (打卡).

type declareData struct {
	Name     string
	For      string
	People   []personTab
	Symptoms []option
	Status   *statusView
	Declared bool
	Temp     string
	Exposure string
	Checked  map[string]bool
}

func (s *Server) newDeclare(r *http.Request, p *page) (declareData, int64, error) {
	pr, err := s.testPerson(r, p)
	if err != nil {
		return declareData{}, 0, err
	}
	d := declareData{Name: pr.MaskedName, For: r.URL.Query().Get("for"), Checked: map[string]bool{}}
	for _, sy := range fact.Symptoms {
		d.Symptoms = append(d.Symptoms, option{sy.Code, label(p.Lang, sy.Label)})
	}
	d.People, err = s.peopleTabs(r, p, "/me/declare", d.For)
	return d, pr.Num, err
}

func (s *Server) declarePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, num, err := s.newDeclare(r, p)
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/declare")
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status, err = s.fullStatus(r, p, num, d.For == ""); err != nil {
		return err
	}
	return s.showDeclare(w, r, p, http.StatusOK, d)
}

func (s *Server) showDeclare(w http.ResponseWriter, r *http.Request, p *page, st int, d declareData) error {
	p.Title, p.Data = p.T("declare.title"), d
	s.render(w, r, st, "declare", p)
	return nil
}

func (s *Server) declare(w http.ResponseWriter, r *http.Request, p *page) error {
	d, _, err := s.newDeclare(r, p)
	if err != nil {
		return err
	}
	d.Temp, d.Exposure = strings.TrimSpace(r.PostFormValue("temperature")), r.PostFormValue("exposure")
	attrs := map[string]any{}
	if d.Temp != "" {
		t, err := strconv.ParseFloat(strings.Replace(d.Temp, ",", ".", 1), 64)
		if err != nil {
			return s.formErr(w, r, p, fact.RefuseAttr(fact.Declaration, "temperature", fact.ErrAttrType.Withf("temperature must be a number")), func(st int) error { return s.showDeclare(w, r, p, st, d) })
		}
		attrs["temperature"] = t
	}
	symptoms := []any{}
	for _, v := range r.PostForm["symptoms"] {
		symptoms = append(symptoms, v)
		d.Checked[v] = true
	}
	attrs["symptoms"] = symptoms
	attrs["exposure"] = d.Exposure == "true"
	who, _, err := s.Status.Declare(r.Context(), p.Resident, d.For, attrs)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDeclare(w, r, p, st, d) })
	}
	if d.Status, err = s.fullStatus(r, p, who.Num, d.For == ""); err != nil {
		return err
	}
	d.Declared = true
	p.Flash = p.T("declare.done")
	return s.showDeclare(w, r, p, http.StatusCreated, d)
}

// Appeals (申诉).

type appealsData struct {
	People   []appealPerson
	Appeals  []appealView
	Person   string
	Reason   string
	Evidence map[string]bool
	// Credentials is the text of outside evidence, one credential a line.
	Credentials string
}

type appealPerson struct {
	ID, Name string
	Status   *statusView
	Tests    []factView // negative test results that may back an appeal
}

type appealView struct {
	*status.Appeal
	Name string
}

func (s *Server) appealsData(r *http.Request, p *page) (appealsData, error) {
	d := appealsData{Evidence: map[string]bool{}}
	self, err := s.Persons.Profile(r.Context(), p.Resident.ID)
	if err != nil {
		return d, err
	}
	deps, err := s.Persons.Dependents(r.Context(), p.Resident.ID)
	if err != nil {
		return d, err
	}
	names := map[string]string{self.ID: self.MaskedName}
	add := func(id, name string, num int64) error {
		ap := appealPerson{ID: id, Name: name}
		var err error
		if ap.Status, err = s.fullStatus(r, p, num, id == self.ID); err != nil {
			return err
		}
		fs, err := s.factViews(r, p, num, 200)
		if err != nil {
			return err
		}
		raw, err := s.Status.Facts(r.Context(), num, 200)
		if err != nil {
			return err
		}
		for i, f := range raw {
			if f.Kind == fact.NATResult && f.Attrs["result"] == fact.ResultNegative {
				ap.Tests = append(ap.Tests, fs[i])
			}
		}
		d.People = append(d.People, ap)
		return nil
	}
	if err := add(self.ID, self.MaskedName, self.Num); err != nil {
		return d, err
	}
	for _, dp := range deps {
		names[dp.ID] = dp.Masked().Name
		if err := add(dp.ID, dp.Masked().Name, dp.Num); err != nil {
			return d, err
		}
	}
	as, err := s.Status.Appeals(r.Context(), p.Resident)
	if err != nil {
		return d, err
	}
	for _, a := range as {
		d.Appeals = append(d.Appeals, appealView{a, names[a.PersonID]})
	}
	d.Person = self.ID
	for _, ap := range d.People {
		if ap.Status.Color != "green" {
			d.Person = ap.ID
			break
		}
	}
	return d, nil
}

func (s *Server) myAppealsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.appealsData(r, p)
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/appeals")
		return nil
	}
	if err != nil {
		return err
	}
	return s.showAppeals(w, r, p, http.StatusOK, d)
}

func (s *Server) showAppeals(w http.ResponseWriter, r *http.Request, p *page, st int, d appealsData) error {
	p.Title, p.Data = p.T("appeals.title"), d
	s.render(w, r, st, "appeals", p)
	return nil
}

func (s *Server) fileAppeal(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.appealsData(r, p)
	if err != nil {
		return err
	}
	d.Person, d.Reason = r.PostFormValue("person"), r.PostFormValue("reason")
	for _, id := range r.PostForm["evidence"] {
		d.Evidence[id] = true
	}
	d.Credentials = r.PostFormValue("credentials")
	var creds []string
	for _, l := range strings.Split(d.Credentials, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			creds = append(creds, l)
		}
	}
	a, err := s.Status.FileAppeal(r.Context(), p.Resident, d.Person, status.AppealInput{Reason: d.Reason, Evidence: r.PostForm["evidence"],
		Credentials: creds})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showAppeals(w, r, p, st, d) })
	}
	key := "flash.appeal_filed"
	if a.State == status.AppealGranted {
		key = "flash.appeal_granted"
	}
	s.flash(w, r, key, "")
	redirect(w, r, "/me/appeals")
	return nil
}

// The console's person page: the colour, the deciding rule, and the facts.

func (s *Server) personStatus(r *http.Request, p *page, num int64, d *personData) error {
	var err error
	if d.Status, err = s.fullStatus(r, p, num, false); err != nil {
		return err
	}
	d.Facts, err = s.factViews(r, p, num, 200)
	return err
}

// Rule sets.

type rulesData struct {
	Overview status.Overview
	Others   []status.Version // the versions to compare with
	Against  int64            // the version compared with (?diff=), 0 for none
	Diff     []diffLine       // from Against to this version, with context
	Rules    []ruleView
	Body     string
	Problems []rules.Problem
	Valid    bool
	Version  *status.Version
	DryRun   *dryRunView
	Chart    string
}

type ruleView struct {
	rules.Rule
	Reason, Advice string
	Color          string
}

type dryRunView struct {
	*status.DryRun
	Changed int64
}

func (s *Server) ruleViews(p *page, set rules.Set) []ruleView {
	out := make([]ruleView, 0, len(set.Rules))
	for _, r := range set.Rules {
		out = append(out, ruleView{Rule: r, Reason: label(p.Lang, r.Reason), Advice: label(p.Lang, r.Advice), Color: r.Color.String()})
	}
	return out
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	o, err := s.Status.Rules(r.Context(), p.Op)
	if err != nil {
		return err
	}
	d := rulesData{Overview: o, Rules: s.ruleViews(p, o.ActiveSet)}
	p.Title, p.NavOn, p.Data = p.T("nav.rules"), "/console/rules", d
	s.render(w, r, http.StatusOK, "console_rules", p)
	return nil
}

func (s *Server) ruleSetPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showRuleSet(w, r, p, http.StatusOK, nil, "", nil)
}

// showRuleSet is one version: its rules, its text to edit into a new
// version, and a dry run's outcome when there is one.
func (s *Server) showRuleSet(w http.ResponseWriter, r *http.Request, p *page, st int, dr *status.DryRun, body string, problems []rules.Problem) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	ver, set, err := s.Status.RuleSet(r.Context(), p.Op, v)
	if err != nil {
		return err
	}
	d := rulesData{Version: &ver, Rules: s.ruleViews(p, set), Body: body, Problems: problems}
	if d.Body == "" {
		d.Body = prettyJSON(set)
	}
	if dr != nil {
		d.DryRun = &dryRunView{DryRun: dr}
		var rows []hbar
		for _, t := range dr.Transitions {
			d.DryRun.Changed += t.Count
			rows = append(rows, hbar{Label: p.T("color."+t.From.String()) + " → " + p.T("color."+t.To.String()), Values: []float64{float64(t.Count)},
				Note: num(float64(t.Count))})
		}
		if len(rows) > 0 {
			d.Chart = hbarChart(p.T("rules.transitions"), []series{{p.T("rules.persons"), chartBlue}}, rows)
		}
	}
	if err := s.ruleDiff(r, p, &d, set); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("rules.version_n", ver.Version), "/console/rules", d
	s.render(w, r, st, "console_ruleset", p)
	return nil
}

func (s *Server) dryRunRules(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	dr, err := s.Status.DryRunRules(r.Context(), p.Op, v)
	if err != nil {
		return err
	}
	return s.showRuleSet(w, r, p, http.StatusOK, dr, "", nil)
}

func (s *Server) activateRules(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	if _, err := s.Status.Activate(r.Context(), p.Op, v); err != nil {
		return err
	}
	s.flash(w, r, "flash.rules_activated", strconv.FormatInt(v, 10))
	redirect(w, r, "/console/rules")
	return nil
}

// validateRules checks a rule set's text without storing it: it parses,
// compiles, type-checks and passes its own examples, or every problem is
// listed.
func (s *Server) validateRules(w http.ResponseWriter, r *http.Request, p *page) error {
	body := r.PostFormValue("body")
	problems, err := s.checkRules(body)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = p.T("rules.validate"), "/console/rules"
	p.Data = rulesData{Body: body, Problems: problems, Valid: len(problems) == 0}
	st := http.StatusOK
	if len(problems) > 0 {
		st = http.StatusBadRequest
	}
	s.render(w, r, st, "console_rules_edit", p)
	return nil
}

func (s *Server) checkRules(body string) ([]rules.Problem, error) {
	set, err := rules.ParseSet([]byte(body))
	if e, ok := apierr.As(err); ok {
		return []rules.Problem{{Code: e.Code, Message: e.Message}}, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = rules.Compile(set, rules.Options{Location: s.Config.Location})
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		return inv.Problems, nil
	}
	return nil, err
}

func (s *Server) createRules(w http.ResponseWriter, r *http.Request, p *page) error {
	body := r.PostFormValue("body")
	problems, err := s.checkRules(body)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		p.Title, p.NavOn = p.T("rules.validate"), "/console/rules"
		p.Data = rulesData{Body: body, Problems: problems}
		p.SetError(rules.ErrInvalid)
		s.render(w, r, http.StatusBadRequest, "console_rules_edit", p)
		return nil
	}
	v, err := s.Status.CreateRuleSet(r.Context(), p.Op, []byte(body))
	if err != nil {
		return err
	}
	s.flash(w, r, "flash.rules_created", strconv.FormatInt(v.Version, 10))
	redirect(w, r, "/console/rules/"+strconv.FormatInt(v.Version, 10))
	return nil
}

// Appeals queue.

type queueData struct {
	State   string
	States  []string
	Appeals []queueItem
}

type queueItem struct {
	*status.Appeal
	Person   personRow
	Status   *statusView
	Evidence []factView
	// Credentials are the outside evidence attached, as verified.
	Credentials []credentialView
	// Review is the card of a pending appeal: what a grant would and would
	// not clear.
	Review *reviewView
}

type reviewView struct {
	Named   matchView
	Current matchView
	Changed bool // the decision is not the one appealed against
	Since   []factView
	After   matchView
	Clears  []matchView
	Keeps   []matchView
}

// matchView is a decision or a matching rule: colour, rule and reason.
type matchView struct {
	Color  string
	Rule   string
	Reason string
	Later  bool // a rule set off by facts recorded since the appeal
}

func (s *Server) reviewOf(r *http.Request, p *page, id string) (*reviewView, error) {
	rv, err := s.Status.Review(r.Context(), p.Op, id)
	if err != nil {
		return nil, err
	}
	m := func(c rules.Color, rule string, reason rules.Text) matchView {
		return matchView{Color: c.String(), Rule: rule, Reason: aboutOther(p.Lang, label(p.Lang, reason))}
	}
	v := &reviewView{Named: m(rv.Named.Color, rv.Named.RuleID, rv.Named.Reason),
		Current: m(rv.Current.Color, rv.Current.RuleID, rv.Current.Reason),
		After:   m(rv.After.Color, rv.After.RuleID, rv.After.Reason)}
	v.Changed = rv.Changed()
	for _, c := range rv.Clears {
		v.Clears = append(v.Clears, m(c.Color, c.RuleID, c.Reason))
	}
	for _, k := range rv.Keeps {
		mv := m(k.Color, k.RuleID, k.Reason)
		mv.Later = k.Later
		v.Keeps = append(v.Keeps, mv)
	}
	for _, f := range rv.Since {
		info, _ := fact.Lookup(f.Kind)
		v.Since = append(v.Since, factView{ID: f.ID, Kind: f.Kind, Label: label(p.Lang, info.Label), At: f.At, Until: f.Until,
			Attrs: attrsOf(p, f.Kind, f.Attrs), Source: f.Source, RecordedAt: f.RecordedAt, RecordedBy: f.RecordedBy})
	}
	return v, nil
}

func (s *Server) appealsQueue(w http.ResponseWriter, r *http.Request, p *page) error {
	d := queueData{State: r.URL.Query().Get("state"), States: []string{status.AppealPending, status.AppealGranted, status.AppealRejected}}
	if d.State == "" {
		d.State = status.AppealPending
	}
	as, err := s.Status.AppealQueue(r.Context(), p.Op, d.State, 100)
	if err != nil {
		return err
	}
	for _, a := range as {
		x, err := s.Persons.Lookup(r.Context(), p.Op, a.PersonID)
		if err != nil {
			return err
		}
		it := queueItem{Appeal: a, Person: s.personRow(p.Op, x)}
		if it.Status, err = s.fullStatus(r, p, x.Num, false); err != nil {
			return err
		}
		if a.State == status.AppealPending {
			if it.Review, err = s.reviewOf(r, p, a.ID); err != nil {
				return err
			}
		}
		if len(a.Evidence) > 0 {
			fs, err := s.factViews(r, p, x.Num, 500)
			if err != nil {
				return err
			}
			for _, f := range fs {
				if slices.Contains(a.Evidence, f.ID) {
					it.Evidence = append(it.Evidence, f)
				}
			}
		}
		for _, c := range a.Credentials {
			it.Credentials = append(it.Credentials, credentialViewOf(p, c))
		}
		d.Appeals = append(d.Appeals, it)
		if err := s.nameActors(r, p, a.DecidedBy); err != nil {
			return err
		}
	}
	p.Title, p.NavOn, p.Data = p.T("nav.appeals"), "/console/appeals", d
	s.render(w, r, http.StatusOK, "console_appeals", p)
	return nil
}

func (s *Server) decideAppeal(w http.ResponseWriter, r *http.Request, p *page) error {
	dec := status.Decision{Decision: r.PostFormValue("decision"), Note: r.PostFormValue("note")}
	if v := r.PostFormValue("until"); v != "" && dec.Decision == status.AppealGranted {
		t, err := s.parseLocal("until", v, false)
		if err != nil {
			return err
		}
		dec.Until = t
	}
	a, err := s.Status.Decide(r.Context(), p.Op, r.PathValue("id"), dec)
	if err != nil {
		return err
	}
	key := "flash.appeal_rejected"
	if a.State == status.AppealGranted {
		key = "flash.appeal_granted"
	}
	s.flash(w, r, key, "")
	redirect(w, r, "/console/appeals")
	return nil
}

// colourPanel is the colour count per town.
func (s *Server) colourPanel(r *http.Request, p *page, d *dashboardData) error {
	towns, err := s.Status.Stats(r.Context(), p.Op)
	if err != nil {
		return err
	}
	var rows []hbar
	var g, y, rd int64
	tbl := &numTable{Head: []string{p.T("cov.town"), p.T("color.green"), p.T("color.yellow"), p.T("color.red")}}
	for _, t := range towns {
		name := s.regionName(t.Region)
		rows = append(rows, hbar{Label: name, Values: []float64{float64(t.Green), float64(t.Yellow), float64(t.Red)}})
		tbl.Rows = append(tbl.Rows, []string{name, num(float64(t.Green)), num(float64(t.Yellow)), num(float64(t.Red))})
		g, y, rd = g+t.Green, y+t.Yellow, rd+t.Red
	}
	d.Tiles = append(d.Tiles, tile{Label: p.T("color.green"), Value: num(float64(g)), Class: "green"},
		tile{Label: p.T("color.yellow"), Value: num(float64(y)), Class: "yellow"},
		tile{Label: p.T("color.red"), Value: num(float64(rd)), Class: "red"})
	if len(rows) > 0 {
		d.Panels = append(d.Panels, panel{Title: p.T("dash.colours"), Table: tbl,
			Chart: hbarChart(p.T("dash.colours"), []series{{p.T("color.green"), chartGreen}, {p.T("color.yellow"), chartYellow}, {p.T("color.red"), chartRed}}, rows)})
	}
	return nil
}

// prettyJSON is a rule set as an operator edits it.
func prettyJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // conditions hold && and >, and read as written
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return b.String()
}

// ruleDiff compares this version with another (?diff=N; by default the
// active one, or the one before when this is active), as a line diff of
// their texts: what a reviewer reads before activating.
func (s *Server) ruleDiff(r *http.Request, p *page, d *rulesData, set rules.Set) error {
	ov, err := s.Status.Rules(r.Context(), p.Op)
	if err != nil {
		return err
	}
	for _, v := range ov.Versions {
		if v.Version != d.Version.Version {
			d.Others = append(d.Others, v)
		}
	}
	against := ov.Active.Version
	if against == d.Version.Version {
		against = 0
		for _, v := range d.Others {
			if v.Version < d.Version.Version && v.Version > against {
				against = v.Version
			}
		}
	}
	if q := r.URL.Query().Get("diff"); q != "" {
		if against, err = status.ParseVersion(q); err != nil {
			return err
		}
	}
	if against == 0 || against == d.Version.Version {
		return nil
	}
	_, other, err := s.Status.RuleSet(r.Context(), p.Op, against)
	if err != nil {
		return err
	}
	d.Against = against
	d.Diff = diffContext(diffLines(prettyJSON(other), prettyJSON(set)), 3)
	if d.Diff == nil {
		d.Diff = []diffLine{}
	}
	return nil
}

// credentialView is a credential attached to an appeal, for its reviewer.
type credentialView struct {
	status.Credential
	KindText, ResultText string
	Why                  string // the reasons it did not verify, in the reader's words
}

var credentialKinds = []string{"dynamic", "care", "certificate", "vaccination", "test", "recovery"}

func credentialViewOf(p *page, c status.Credential) credentialView {
	var why []string
	text := entry.ReasonText // the same reason (unknown_key) reads differently for a foreign credential
	if c.Format == status.CredentialHealthCode {
		text = codes.ReasonText
	}
	for _, x := range c.Reasons {
		if t, ok := text(x); ok {
			why = append(why, label(p.Lang, t))
		} else {
			why = append(why, x)
		}
	}
	v := credentialView{Credential: c, KindText: c.Kind, ResultText: c.Result, Why: strings.Join(why, "；")}
	if slices.Contains(credentialKinds, c.Kind) {
		v.KindText = p.T("appeals.cred_kind." + c.Kind)
	}
	if c.Result == "negative" || c.Result == "positive" {
		v.ResultText = p.T("result." + c.Result)
	}
	return v
}
