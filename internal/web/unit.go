package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/pharmacy"
)

// Unit pages: an organisation's staff sign in with a unit account and
// scan codes (a scanner gun types the code and Enter, or the camera reads
// it), register what their kind of organisation registers (a pharmacy: a
// purchase of a watched drug), and see their own day. They call the same
// gateway services as the organisation's API keys, as the unit account.
const (
	unitCookie = "hc_u"
	unitPath   = "/unit"
)

// unitFrame is what the unit pages' frame shows.
type unitFrame struct {
	Name     string // the account's username
	OrgName  string
	OrgKind  org.Kind
	Pharmacy bool
	Clinic   bool // registers fever-clinic visits
	Identity bool // receives patients' identities
	Queue    bool // gives queue numbers
	Ride     bool // checks drivers and passengers
	// ColdChain: a holder of cold-chain batches.
	ColdChain bool
	Slots     bool // a scenic spot or hall that opens booking slots
	Hall      bool // a service hall's queue machine
	Employer  bool // keeps a staff roster, admits staff at the gate
	School    bool // keeps classes and pupils, takes the daily checks
	Transport bool // a bus operator or taxi company with vehicles
	Admin     bool
	p         *auth.Principal
	org       *org.Org
}

func (s *Server) unitRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /unit/login", s.public(s.unitLoginPage))
	mux.HandleFunc("POST /unit/login", s.public(s.unitLogin))
	mux.HandleFunc("POST /unit/logout", s.unit(s.unitLogout))
	mux.HandleFunc("GET /unit", s.unit(s.unitHome))
	mux.HandleFunc("GET /unit/{$}", s.unit(s.unitHome))
	mux.HandleFunc("GET /unit/scan", s.unit(s.unitScanPage))
	mux.HandleFunc("POST /unit/scan", s.unit(s.unitScan))
	mux.HandleFunc("POST /unit/purchases", s.unit(s.unitPurchase))
	mux.HandleFunc("GET /unit/purchases", s.unit(s.unitPurchases))
	mux.HandleFunc("GET /unit/purchases.csv", s.unit(s.unitPurchasesCSV))
	s.unitScenarioRoutes(mux)
	s.dailyRoutes(mux)
	s.transportRoutes(mux)
	mux.HandleFunc("GET /unit/keys", s.unit(s.unitKeysPage))
	mux.HandleFunc("POST /unit/keys", s.unit(s.unitCreateKey))
	mux.HandleFunc("POST /unit/keys/{key}/rotate", s.unit(s.unitRotateKey))
	mux.HandleFunc("POST /unit/keys/{key}/revoke", s.unit(s.unitRevokeKey))
}

// unit is a page for a signed-in unit account; others are sent to sign in.
func (s *Server) unit(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		p.Body = "unit"
		tok := cookie(r, unitCookie)
		var pr *auth.Principal
		if tok != "" {
			if x, err := s.Auth.Authenticate(r.Context(), tok); err == nil && x.Kind == auth.Unit {
				pr = x
			} else {
				s.clearCookie(w, r, unitCookie, unitPath)
			}
		}
		if pr == nil {
			if r.Method == http.MethodGet {
				redirect(w, r, unitPath+"/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			s.fail(w, r, p, ErrLoginRequired)
			return
		}
		p.CSRF = s.csrfToken(tok)
		if r.Method == http.MethodPost {
			if err := s.checkPost(r, tok); err != nil {
				s.fail(w, r, p, err)
				return
			}
		}
		o, err := s.Orgs.Get(r.Context(), pr, pr.Org)
		if err != nil {
			s.fail(w, r, p, err)
			return
		}
		p.Unit = &unitFrame{Name: pr.Name, OrgName: o.Name, OrgKind: o.Kind, Pharmacy: o.Kind == org.Pharmacy,
			Clinic: o.Kind.Allows(org.ScopeClinicFever), Identity: o.Kind.Allows(org.ScopeHospitalIdentity),
			Queue: o.Kind.Allows(org.ScopeHospitalQueue), Ride: o.Kind.Allows(org.ScopeRideCheck),
			ColdChain: o.Kind.Allows(org.ScopeColdChainMove),
			Slots:     o.Kind.Allows(org.ScopeSlots), Hall: o.Kind.Allows(org.ScopeHallQueue),
			Employer: o.Kind.Allows(org.ScopeEmployerStaff), School: o.Kind.Allows(org.ScopeSchoolCheck),
			Transport: o.Kind.Allows(org.ScopeTransport),
			Admin:     pr.Role == auth.UnitAdmin, p: pr, org: o}
		s.takeFlash(w, r, p)
		if err := h(w, r, p); err != nil {
			s.fail(w, r, p, err)
		}
	}
}

type unitLoginData struct {
	Username, Next string
}

func (s *Server) unitLoginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	next := localPath(r.URL.Query().Get("next"), unitPath)
	if tok := cookie(r, unitCookie); tok != "" && strings.HasPrefix(next, unitPath) {
		if pr, err := s.Auth.Authenticate(r.Context(), tok); err == nil && pr.Kind == auth.Unit {
			redirect(w, r, next)
			return nil
		}
	}
	return s.showUnitLogin(w, r, p, http.StatusOK, unitLoginData{Next: next})
}

func (s *Server) showUnitLogin(w http.ResponseWriter, r *http.Request, p *page, status int, d unitLoginData) error {
	p.Title, p.Body, p.Data = p.T("unit.login"), "unit", d
	p.Demo = s.demoMode(r.Context())
	s.render(w, r, status, "unit_login", p)
	return nil
}

func (s *Server) unitLogin(w http.ResponseWriter, r *http.Request, p *page) error {
	d := unitLoginData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: localPath(r.PostFormValue("next"), unitPath)}
	if !strings.HasPrefix(d.Next, unitPath) {
		d.Next = unitPath
	}
	token, _, err := s.Auth.UnitLogin(r.Context(), d.Username, r.PostFormValue("password"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitLogin(w, r, p, st, d) })
	}
	s.setCookie(w, r, unitCookie, token, unitPath, 0)
	redirect(w, r, d.Next)
	return nil
}

func (s *Server) unitLogout(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.Auth.Logout(r.Context(), cookie(r, unitCookie)); err != nil {
		return err
	}
	s.clearCookie(w, r, unitCookie, unitPath)
	s.flash(w, r, "flash.logged_out", "")
	redirect(w, r, unitPath+"/login")
	return nil
}

// unitHome is the organisation's start page: its day at a glance.
type unitHomeData struct {
	KindLabel string
	Region    string
	Day       *dayView
	Visits    *clinic.List
	Queue     *hospital.Day
}

func (s *Server) unitHome(w http.ResponseWriter, r *http.Request, p *page) error {
	u := p.Unit
	d := unitHomeData{KindLabel: kindLabel(p.Lang, u.OrgKind), Region: s.Regions.FullName(u.org.Region)}
	if u.Pharmacy {
		day, _ := s.Pharmacy.ParseDay("")
		rep, err := s.Pharmacy.Report(r.Context(), u.p, "", day)
		if err != nil {
			return err
		}
		if d.Day, err = s.dayView(r, p, rep); err != nil {
			return err
		}
	}
	if u.Clinic {
		day, _ := s.Clinic.ParseDay("")
		var err error
		if d.Visits, err = s.Clinic.Visits(r.Context(), u.p, "", day); err != nil {
			return err
		}
	}
	if u.Queue {
		day, _ := s.Hospital.ParseDay("")
		var err error
		if d.Queue, err = s.Hospital.Tickets(r.Context(), u.p, "", day); err != nil {
			return err
		}
	}
	p.Title, p.NavOn, p.Data = u.OrgName, "/unit", d
	s.render(w, r, http.StatusOK, "unit_home", p)
	return nil
}

func kindLabel(l Lang, k org.Kind) string {
	for _, x := range org.Kinds {
		if x.Kind == k {
			return label(l, x.Label)
		}
	}
	return string(k)
}

// scanView is the outcome of a scan as the page shows it.
type scanView struct {
	State   string // green, yellow, red or invalid
	Word    string
	Name    string
	Detail  string
	Subject string // for the form that follows a valid scan
	Expires time.Time
	Used    []string // uses of the scan spent already: identity, queue
}

// Done reports whether a use of the scan is spent, so its form is not
// offered again.
func (v *scanView) Done(use string) bool {
	for _, u := range v.Used {
		if u == use {
			return true
		}
	}
	return false
}

type classOption struct {
	Code, Name string
}

type unitScanData struct {
	Types    []idnum.Type
	Strings  map[string]string
	Result   *scanView
	Classes  []classOption
	IDType   string
	IDNumber string
	// After a scan at a clinic or a hospital: the visit form, the
	// identity hand-off and the queue; and what they answered.
	Symptoms    []classOption
	Departments []string
	Visit       visitForm
	Identity    *identityView
	Ticket      *ticketView
}

func (s *Server) unitScanPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitScan(w, r, p, http.StatusOK, unitScanData{})
}

func (s *Server) showUnitScan(w http.ResponseWriter, r *http.Request, p *page, status int, d unitScanData) error {
	d.Types = idnum.Types()
	d.Strings = p.Lang.subset("js.")
	if d.IDType == "" {
		d.IDType = string(idnum.ResidentID)
	}
	if d.Result != nil && d.Result.Subject != "" && p.Unit.Clinic {
		d.Symptoms = symptomOptions(p.Lang)
	}
	if d.Result != nil && d.Result.Subject != "" && p.Unit.Queue {
		d.Departments = departments
	}
	if d.Result != nil && d.Result.Subject != "" && p.Unit.Pharmacy {
		cs, err := s.Pharmacy.Classes(r.Context(), false)
		if err != nil {
			return err
		}
		for _, c := range cs {
			d.Classes = append(d.Classes, classOption{c.Code, label(p.Lang, c.Name)})
		}
	}
	p.Title, p.NavOn, p.Data = p.T("unit.scan"), "/unit/scan", d
	s.render(w, r, status, "unit_scan", p)
	return nil
}

// reasonsText joins the scan's reasons in the reader's words.
func reasonsText(p *page, reasons []string) string {
	var out []string
	for _, x := range reasons {
		if t, ok := codes.ReasonText(x); ok {
			out = append(out, label(p.Lang, t))
		} else {
			out = append(out, x)
		}
	}
	return strings.Join(out, "；")
}

// invalidCode is a scan refused because the code is not valid: shown as
// the result, not as a form error.
var invalidCode = []error{gateway.ErrCodeUnreadable, gateway.ErrCodeForged, gateway.ErrCodeExpired, gateway.ErrCodeRevoked, gateway.ErrCodeInvalid}

func (s *Server) unitScan(w http.ResponseWriter, r *http.Request, p *page) error {
	in := gateway.ScanInput{Code: codes.TrimScanned(r.PostFormValue("code"))}
	d := unitScanData{}
	if in.Code == "" {
		in.IDType, in.IDNumber = r.PostFormValue("id_type"), strings.TrimSpace(r.PostFormValue("id_number"))
		d.IDType, d.IDNumber = in.IDType, in.IDNumber
	}
	sc, err := s.Gateway.Scan(r.Context(), p.Unit.p, in)
	if err != nil {
		for _, e := range invalidCode {
			if errors.Is(err, e) {
				p.SetError(err)
				d.Result = &scanView{State: "invalid", Word: p.T("js.invalid"), Detail: p.Err}
				p.Err = ""
				return s.showUnitScan(w, r, p, errStatus(err), d)
			}
		}
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitScan(w, r, p, st, d) })
	}
	v := &scanView{State: sc.Color.String(), Word: p.T("color." + sc.Color.String()), Name: sc.MaskedName,
		Subject: sc.Subject, Expires: sc.ExpiresAt}
	if len(sc.Reasons) > 0 {
		v.Detail = reasonsText(p, sc.Reasons)
	} else if sc.Kind == codes.KindID {
		v.Detail = p.T("js.by_id")
	} else if sc.Kind == "care" {
		v.Detail = p.T("js.care")
	}
	return s.showUnitScan(w, r, p, http.StatusOK, unitScanData{Result: v, IDType: d.IDType})
}

func (s *Server) unitPurchase(w http.ResponseWriter, r *http.Request, p *page) error {
	in := pharmacy.PurchaseInput{Subject: r.PostFormValue("subject"), DrugClass: r.PostFormValue("drug_class")}
	names, qtys := r.PostForm["item_name"], r.PostForm["item_quantity"]
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			continue
		}
		it := pharmacy.Item{Name: n, Quantity: 1}
		if i < len(qtys) && strings.TrimSpace(qtys[i]) != "" {
			q, err := strconv.ParseInt(strings.TrimSpace(qtys[i]), 10, 64)
			if err != nil {
				return s.formErr(w, r, p, pharmacy.ErrItemsInvalid, func(st int) error { return s.showUnitScan(w, r, p, st, unitScanData{}) })
			}
			it.Quantity = q
		}
		in.Items = append(in.Items, it)
	}
	pu, err := s.Pharmacy.Register(r.Context(), p.Unit.p, in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitScan(w, r, p, st, unitScanData{}) })
	}
	class := pu.DrugClass
	if names, err := s.Pharmacy.ClassNames(r.Context()); err == nil {
		if c, ok := names[pu.DrugClass]; ok {
			class = label(p.Lang, c.Name)
		}
	}
	s.flash(w, r, "flash.purchase_registered", pu.MaskedName+" · "+class+" · "+p.T("color."+pu.Color.String()))
	redirect(w, r, "/unit/scan")
	return nil
}

// dayView is a pharmacy's day as the pages show it.
type dayView struct {
	Date      string
	Prev      string
	Next      string
	Total     int64
	Buyers    int64
	Counts    []classCountView
	Purchases []purchaseRow
}

type classCountView struct {
	Name  string
	Count int64
}

type purchaseRow struct {
	*pharmacy.Purchase
	ClassName string
	Drugs     string
}

func (s *Server) dayView(r *http.Request, p *page, rep *pharmacy.DayReport) (*dayView, error) {
	names, err := s.Pharmacy.ClassNames(r.Context())
	if err != nil {
		return nil, err
	}
	name := func(code string) string {
		if c, ok := names[code]; ok {
			return label(p.Lang, c.Name)
		}
		return code
	}
	v := &dayView{Date: rep.Day.Format(time.DateOnly), Prev: rep.Day.AddDate(0, 0, -1).Format(time.DateOnly),
		Total: rep.Total, Buyers: rep.Buyers}
	if next := rep.Day.AddDate(0, 0, 1); !next.After(s.now()) {
		v.Next = next.Format(time.DateOnly)
	}
	for _, c := range rep.Counts {
		v.Counts = append(v.Counts, classCountView{name(c.Class), c.Count})
	}
	for _, pu := range rep.Purchases {
		var drugs []string
		for _, it := range pu.Items {
			drugs = append(drugs, it.Name+" ×"+strconv.FormatInt(it.Quantity, 10))
		}
		v.Purchases = append(v.Purchases, purchaseRow{Purchase: pu, ClassName: name(pu.DrugClass), Drugs: strings.Join(drugs, "、")})
	}
	return v, nil
}

func (s *Server) unitPurchases(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	rep, err := s.Pharmacy.Report(r.Context(), p.Unit.p, "", day)
	if err != nil {
		return err
	}
	v, err := s.dayView(r, p, rep)
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("unit.purchases"), "/unit/purchases", v
	s.render(w, r, http.StatusOK, "unit_purchases", p)
	return nil
}

func (s *Server) unitPurchasesCSV(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	rep, err := s.Pharmacy.Report(r.Context(), p.Unit.p, "", day)
	if err != nil {
		return err
	}
	return s.writeDayCSV(w, r, p, rep)
}

func (s *Server) writeDayCSV(w http.ResponseWriter, r *http.Request, p *page, rep *pharmacy.DayReport) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="purchases-`+rep.Day.Format(time.DateOnly)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return s.Pharmacy.WriteCSV(r.Context(), w, rep, p.Lang.Code())
}

// keysData is the keys of an organisation, for its admin account here
// and for operators in the console.
type keysData struct {
	Keys    []*org.Key
	Scopes  []scopeOption
	Created *org.Key
	Secret  string // a new or rotated key's secret, shown once
	Form    org.KeyInput
}

type scopeOption struct {
	Scope, Label string
	Checked      bool
}

func scopeOptions(l Lang, k org.Kind, checked []string) []scopeOption {
	var out []scopeOption
	for _, sc := range org.ScopesFor(k) {
		on := false
		for _, c := range checked {
			on = on || c == sc.Scope
		}
		out = append(out, scopeOption{sc.Scope, label(l, sc.Label), on})
	}
	return out
}

func (s *Server) unitKeysPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitKeys(w, r, p, http.StatusOK, keysData{})
}

func (s *Server) showUnitKeys(w http.ResponseWriter, r *http.Request, p *page, status int, d keysData) error {
	u := p.Unit
	ks, err := s.Orgs.Keys(r.Context(), u.p, u.org.ID)
	if err != nil {
		return err
	}
	d.Keys = ks
	d.Scopes = scopeOptions(p.Lang, u.OrgKind, d.Form.Scopes)
	p.Title, p.NavOn, p.Data = p.T("unit.keys"), "/unit/keys", d
	s.render(w, r, status, "unit_keys", p)
	return nil
}

// keyForm reads the key form of the unit and console pages.
func keyForm(r *http.Request) (org.KeyInput, error) {
	in := org.KeyInput{Name: r.PostFormValue("name"), Scopes: r.PostForm["scopes"]}
	for _, f := range []struct {
		name string
		to   *int64
	}{{"daily_quota", &in.Limits.PerDay}, {"rate_per_minute", &in.Limits.PerMinute}} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return in, org.ErrLimitInvalid.Withf("%s must be a whole number", f.name)
		}
		*f.to = n
	}
	return in, nil
}

func (s *Server) unitCreateKey(w http.ResponseWriter, r *http.Request, p *page) error {
	in, err := keyForm(r)
	if err == nil {
		var k *org.Key
		var secret string
		if k, secret, err = s.Orgs.CreateKey(r.Context(), p.Unit.p, p.Unit.org.ID, in); err == nil {
			return s.showUnitKeys(w, r, p, http.StatusCreated, keysData{Created: k, Secret: secret})
		}
	}
	return s.formErr(w, r, p, err, func(st int) error { return s.showUnitKeys(w, r, p, st, keysData{Form: in}) })
}

func (s *Server) unitRotateKey(w http.ResponseWriter, r *http.Request, p *page) error {
	k, secret, err := s.Orgs.RotateKey(r.Context(), p.Unit.p, p.Unit.org.ID, r.PathValue("key"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitKeys(w, r, p, st, keysData{}) })
	}
	return s.showUnitKeys(w, r, p, http.StatusOK, keysData{Created: k, Secret: secret})
}

func (s *Server) unitRevokeKey(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Orgs.RevokeKey(r.Context(), p.Unit.p, p.Unit.org.ID, r.PathValue("key")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitKeys(w, r, p, st, keysData{}) })
	}
	s.flash(w, r, "flash.key_revoked", "")
	redirect(w, r, "/unit/keys")
	return nil
}
