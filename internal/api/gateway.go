package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
)

var errFormatUnknown = apierr.BadRequest("format_unknown", "format must be json or csv")

// GatewayPrefix is where the gateway's scenario endpoints live: beside
// /api/v1, versioned on their own, for organisations' keys.
const GatewayPrefix = "/gateway/v1/"

// fullPath is where a route is served: gateway routes as they are, the
// others under Prefix.
func fullPath(path string) string {
	if len(path) >= len(GatewayPrefix) && path[:len(GatewayPrefix)] == GatewayPrefix {
		return path
	}
	return Prefix + path
}

// principal authenticates any caller and leaves every decision of who may
// do what to the service.
func (s *Server) principal(h authed) http.HandlerFunc {
	return s.call(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		return h(w, r, p)
	})
}

func (s *Server) gatewayRoutes() {
	s.handle("POST", "/gateway/v1/scan", s.principal(s.gatewayScan))
	s.handle("GET", "/gateway/v1/pharmacy/drug-classes", s.call(s.drugClasses))
	s.handle("POST", "/gateway/v1/pharmacy/purchases", s.principal(s.registerPurchase))
	s.handle("GET", "/gateway/v1/pharmacy/purchases", s.principal(s.pharmacyDay))

	s.handle("POST", "/admin/orgs", s.principal(s.createOrg))
	s.handle("GET", "/admin/orgs", s.principal(s.listOrgs))
	s.handle("GET", "/admin/orgs/{id}", s.principal(s.getOrg))
	s.handle("POST", "/admin/orgs/{id}/keys", s.principal(s.createOrgKey))
	s.handle("GET", "/admin/orgs/{id}/keys", s.principal(s.listOrgKeys))
	s.handle("POST", "/admin/orgs/{id}/keys/{key}/rotate", s.principal(s.rotateOrgKey))
	s.handle("POST", "/admin/orgs/{id}/keys/{key}/revoke", s.principal(s.revokeOrgKey))
	s.handle("POST", "/admin/orgs/{id}/accounts", s.principal(s.createOrgAccount))
	s.handle("GET", "/admin/orgs/{id}/accounts", s.principal(s.listOrgAccounts))
	s.handle("PATCH", "/admin/orgs/{id}/accounts/{account}", s.principal(s.patchOrgAccount))
	s.handle("GET", "/admin/orgs/{id}/pharmacy/purchases", s.principal(s.adminPharmacyDay))
	s.handle("GET", "/admin/pharmacy/summary", s.principal(s.pharmacySummary))
	s.handle("GET", "/admin/pharmacy/drug-classes", s.principal(s.adminDrugClasses))
	s.handle("POST", "/admin/pharmacy/drug-classes", s.principal(s.saveDrugClass))
}

func (s *Server) drugClasses(w http.ResponseWriter, r *http.Request) error {
	return s.writeDrugClasses(w, r, false)
}

func (s *Server) writeDrugClasses(w http.ResponseWriter, r *http.Request, all bool) error {
	cs, err := s.Pharmacy.Classes(r.Context(), all)
	if err != nil {
		return err
	}
	out := DrugClassesResponse{DrugClasses: make([]DrugClassResponse, len(cs))}
	for i, c := range cs {
		out.DrugClasses[i] = drugClassResponse(c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminDrugClasses(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if p.Kind != auth.Operator {
		return org.ErrForbidden.Withf("this is for operators; GET %spharmacy/drug-classes lists the classes in use", GatewayPrefix)
	}
	return s.writeDrugClasses(w, r, true)
}

func (s *Server) saveDrugClass(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in DrugClassRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	c, err := s.Pharmacy.SaveClass(r.Context(), p, pharmacy.ClassInput{Code: in.Code, NameZH: in.NameZH, NameEN: in.NameEN,
		Active: active, Position: in.Position})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, drugClassResponse(c))
	return nil
}

func (s *Server) registerPurchase(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in PurchaseRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	items := make([]pharmacy.Item, len(in.Items))
	for i, it := range in.Items {
		items[i] = pharmacy.Item(it)
	}
	pu, err := s.Pharmacy.Register(r.Context(), p, pharmacy.PurchaseInput{Subject: in.Subject, DrugClass: in.DrugClass, Items: items})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, purchaseResponse(pu))
	return nil
}

func (s *Server) pharmacyDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writePharmacyDay(w, r, p, "")
}

func (s *Server) adminPharmacyDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writePharmacyDay(w, r, p, r.PathValue("id"))
}

// writePharmacyDay answers a day report as JSON or, with ?format=csv, as
// a CSV file (?lang=en for an English header).
func (s *Server) writePharmacyDay(w http.ResponseWriter, r *http.Request, p *auth.Principal, orgID string) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return errFormatUnknown
	}
	day, err := s.Pharmacy.ParseDay(q.Get("date"))
	if err != nil {
		return err
	}
	rep, err := s.Pharmacy.Report(r.Context(), p, orgID, day)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="purchases-`+day.Format(time.DateOnly)+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return s.Pharmacy.WriteCSV(r.Context(), w, rep, q.Get("lang"))
	}
	writeJSON(w, http.StatusOK, pharmacyDay(rep))
	return nil
}

func (s *Server) pharmacySummary(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	day, err := s.Pharmacy.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	sum, err := s.Pharmacy.Summary(r.Context(), p, day)
	if err != nil {
		return err
	}
	out := PharmacySummaryResponse{Date: day.Format(time.DateOnly), Towns: make([]TownPurchases, len(sum.Towns)),
		Total: townPurchases(s.Regions, &sum.Total)}
	out.Total.Region, out.Total.Name = p.Region, s.Regions.FullName(p.Region)
	for i, t := range sum.Towns {
		out.Towns[i] = townPurchases(s.Regions, t)
	}
	for _, c := range sum.Classes {
		out.DrugClasses = append(out.DrugClasses, drugClassResponse(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func townPurchases(regions *region.Table, t *pharmacy.TownRow) TownPurchases {
	name := ""
	if rg, ok := regions.Lookup(t.Region); ok {
		name = rg.Name
	}
	return TownPurchases{Region: t.Region, Name: name, Total: t.Total, Pharmacies: t.Pharmacies, Buyers: t.Buyers, Counts: t.Counts}
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in OrgRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.Orgs.Create(r.Context(), p, org.Input(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, orgResponse(o))
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 100, 500)
	if err != nil {
		return err
	}
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return org.ErrFilterInvalid.Withf("after must be the next of the previous page, not %q", v)
		}
	}
	os, err := s.Orgs.List(r.Context(), p, org.Filter{Kind: q.Get("kind"), Region: q.Get("region"), After: after, Limit: limit})
	if err != nil {
		return err
	}
	out := OrgListResponse{Orgs: make([]OrgResponse, len(os))}
	for i, o := range os {
		out.Orgs[i] = orgResponse(o)
	}
	if len(os) == limit {
		out.Next = strconv.FormatInt(os[len(os)-1].Num, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	o, err := s.Orgs.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgResponse(o))
	return nil
}

func (s *Server) createOrgKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in KeyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	k, secret, err := s.Orgs.CreateKey(r.Context(), p, r.PathValue("id"), org.KeyInput{Name: in.Name, Scopes: in.Scopes,
		Limits: auth.KeyLimits{PerDay: in.DailyQuota, PerMinute: in.RatePerMinute}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, keyResponse(k, secret))
	return nil
}

func (s *Server) listOrgKeys(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ks, err := s.Orgs.Keys(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := KeyListResponse{Keys: make([]KeyResponse, len(ks))}
	for i, k := range ks {
		out.Keys[i] = keyResponse(k, "")
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) rotateOrgKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	k, secret, err := s.Orgs.RotateKey(r.Context(), p, r.PathValue("id"), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyResponse(k, secret))
	return nil
}

func (s *Server) revokeOrgKey(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	k, err := s.Orgs.RevokeKey(r.Context(), p, r.PathValue("id"), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, keyResponse(k, ""))
	return nil
}

func (s *Server) createOrgAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in AccountRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.Orgs.CreateAccount(r.Context(), p, r.PathValue("id"), org.AccountInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, accountResponse(u))
	return nil
}

func (s *Server) listOrgAccounts(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	us, err := s.Orgs.Accounts(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := AccountListResponse{Accounts: make([]AccountResponse, len(us))}
	for i, u := range us {
		out.Accounts[i] = accountResponse(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) patchOrgAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in AccountPatch
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Disabled == nil {
		return org.ErrFilterInvalid.Withf(`send {"disabled": true} or {"disabled": false}`)
	}
	u, err := s.Orgs.SetAccountDisabled(r.Context(), p, r.PathValue("id"), r.PathValue("account"), *in.Disabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountResponse(u))
	return nil
}
