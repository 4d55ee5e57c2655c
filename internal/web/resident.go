package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clientaddr"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
)

func (s *Server) residentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.public(s.home))
	mux.HandleFunc("GET /login", s.public(s.loginPage))
	mux.HandleFunc("POST /login/otp", s.public(s.sendOTP))
	mux.HandleFunc("POST /login", s.public(s.login))
	mux.HandleFunc("POST /logout", s.resident(s.logout))
	mux.HandleFunc("GET /register", s.resident(s.registerPage))
	mux.HandleFunc("POST /register", s.resident(s.register))
	mux.HandleFunc("GET /me/dependents", s.resident(s.dependentsPage))
	mux.HandleFunc("POST /me/dependents", s.resident(s.addDependent))
	mux.HandleFunc("POST /me/dependents/{id}/remove", s.resident(s.removeDependent))
	mux.HandleFunc("POST /me/manager-requests/{id}/approve", s.resident(s.decideManagerRequest(true)))
	mux.HandleFunc("POST /me/manager-requests/{id}/refuse", s.resident(s.decideManagerRequest(false)))
	mux.HandleFunc("GET /me/more", s.resident(s.morePage))
	s.codeRoutes(mux)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request, p *page) error {
	if p.Resident != nil {
		redirect(w, r, "/me")
		return nil
	}
	p.Title = p.T("app.name")
	s.render(w, r, http.StatusOK, "home", p)
	return nil
}

type loginData struct {
	Step   string // "phone" or "code"
	Phone  string
	Masked string
	Next   string
	// Delayed: the SMS gateway is slow or failing; the code may come late.
	Delayed bool
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	next := localPath(r.URL.Query().Get("next"), "/me")
	if p.Resident != nil {
		redirect(w, r, next)
		return nil
	}
	return s.showLogin(w, r, p, http.StatusOK, loginData{Step: "phone", Next: next})
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, p *page, status int, d loginData) error {
	p.Title = p.T("login.title")
	p.Demo = s.demoMode(r.Context())
	p.Data = d
	s.render(w, r, status, "login", p)
	return nil
}

func errStatus(err error) int {
	if e, ok := apierr.As(err); ok {
		return e.Status
	}
	return http.StatusInternalServerError
}

// formErr re-shows a form with a caller's error; anything else is the
// error page.
func (s *Server) formErr(w http.ResponseWriter, r *http.Request, p *page, err error, show func(status int) error) error {
	if _, ok := apierr.As(err); !ok {
		return err
	}
	p.SetError(err)
	return show(errStatus(err))
}

func (s *Server) sendOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	d := loginData{Step: "phone", Phone: strings.TrimSpace(r.PostFormValue("phone")), Next: localPath(r.PostFormValue("next"), "/me")}
	phone, err := idnum.NormalizePhone(d.Phone)
	sent := false
	if err == nil {
		err = s.Auth.SendOTPFrom(r.Context(), phone, p.Lang.Tag(), clientaddr.Of(r))
		sent = err == nil
		if errors.Is(err, auth.ErrOTPTooSoon) {
			// A code sent a moment ago is still good: the person goes on
			// entering it, told that no new one went out.
			err = nil
		}
	}
	if err == nil {
		d.Delayed, err = s.Outbox.Delayed(r.Context())
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showLogin(w, r, p, st, d) })
	}
	d.Step, d.Phone, d.Masked = "code", phone, idnum.MaskPhone(phone)
	if sent {
		p.Flash = p.T("login.sent", d.Masked)
	} else {
		p.Flash = p.T("login.wait")
	}
	return s.showLogin(w, r, p, http.StatusOK, d)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, p *page) error {
	d := loginData{Step: "code", Phone: r.PostFormValue("phone"), Next: localPath(r.PostFormValue("next"), "/me")}
	phone, err := idnum.NormalizePhone(d.Phone)
	if err != nil {
		d.Step = "phone"
		return s.formErr(w, r, p, err, func(st int) error { return s.showLogin(w, r, p, st, d) })
	}
	d.Phone, d.Masked = phone, idnum.MaskPhone(phone)
	login, err := s.Auth.Login(r.Context(), phone, strings.TrimSpace(r.PostFormValue("otp")))
	if err != nil {
		if errors.Is(err, auth.ErrOTPInvalid) || errors.Is(err, auth.ErrOTPExpired) || errors.Is(err, auth.ErrOTPAttempts) {
			d.Step = "phone"
		}
		return s.formErr(w, r, p, err, func(st int) error { return s.showLogin(w, r, p, st, d) })
	}
	s.setCookie(w, r, residentCookie, login.Token, "/", sessionCookieAge(login.ExpiresAt, s.now()))
	if _, err := s.Persons.Profile(r.Context(), login.AccountID); errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next="+url.QueryEscape(d.Next))
		return nil
	}
	redirect(w, r, d.Next)
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.Auth.Logout(r.Context(), cookie(r, residentCookie)); err != nil {
		return err
	}
	s.clearCookie(w, r, residentCookie, "/")
	s.flash(w, r, "flash.logged_out", "")
	redirect(w, r, "/login")
	return nil
}

// personForm is the form that registers a person (oneself or a dependent).
type personForm struct {
	Name, IDType, IDNumber, Region, Relation string
	Types                                    []idnum.Type
	Regions                                  []region.Region
	Relations                                []string
	Next                                     string
}

func (s *Server) newPersonForm(r *http.Request) personForm {
	f := personForm{
		Name: strings.TrimSpace(r.FormValue("name")), IDType: r.FormValue("id_type"), IDNumber: strings.TrimSpace(r.FormValue("id_number")),
		Region: r.FormValue("region"), Relation: r.FormValue("relation"),
		Types: idnum.Types(), Relations: person.Relations, Next: localPath(r.FormValue("next"), "/me"),
	}
	if f.IDType == "" {
		f.IDType = string(idnum.ResidentID)
	}
	if f.Region == "" {
		f.Region = s.Config.Region
	}
	if self, ok := s.Regions.Lookup(s.Config.Region); ok {
		f.Regions = append([]region.Region{self}, s.Regions.Children(s.Config.Region)...)
	}
	return f
}

func (f personForm) input() person.Input {
	return person.Input{Name: f.Name, IDType: f.IDType, IDNumber: f.IDNumber, Region: f.Region, Relation: f.Relation}
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Persons.Profile(r.Context(), p.Resident.ID); err == nil {
		redirect(w, r, "/me")
		return nil
	}
	return s.showRegister(w, r, p, http.StatusOK, s.newPersonForm(r))
}

func (s *Server) showRegister(w http.ResponseWriter, r *http.Request, p *page, status int, f personForm) error {
	p.Title = p.T("register.title")
	p.Data = f
	s.render(w, r, status, "register", p)
	return nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request, p *page) error {
	f := s.newPersonForm(r)
	if _, err := s.Persons.Register(r.Context(), p.Resident.ID, f.input()); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showRegister(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.registered", "")
	redirect(w, r, f.Next)
	return nil
}

type dependentsData struct {
	Dependents []dependentView
	Requests   []person.ManagerRequest // others asking to manage the resident's dependents
	Form       personForm
	Max        bool
}

type dependentView struct {
	person.Masked
	Relation   string
	RegionName string
}

func (s *Server) dependentsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showDependents(w, r, p, http.StatusOK, s.newPersonForm(r))
}

func (s *Server) showDependents(w http.ResponseWriter, r *http.Request, p *page, status int, f personForm) error {
	if _, err := s.Persons.Profile(r.Context(), p.Resident.ID); errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/dependents")
		return nil
	}
	ds, err := s.Persons.Dependents(r.Context(), p.Resident.ID)
	if err != nil {
		return err
	}
	d := dependentsData{Form: f}
	if d.Requests, err = s.Persons.ManagerRequests(r.Context(), p.Resident); err != nil {
		return err
	}
	for _, dp := range ds {
		d.Dependents = append(d.Dependents, dependentView{Masked: dp.Masked(), Relation: dp.Relation, RegionName: s.Regions.FullName(dp.Region)})
	}
	if f.Relation == "" {
		d.Form.Relation = "parent"
	}
	p.Title = p.T("deps.title")
	p.Data = d
	s.render(w, r, status, "dependents", p)
	return nil
}

func (s *Server) addDependent(w http.ResponseWriter, r *http.Request, p *page) error {
	f := s.newPersonForm(r)
	dp, req, err := s.Persons.AddDependent(r.Context(), p.Resident.ID, f.input())
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDependents(w, r, p, st, f) })
	}
	if req != nil {
		s.flash(w, r, "flash.dependent_requested", req.MaskedName)
		redirect(w, r, "/me/dependents")
		return nil
	}
	s.flash(w, r, "flash.dependent_added", idnum.MaskName(dp.Name))
	redirect(w, r, "/me/dependents")
	return nil
}

// decideManagerRequest is a manager's consent to, or refusal of, someone
// else managing one of their dependents.
func (s *Server) decideManagerRequest(approve bool) func(w http.ResponseWriter, r *http.Request, p *page) error {
	return func(w http.ResponseWriter, r *http.Request, p *page) error {
		req, err := s.Persons.DecideManagerRequest(r.Context(), p.Resident, r.PathValue("id"), approve)
		if err != nil {
			return err
		}
		key := "flash.manager_refused"
		if approve {
			key = "flash.manager_approved"
		}
		s.flash(w, r, key, req.MaskedName)
		redirect(w, r, "/me/dependents")
		return nil
	}
}

func (s *Server) removeDependent(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.Persons.RemoveDependent(r.Context(), p.Resident.ID, r.PathValue("id")); err != nil {
		return err
	}
	s.flash(w, r, "flash.dependent_removed", "")
	redirect(w, r, "/me/dependents")
	return nil
}

// moreEntries are the resident's other pages; features add theirs.
var moreEntries = []navItem{
	{"tab.family", "/me/dependents"},
}

func (s *Server) morePage(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title, p.Data = p.T("tab.more"), s.moreList()
	s.render(w, r, http.StatusOK, "more", p)
	return nil
}
