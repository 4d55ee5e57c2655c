package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/pharmacy"
)

// The request and response bodies of the gateway (/gateway/v1/...) and of
// the operators' organisation endpoints (/api/v1/admin/orgs...). The
// feature packages carry no JSON tags; these types are the contract.

// ScanRequest is POST /gateway/v1/scan: a scanned code, or an identity
// number typed at a desk.
type ScanRequest struct {
	Code     string `json:"code,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// ScanResponse is the answer to a scan (written by appendScan).
type ScanResponse struct {
	Subject    string    `json:"subject"`
	ExpiresAt  time.Time `json:"expires_at"`
	Color      Color     `json:"color"`
	MaskedName string    `json:"masked_name"`
	Admitted   bool      `json:"admitted"`
	Reasons    []string  `json:"reasons"`
	Kind       string    `json:"kind"`
}

func scanResponse(sc *gateway.Scan) ScanResponse {
	reasons := sc.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return ScanResponse{Subject: sc.Subject, ExpiresAt: sc.ExpiresAt, Color: color(sc.Color), MaskedName: sc.MaskedName,
		Admitted: sc.Admitted, Reasons: reasons, Kind: sc.Kind}
}

// DrugClassResponse is a watched drug class.
type DrugClassResponse struct {
	Code     string `json:"code"`
	Name     Text   `json:"name"`
	Active   bool   `json:"active"`
	Position int64  `json:"position"`
}

// DrugClassesResponse lists drug classes.
type DrugClassesResponse struct {
	DrugClasses []DrugClassResponse `json:"drug_classes"`
}

func drugClassResponse(c *pharmacy.Class) DrugClassResponse {
	return DrugClassResponse{Code: c.Code, Name: text(c.Name), Active: c.Active, Position: c.Position}
}

// DrugClassRequest is POST /admin/pharmacy/drug-classes: add or change a class.
type DrugClassRequest struct {
	Code     string `json:"code"`
	NameZH   string `json:"name_zh"`
	NameEN   string `json:"name_en"`
	Active   *bool  `json:"active,omitempty"` // default true
	Position int64  `json:"position,omitempty"`
}

// PurchaseItem is one product of a purchase.
type PurchaseItem struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity,omitempty"`
}

// PurchaseRequest is POST /gateway/v1/pharmacy/purchases.
type PurchaseRequest struct {
	Subject   string         `json:"subject"`
	DrugClass string         `json:"drug_class"`
	Items     []PurchaseItem `json:"items,omitempty"`
}

// PurchaseResponse is a registered purchase; Color is the buyer's colour
// after it (in the answer to the registration only).
type PurchaseResponse struct {
	ID         string         `json:"id"`
	DrugClass  string         `json:"drug_class"`
	Items      []PurchaseItem `json:"items"`
	At         time.Time      `json:"at"`
	MaskedName string         `json:"masked_name"`
	Color      Color          `json:"color,omitempty"`
}

func purchaseResponse(p *pharmacy.Purchase) PurchaseResponse {
	items := make([]PurchaseItem, len(p.Items))
	for i, it := range p.Items {
		items[i] = PurchaseItem(it)
	}
	out := PurchaseResponse{ID: p.ID, DrugClass: p.DrugClass, Items: items, At: p.At, MaskedName: p.MaskedName}
	if p.Color.Valid() {
		out.Color = color(p.Color)
	}
	return out
}

// ClassCount is a count of purchases of one class.
type ClassCount struct {
	DrugClass string `json:"drug_class"`
	Count     int64  `json:"count"`
}

// OrgRef names an organisation in a report.
type OrgRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// PharmacyDayResponse is a pharmacy's purchases of one day.
type PharmacyDayResponse struct {
	Date      string             `json:"date"`
	Pharmacy  OrgRef             `json:"pharmacy"`
	Total     int64              `json:"total"`
	Buyers    int64              `json:"buyers"`
	Counts    []ClassCount       `json:"counts"`
	Purchases []PurchaseResponse `json:"purchases"`
}

func pharmacyDay(r *pharmacy.DayReport) PharmacyDayResponse {
	out := PharmacyDayResponse{Date: r.Day.Format(time.DateOnly), Pharmacy: OrgRef{r.Org.ID, r.Org.Name}, Total: r.Total,
		Buyers: r.Buyers, Counts: make([]ClassCount, len(r.Counts)), Purchases: make([]PurchaseResponse, len(r.Purchases))}
	for i, c := range r.Counts {
		out.Counts[i] = ClassCount{c.Class, c.Count}
	}
	for i, p := range r.Purchases {
		out.Purchases[i] = purchaseResponse(p)
	}
	return out
}

// TownPurchases is one town's row of the authority's summary.
type TownPurchases struct {
	Region     string           `json:"region"`
	Name       string           `json:"name"`
	Total      int64            `json:"total"`
	Pharmacies int64            `json:"pharmacies"`
	Buyers     int64            `json:"buyers"`
	Counts     map[string]int64 `json:"counts"`
}

// PharmacySummaryResponse is GET /admin/pharmacy/summary.
type PharmacySummaryResponse struct {
	Date        string              `json:"date"`
	DrugClasses []DrugClassResponse `json:"drug_classes"`
	Towns       []TownPurchases     `json:"towns"`
	Total       TownPurchases       `json:"total"`
}

// OrgRequest is POST /admin/orgs.
type OrgRequest struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	USCC    string `json:"uscc"`
	Region  string `json:"region,omitempty"`
	Address string `json:"address,omitempty"`
}

// OrgResponse is an organisation.
type OrgResponse struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	USCC      string    `json:"uscc"`
	Region    string    `json:"region"`
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
}

func orgResponse(o *org.Org) OrgResponse {
	return OrgResponse{ID: o.ID, Kind: string(o.Kind), Name: o.Name, USCC: o.USCC, Region: o.Region, Address: o.Address, CreatedAt: o.CreatedAt}
}

// OrgListResponse is a page of organisations; next is the after= of the next page.
type OrgListResponse struct {
	Orgs []OrgResponse `json:"orgs"`
	Next string        `json:"next"`
}

// KeyRequest is POST /admin/orgs/{id}/keys. Limits left out take the
// defaults (10,000 a day, 600 a minute).
type KeyRequest struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	DailyQuota    int64    `json:"daily_quota,omitempty"`
	RatePerMinute int64    `json:"rate_per_minute,omitempty"`
}

// KeyResponse is an organisation's key; APIKey is the secret, present
// only in the answer that made or rotated it.
type KeyResponse struct {
	ID            string     `json:"id"`
	APIKey        string     `json:"api_key,omitempty"`
	Name          string     `json:"name"`
	Org           string     `json:"org_id"`
	Scopes        []string   `json:"scopes"`
	DailyQuota    int64      `json:"daily_quota"`
	RatePerMinute int64      `json:"rate_per_minute"`
	UsedToday     int64      `json:"used_today"`
	CreatedAt     time.Time  `json:"created_at"`
	RotatedAt     *time.Time `json:"rotated_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func keyResponse(k *org.Key, secret string) KeyResponse {
	return KeyResponse{ID: k.ID, APIKey: secret, Name: k.Name, Org: k.Org, Scopes: k.Scopes, DailyQuota: k.Limits.PerDay,
		RatePerMinute: k.Limits.PerMinute, UsedToday: k.UsedToday, CreatedAt: k.CreatedAt, RotatedAt: optTime(k.RotatedAt),
		RevokedAt: optTime(k.RevokedAt)}
}

// KeyListResponse lists an organisation's keys.
type KeyListResponse struct {
	Keys []KeyResponse `json:"keys"`
}

// AccountRequest is POST /admin/orgs/{id}/accounts.
type AccountRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password"`
	Admin       bool   `json:"admin,omitempty"`
}

// AccountPatch is PATCH /admin/orgs/{id}/accounts/{account}.
type AccountPatch struct {
	Disabled *bool `json:"disabled"`
}

// AccountResponse is a unit account.
type AccountResponse struct {
	ID          string    `json:"id"`
	Org         string    `json:"org_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Admin       bool      `json:"admin"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func accountResponse(u *auth.UnitAccount) AccountResponse {
	return AccountResponse{ID: u.ID, Org: u.Org, Username: u.Username, DisplayName: u.DisplayName, Admin: u.Admin,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// AccountListResponse lists an organisation's accounts.
type AccountListResponse struct {
	Accounts []AccountResponse `json:"accounts"`
}
