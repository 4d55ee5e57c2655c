package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
)

// The console's gateway pages: organisations, their keys (a secret shown
// once) and unit accounts; the watched drug classes; the pharmacies' day
// per town. The services decide who may; the menu only hides what a role
// cannot open.
var gatewayNav = []navEntry{
	{"nav.orgs", "/console/orgs", auth.StatsRead},
	{"nav.pharmacy", "/console/pharmacy", auth.StatsRead},
	{"nav.clinics", "/console/clinics", auth.StatsRead},
	{"nav.coldchain", "/console/coldchain", auth.StatsRead},
	{"nav.drugs", "/console/drugs", auth.OrgWrite},
}

func (s *Server) gatewayRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/orgs", s.console("", s.orgsPage))
	mux.HandleFunc("POST /console/orgs", s.console("", s.createOrg))
	mux.HandleFunc("GET /console/orgs/{id}", s.console("", s.orgPage))
	mux.HandleFunc("POST /console/orgs/{id}/keys", s.console("", s.createOrgKey))
	mux.HandleFunc("POST /console/orgs/{id}/keys/{key}/rotate", s.console("", s.rotateOrgKey))
	mux.HandleFunc("POST /console/orgs/{id}/keys/{key}/revoke", s.console("", s.revokeOrgKey))
	mux.HandleFunc("POST /console/orgs/{id}/accounts", s.console("", s.createOrgAccount))
	mux.HandleFunc("POST /console/orgs/{id}/accounts/{account}", s.console("", s.updateOrgAccount))
	mux.HandleFunc("GET /console/orgs/{id}/purchases", s.console("", s.orgPurchasesPage))
	mux.HandleFunc("GET /console/orgs/{id}/purchases.csv", s.console("", s.orgPurchasesCSV))
	mux.HandleFunc("GET /console/pharmacy", s.console("", s.pharmacySummaryPage))
	mux.HandleFunc("GET /console/drugs", s.console("", s.drugsPage))
	mux.HandleFunc("POST /console/drugs", s.console("", s.saveDrug))
	s.unitRoutes(mux)
}

type kindOption struct {
	Kind  org.Kind
	Label string
}

func kindOptions(l Lang) []kindOption {
	out := make([]kindOption, len(org.Kinds))
	for i, k := range org.Kinds {
		out[i] = kindOption{k.Kind, label(l, k.Label)}
	}
	return out
}

type orgRow struct {
	*org.Org
	KindLabel  string
	RegionName string
}

type orgsData struct {
	Orgs    []orgRow
	Kinds   []kindOption
	Regions []region.Region
	Kind    string
	Next    string
	Form    org.Input
}

func (s *Server) orgsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showOrgs(w, r, p, http.StatusOK, org.Input{Region: p.Op.Region})
}

func (s *Server) showOrgs(w http.ResponseWriter, r *http.Request, p *page, status int, f org.Input) error {
	q := r.URL.Query()
	d := orgsData{Kinds: kindOptions(p.Lang), Regions: s.scopeRegions(p.Op), Kind: q.Get("kind"), Form: f}
	after, err := intQuery(r, "after", 0)
	if err != nil {
		return err
	}
	os, err := s.Orgs.List(r.Context(), p.Op, org.Filter{Kind: d.Kind, After: int64(after), Limit: 100})
	if err != nil {
		return err
	}
	for _, o := range os {
		d.Orgs = append(d.Orgs, orgRow{o, kindLabel(p.Lang, o.Kind), s.regionName(o.Region)})
	}
	if len(os) == 100 {
		d.Next = withQuery("/console/orgs", "kind", d.Kind, "after", strconv.FormatInt(os[99].Num, 10))
	}
	p.Title, p.NavOn, p.Data = p.T("nav.orgs"), "/console/orgs", d
	s.render(w, r, status, "console_orgs", p)
	return nil
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, p *page) error {
	f := org.Input{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"), USCC: r.PostFormValue("uscc"),
		Region: r.PostFormValue("region"), Address: r.PostFormValue("address")}
	o, err := s.Orgs.Create(r.Context(), p.Op, f)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOrgs(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.org_created", o.Name)
	redirect(w, r, "/console/orgs/"+o.ID)
	return nil
}

type accountForm struct {
	Username, DisplayName string
	Admin                 bool
}

type orgData struct {
	Org       orgRow
	Keys      keysData
	Accounts  []*auth.UnitAccount
	Account   accountForm
	CanManage bool
	Figures   *orgFigures // the scenario's figures of a day, by kind
}

func (s *Server) orgPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showOrg(w, r, p, http.StatusOK, orgData{})
}

func (s *Server) showOrg(w http.ResponseWriter, r *http.Request, p *page, status int, d orgData) error {
	o, err := s.Orgs.Get(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	d.Org = orgRow{o, kindLabel(p.Lang, o.Kind), s.Regions.FullName(o.Region)}
	d.CanManage = p.Op.Can(auth.OrgWrite)
	if d.Figures, err = s.orgFiguresOf(r, p, o); err != nil {
		return err
	}
	if d.CanManage {
		if d.Keys.Keys, err = s.Orgs.Keys(r.Context(), p.Op, o.ID); err != nil {
			return err
		}
		if d.Accounts, err = s.Orgs.Accounts(r.Context(), p.Op, o.ID); err != nil {
			return err
		}
		d.Keys.Scopes = scopeOptions(p.Lang, o.Kind, d.Keys.Form.Scopes)
	}
	p.Title, p.NavOn, p.Data = o.Name, "/console/orgs", d
	s.render(w, r, status, "console_org", p)
	return nil
}

func (s *Server) createOrgKey(w http.ResponseWriter, r *http.Request, p *page) error {
	in, err := keyForm(r)
	if err == nil {
		var k *org.Key
		var secret string
		if k, secret, err = s.Orgs.CreateKey(r.Context(), p.Op, r.PathValue("id"), in); err == nil {
			// The secret is shown on this answer only; it is stored hashed.
			return s.showOrg(w, r, p, http.StatusCreated, orgData{Keys: keysData{Created: k, Secret: secret}})
		}
	}
	return s.formErr(w, r, p, err, func(st int) error { return s.showOrg(w, r, p, st, orgData{Keys: keysData{Form: in}}) })
}

func (s *Server) rotateOrgKey(w http.ResponseWriter, r *http.Request, p *page) error {
	k, secret, err := s.Orgs.RotateKey(r.Context(), p.Op, r.PathValue("id"), r.PathValue("key"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOrg(w, r, p, st, orgData{}) })
	}
	return s.showOrg(w, r, p, http.StatusOK, orgData{Keys: keysData{Created: k, Secret: secret}})
}

func (s *Server) revokeOrgKey(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Orgs.RevokeKey(r.Context(), p.Op, r.PathValue("id"), r.PathValue("key")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOrg(w, r, p, st, orgData{}) })
	}
	s.flash(w, r, "flash.key_revoked", "")
	redirect(w, r, "/console/orgs/"+r.PathValue("id"))
	return nil
}

func (s *Server) createOrgAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	f := accountForm{Username: strings.TrimSpace(r.PostFormValue("username")), DisplayName: r.PostFormValue("display_name"),
		Admin: r.PostFormValue("admin") == "true"}
	u, err := s.Orgs.CreateAccount(r.Context(), p.Op, r.PathValue("id"), org.AccountInput{Username: f.Username,
		DisplayName: f.DisplayName, Password: r.PostFormValue("password"), Admin: f.Admin})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOrg(w, r, p, st, orgData{Account: f}) })
	}
	s.flash(w, r, "flash.account_created", u.Username)
	redirect(w, r, "/console/orgs/"+r.PathValue("id")+"#accounts")
	return nil
}

func (s *Server) updateOrgAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	_, err := s.Orgs.SetAccountDisabled(r.Context(), p.Op, r.PathValue("id"), r.PathValue("account"), r.PostFormValue("disabled") == "true")
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showOrg(w, r, p, st, orgData{}) })
	}
	s.flash(w, r, "flash.saved", "")
	redirect(w, r, "/console/orgs/"+r.PathValue("id")+"#accounts")
	return nil
}

type orgPurchasesData struct {
	Org orgRow
	Day *dayView
}

func (s *Server) orgPurchasesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	rep, err := s.Pharmacy.Report(r.Context(), p.Op, r.PathValue("id"), day)
	if err != nil {
		return err
	}
	v, err := s.dayView(r, p, rep)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = rep.Org.Name+" · "+p.T("unit.purchases"), "/console/orgs"
	p.Data = orgPurchasesData{Org: orgRow{rep.Org, kindLabel(p.Lang, rep.Org.Kind), s.Regions.FullName(rep.Org.Region)}, Day: v}
	s.render(w, r, http.StatusOK, "console_org_purchases", p)
	return nil
}

func (s *Server) orgPurchasesCSV(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	rep, err := s.Pharmacy.Report(r.Context(), p.Op, r.PathValue("id"), day)
	if err != nil {
		return err
	}
	return s.writeDayCSV(w, r, p, rep)
}

type summaryRow struct {
	Name       string
	Counts     []int64
	Total      int64
	Pharmacies int64
	Buyers     int64
}

type summaryData struct {
	Date, Prev, Next string
	Classes          []string
	Towns            []summaryRow
	Total            summaryRow
}

func (s *Server) pharmacySummaryPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	sum, err := s.Pharmacy.Summary(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	d := summaryData{Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly)}
	if next := day.AddDate(0, 0, 1); !next.After(s.now()) {
		d.Next = next.Format(time.DateOnly)
	}
	var codes []string
	for _, c := range sum.Classes {
		if c.Active || sum.Total.Counts[c.Code] > 0 {
			codes = append(codes, c.Code)
			d.Classes = append(d.Classes, label(p.Lang, c.Name))
		}
	}
	row := func(name string, t *pharmacy.TownRow) summaryRow {
		out := summaryRow{Name: name, Total: t.Total, Pharmacies: t.Pharmacies, Buyers: t.Buyers}
		for _, c := range codes {
			out.Counts = append(out.Counts, t.Counts[c])
		}
		return out
	}
	for _, t := range sum.Towns {
		d.Towns = append(d.Towns, row(s.regionName(t.Region), t))
	}
	d.Total = row(p.T("pharmacy.sum"), &sum.Total)
	p.Title, p.NavOn, p.Data = p.T("nav.pharmacy"), "/console/pharmacy", d
	s.render(w, r, http.StatusOK, "console_pharmacy", p)
	return nil
}

type drugsData struct {
	Classes []*pharmacy.Class
	Form    pharmacy.ClassInput
}

func (s *Server) drugsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showDrugs(w, r, p, http.StatusOK, pharmacy.ClassInput{Active: true})
}

func (s *Server) showDrugs(w http.ResponseWriter, r *http.Request, p *page, status int, f pharmacy.ClassInput) error {
	cs, err := s.Pharmacy.Classes(r.Context(), true)
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.drugs"), "/console/drugs", drugsData{Classes: cs, Form: f}
	s.render(w, r, status, "console_drugs", p)
	return nil
}

func (s *Server) saveDrug(w http.ResponseWriter, r *http.Request, p *page) error {
	f := pharmacy.ClassInput{Code: strings.TrimSpace(r.PostFormValue("code")), NameZH: r.PostFormValue("name_zh"),
		NameEN: r.PostFormValue("name_en"), Active: r.PostFormValue("active") == "true"}
	if v := strings.TrimSpace(r.PostFormValue("position")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return s.formErr(w, r, p, pharmacy.ErrDrugClassInvalid.Withf("position must be a whole number"), func(st int) error { return s.showDrugs(w, r, p, st, f) })
		}
		f.Position = n
	}
	c, err := s.Pharmacy.SaveClass(r.Context(), p.Op, f)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showDrugs(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.drug_class_saved", c.Code)
	redirect(w, r, "/console/drugs")
	return nil
}
