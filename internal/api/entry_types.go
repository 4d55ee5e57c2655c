package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/foreign"
)

// ForeignVerifyRequest is POST /verify/foreign: a credential issued abroad.
type ForeignVerifyRequest struct {
	Credential string `json:"credential" doc:"the text as scanned or downloaded, byte for byte: HC1:..., shc:/..., a compact JWS, or a .smart-health-card file's JSON"`
}

// ForeignFormat is the format of a foreign credential.
type ForeignFormat string

// Enum lists the formats.
func (ForeignFormat) Enum() []string {
	return []string{string(foreign.FormatDCC), string(foreign.FormatSHC)}
}

// ForeignKind is what a foreign credential certifies.
type ForeignKind string

// Enum lists the kinds.
func (ForeignKind) Enum() []string {
	return []string{string(foreign.KindVaccination), string(foreign.KindTest), string(foreign.KindRecovery)}
}

// ForeignHolder is whom a foreign credential names.
type ForeignHolder struct {
	Name      string `json:"name" doc:"family name(s) then given name(s), as the credential writes them"`
	BirthDate string `json:"birth_date" doc:"YYYY-MM-DD, or YYYY-MM or YYYY where the credential gives no more"`
}

// ForeignVerifyResponse is a foreign credential's verification. A credential
// that is not valid is an answer too (valid false, with reasons), not an
// error; what it says is shown for diagnosis whenever it could be decoded.
type ForeignVerifyResponse struct {
	Valid         bool           `json:"valid" doc:"authentic (a trusted signer), within its validity, and for DCCs within the signer's key usage and the DCC schema"`
	Format        *ForeignFormat `json:"format" doc:"null when the text is neither"`
	IssuerCountry *string        `json:"issuer_country" doc:"ISO 3166 alpha-2: a DCC's issuing country; for an SHC, the country its issuer was imported for (null if none)"`
	Issuer        *string        `json:"issuer" doc:"the SHC iss URL, or the DCC signer's kid (base64)"`
	Kind          *ForeignKind   `json:"kind"`
	Holder        *ForeignHolder `json:"holder"`
	IssuedAt      *time.Time     `json:"issued_at"`
	ExpiresAt     *time.Time     `json:"expires_at" doc:"null when the credential has no expiry"`
	Details       map[string]any `json:"details" doc:"what the kind certifies: a test's type, result and sampling time; a vaccination's dose, doses and date; a recovery's first positive and validity"`
	Reasons       []string       `json:"reasons" doc:"why it is not valid (GET /verify/reasons lists them)"`
}

// ForeignResponse is the answer for a verification; `healthcode verify
// --foreign` prints the same.
func ForeignResponse(r *foreign.Result) ForeignVerifyResponse {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out := ForeignVerifyResponse{Valid: r.Valid, IssuerCountry: opt(r.IssuerCountry), Issuer: opt(r.Issuer), Details: r.Details,
		Reasons: make([]string, len(r.Reasons))}
	if out.Details == nil {
		out.Details = map[string]any{}
	}
	for i, x := range r.Reasons {
		out.Reasons[i] = string(x)
	}
	if r.Format != "" {
		f := ForeignFormat(r.Format)
		out.Format = &f
	}
	if r.Kind != "" {
		k := ForeignKind(r.Kind)
		out.Kind = &k
	}
	if r.Holder != (foreign.Holder{}) {
		out.Holder = &ForeignHolder{Name: r.Holder.Name, BirthDate: r.Holder.BirthDate}
	}
	if !r.IssuedAt.IsZero() {
		t := r.IssuedAt.UTC()
		out.IssuedAt = &t
	}
	if !r.ExpiresAt.IsZero() {
		t := r.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	return out
}

// ArrivalRequest is POST /admin/arrivals: border staff register an inbound
// traveller with the credential they showed.
type ArrivalRequest struct {
	Credential    string     `json:"credential" doc:"the foreign credential, as for POST /verify/foreign; it must be valid"`
	Name          string     `json:"name" doc:"as in the passport"`
	IDType        IDType     `json:"id_type" doc:"passport or a travel permit"`
	IDNumber      string     `json:"id_number"`
	Phone         string     `json:"phone,omitempty" doc:"a local mobile number, if the traveller has one"`
	OriginCountry string     `json:"origin_country,omitempty" doc:"ISO 3166 alpha-2 or alpha-3; default: the credential's issuing country"`
	Port          string     `json:"port" doc:"airport, station or road checkpoint of entry"`
	Transport     string     `json:"transport,omitempty" doc:"air (default), rail, road, water or other"`
	ArrivedAt     *time.Time `json:"arrived_at,omitempty" doc:"default: now"`
}

// ArrivalResponse is a registered inbound traveller.
type ArrivalResponse struct {
	ID            string        `json:"id"`
	PersonID      string        `json:"person_id"`
	MaskedName    string        `json:"masked_name"`
	Origin        string        `json:"origin" doc:"GB/T 2659 alpha-3"`
	Port          string        `json:"port"`
	Transport     string        `json:"transport"`
	ArrivedAt     time.Time     `json:"arrived_at"`
	Format        ForeignFormat `json:"format"`
	Kind          ForeignKind   `json:"kind"`
	IssuerCountry string        `json:"issuer_country"`
	Color         Color         `json:"color" doc:"the traveller's colour now: the default rules make it red for the 14 days of central quarantine"`
	Rule          string        `json:"rule" doc:"the rule that decided the colour"`
	Reason        Text          `json:"reason"`
	CareCodeID    string        `json:"care_code_id" doc:"the local code issued (a printed care code); reprint it with GET /admin/care-codes/{id}/qr.png"`
	Code          *string       `json:"code" doc:"the local code's text, at registration only"`
	CodeExpiresAt *time.Time    `json:"code_expires_at" doc:"at registration only"`
	CreatedAt     time.Time     `json:"created_at"`
}

// ArrivalList is GET /admin/arrivals.
type ArrivalList struct {
	Arrivals []ArrivalResponse `json:"arrivals"`
}

func arrivalResponse(a *entry.Arrival) ArrivalResponse {
	out := ArrivalResponse{ID: a.ID, PersonID: a.PersonID, MaskedName: a.MaskedName, Origin: a.Origin, Port: a.Port, Transport: a.Transport,
		ArrivedAt: a.ArrivedAt, Format: ForeignFormat(a.Format), Kind: ForeignKind(a.Kind), IssuerCountry: a.IssuerCountry,
		Color: color(a.Color), Rule: a.RuleID, Reason: Text{ZH: a.Reason.ZH, EN: a.Reason.EN}, CareCodeID: a.CareCodeID, CreatedAt: a.CreatedAt}
	if a.Code != "" {
		c, exp := a.Code, a.CodeExpiresAt.UTC()
		out.Code, out.CodeExpiresAt = &c, &exp
	}
	return out
}
