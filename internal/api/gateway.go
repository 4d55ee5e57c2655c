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

func (s *Server) gatewayRoutes() []route {
	return []route{
		{Method: "POST", Path: "/gateway/v1/scan", Auth: "organisation API key or unit account",
			Summary: "Scan a code {code} (scope scan) or look a person up at a desk {id_type, id_number} (scope scan_id: audited, 20 at once then one every 3 s) → {subject, expires_at, color, masked_name, admitted, reasons[], kind}; subject is the organisation's reference to the person for 15 minutes; a code that is not valid is a 422 (code_unreadable, code_forged, code_expired, code_revoked, code_invalid); over the key's rate or daily quota a 429 with Retry-After (docs/GATEWAY.md)",
			In:      ScanRequest{}, Out: replies(ok(ScanResponse{})),
			h: s.principal(s.gatewayScan)},
		{Method: "GET", Path: "/gateway/v1/pharmacy/drug-classes",
			Summary: "The watched drug classes in use: {drug_classes: [{code, name: {zh, en}}]}",
			Out:     replies(ok(DrugClassesResponse{})),
			h:       s.call(s.drugClasses)},
		{Method: "POST", Path: "/gateway/v1/pharmacy/purchases", Auth: "pharmacy API key with pharmacy.purchase, or a pharmacy's unit account",
			Summary: "Register a purchase of a watched drug {subject, drug_class, items?: [{name, quantity}]} → {id, drug_class, items, at, masked_name, color}; records pharmacy.purchase, so the buyer's colour is recomputed before the answer; 400 drug_class_unknown, 410 subject_expired, 403 subject_foreign",
			In:      PurchaseRequest{}, Out: replies(created(PurchaseResponse{})),
			h: s.principal(s.registerPurchase)},
		{Method: "GET", Path: "/gateway/v1/pharmacy/purchases", Auth: "pharmacy API key with pharmacy.purchase, or a pharmacy's unit account",
			Summary: "The pharmacy's purchases of a day, newest first, with counts per class: ?date=2022-04-01 (default today, in the deployment's zone); ?format=csv (?lang=en for an English header)",
			Out:     replies(ok(PharmacyDayResponse{}), csvFile),
			h:       s.principal(s.pharmacyDay)},
		{Method: "POST", Path: "/admin/orgs", Auth: "operator: org.write",
			Summary: "Register an organisation {kind, name, uscc, region?, address?}; audited",
			In:      OrgRequest{}, Out: replies(created(OrgResponse{})),
			h: s.principal(s.createOrg)},
		{Method: "GET", Path: "/admin/orgs", Auth: "operator: org.write or stats.read",
			Summary: "Organisations in scope in the order registered; ?kind, ?region, ?after (the next of the previous page), ?limit (at most 500)",
			Out:     replies(ok(OrgListResponse{})),
			h:       s.principal(s.listOrgs)},
		{Method: "GET", Path: "/admin/orgs/{id}", Auth: "operator: org.write or stats.read; the organisation's own keys and accounts",
			Summary: "An organisation",
			Out:     replies(ok(OrgResponse{})),
			h:       s.principal(s.getOrg)},
		{Method: "POST", Path: "/admin/orgs/{id}/keys", Auth: "operator: org.write; the organisation's admin account",
			Summary: "Give an organisation an API key {name, scopes[], daily_quota?, rate_per_minute?} → the key with its secret api_key, shown once; audited",
			In:      KeyRequest{}, Out: replies(created(KeyResponse{})),
			h: s.principal(s.createOrgKey)},
		{Method: "GET", Path: "/admin/orgs/{id}/keys", Auth: "operator: org.write; the organisation's admin account",
			Summary: "An organisation's keys (never their secrets), with today's use",
			Out:     replies(ok(KeyListResponse{})),
			h:       s.principal(s.listOrgKeys)},
		{Method: "POST", Path: "/admin/orgs/{id}/keys/{key}/rotate", Auth: "operator: org.write; the organisation's admin account",
			Summary: "Give a key a new secret, shown once; the old one stops; audited",
			Out:     replies(ok(KeyResponse{})),
			h:       s.principal(s.rotateOrgKey)},
		{Method: "POST", Path: "/admin/orgs/{id}/keys/{key}/revoke", Auth: "operator: org.write; the organisation's admin account",
			Summary: "Revoke a key for good (idempotent); audited",
			Out:     replies(ok(KeyResponse{})),
			h:       s.principal(s.revokeOrgKey)},
		{Method: "POST", Path: "/admin/orgs/{id}/accounts", Auth: "operator: org.write",
			Summary: "Add a unit account {username, password, display_name?, admin?}; audited",
			In:      AccountRequest{}, Out: replies(created(AccountResponse{})),
			h: s.principal(s.createOrgAccount)},
		{Method: "GET", Path: "/admin/orgs/{id}/accounts", Auth: "operator: org.write; the organisation's admin account",
			Summary: "An organisation's unit accounts",
			Out:     replies(ok(AccountListResponse{})),
			h:       s.principal(s.listOrgAccounts)},
		{Method: "PATCH", Path: "/admin/orgs/{id}/accounts/{account}", Auth: "operator: org.write",
			Summary: "Disable or enable a unit account {disabled}; disabling ends its sessions; audited",
			In:      AccountPatch{}, Out: replies(ok(AccountResponse{})),
			h: s.principal(s.patchOrgAccount)},
		{Method: "GET", Path: "/admin/orgs/{id}/pharmacy/purchases", Auth: "operator: org.write or stats.read",
			Summary: "A pharmacy's purchases of a day, as the pharmacy sees them: ?date, ?format=csv, ?lang",
			Out:     replies(ok(PharmacyDayResponse{}), csvFile),
			h:       s.principal(s.adminPharmacyDay)},
		{Method: "GET", Path: "/admin/pharmacy/summary", Auth: "operator: stats.read",
			Summary: "Watched-drug purchases of a day per town of the pharmacy in scope, per class, with pharmacies and distinct buyers: ?date (default today)",
			Out:     replies(ok(PharmacySummaryResponse{})),
			h:       s.principal(s.pharmacySummary)},
		{Method: "GET", Path: "/admin/pharmacy/drug-classes", Auth: "operator",
			Summary: "Every drug class, retired ones too",
			Out:     replies(ok(DrugClassesResponse{})),
			h:       s.principal(s.adminDrugClasses)},
		{Method: "POST", Path: "/admin/pharmacy/drug-classes", Auth: "operator: org.write, scope the whole deployment",
			Summary: "Add or change a drug class {code, name_zh, name_en, active?, position?}; retiring one (active false) refuses it for new purchases; audited",
			In:      DrugClassRequest{}, Out: replies(ok(DrugClassResponse{})),
			h: s.principal(s.saveDrugClass)},
	}
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
	out := PharmacySummaryResponse{Date: day.Format(time.DateOnly), DrugClasses: []DrugClassResponse{}, Towns: make([]TownPurchases, len(sum.Towns)),
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
