package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/codes"
)

// TrustListResponse is GET /trust-list: the public keys that sign the
// region's codes (docs/CODE-FORMAT.md §9). The handler serves the bytes
// the key store keeps ready; this type is their contract.
type TrustListResponse struct {
	Keys []TrustedKey `json:"keys"`
}

// TrustedKey is a public code-signing key.
type TrustedKey struct {
	KID       string     `json:"kid" doc:"base64url, no padding: the kid a code's header names"`
	Alg       string     `json:"alg" doc:"EdDSA, ES256 or SM2"`
	PublicKey []byte     `json:"public_key" doc:"SubjectPublicKeyInfo, DER"`
	Issuer    string     `json:"issuer" doc:"the issuing region's code"`
	NotBefore *time.Time `json:"not_before,omitempty" doc:"the key signs codes from then"`
	NotAfter  *time.Time `json:"not_after,omitempty" doc:"and until then"`
}

// CodeResponse is GET /me/code: a fresh dynamic code. The handler writes
// this JSON by hand (writeIssued); a test holds the two to the same bytes.
type CodeResponse struct {
	Code       string    `json:"code" doc:"the text the QR code holds"`
	Kind       CodeKind  `json:"kind"`
	Color      Color     `json:"color" doc:"the colour at issue"`
	MaskedName string    `json:"masked_name"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at" doc:"fetch a new one before then"`
}

// codeResponse is the reference for writeIssued.
func codeResponse(iss *codes.Issued) CodeResponse {
	return CodeResponse{Code: iss.Code, Kind: CodeKind(iss.Kind.String()), Color: color(iss.Color), MaskedName: iss.MaskedName,
		IssuedAt: iss.IssuedAt.UTC().Truncate(time.Second), ExpiresAt: iss.ExpiresAt.UTC().Truncate(time.Second)}
}

// VerifyRequest is POST /verify: a scanned code.
type VerifyRequest struct {
	Code        string   `json:"code" doc:"the text of the scanned QR code"`
	Temperature *float64 `json:"temperature,omitempty" doc:"degrees Celsius, if measured: 37.3 and above is a fever"`
}

// VerifyIDRequest is POST /verify/id: a person without a phone, by their
// identity document.
type VerifyIDRequest struct {
	IDType      string   `json:"id_type"`
	IDNumber    string   `json:"id_number"`
	Temperature *float64 `json:"temperature,omitempty"`
}

// VerifyResponse is a verification. A code that is not valid is an answer
// too (valid false, with reasons), not an error. The handler writes this
// JSON by hand (appendResult); a test holds the two to the same bytes.
type VerifyResponse struct {
	Valid      bool       `json:"valid" doc:"the code is authentic, unexpired and not revoked"`
	Admitted   bool       `json:"admitted" doc:"valid, green now, and no fever"`
	Color      *Color     `json:"color" doc:"the person's colour now (not at issue); null unless valid"`
	MaskedName *string    `json:"masked_name"`
	Kind       *string    `json:"kind" doc:"dynamic, care or id; null when the code is not authentic"`
	Issuer     *string    `json:"issuer"`
	ExpiresAt  *time.Time `json:"expires_at" doc:"null for kind id"`
	Reasons    []string   `json:"reasons" doc:"why it is not valid, then why the person is not admitted (GET /verify/reasons)"`
}

// verifyResponse is the reference for appendResult.
func verifyResponse(r *codes.Result) VerifyResponse {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out := VerifyResponse{Valid: r.Valid, Admitted: r.Admitted, MaskedName: opt(r.MaskedName), Kind: opt(r.Kind), Issuer: opt(r.Issuer),
		Reasons: nonNil(r.Reasons)}
	if r.Color != 0 {
		c := color(r.Color)
		out.Color = &c
	}
	if !r.ExpiresAt.IsZero() {
		t := r.ExpiresAt.UTC().Truncate(time.Second)
		out.ExpiresAt = &t
	}
	return out
}

// ReasonsResponse is GET /verify/reasons.
type ReasonsResponse struct {
	Reasons []ReasonText `json:"reasons"`
}

// ReasonText is what a verification reason means.
type ReasonText struct {
	Reason string `json:"reason"`
	ZH     string `json:"zh"`
	EN     string `json:"en"`
}

// CareCodeResponse is a care code (爱心码): a printable code for a
// dependent without a phone.
type CareCodeResponse struct {
	ID         string    `json:"id"`
	PersonID   string    `json:"person_id"`
	Kind       CodeKind  `json:"kind"`
	MaskedName string    `json:"masked_name"`
	Code       string    `json:"code,omitempty" doc:"the text of the QR code: only when issued"`
	IssuedAt   time.Time `json:"issued_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	State      string    `json:"state" doc:"valid, revoked or expired"`
}

func careCode(c *codes.CareCode) CareCodeResponse {
	return CareCodeResponse{ID: c.ID, PersonID: c.PersonID, Kind: CodeKind(c.Kind), MaskedName: c.MaskedName, Code: c.Code,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt, State: c.State}
}

// CareCodeList lists care codes, newest first.
type CareCodeList struct {
	CareCodes []CareCodeResponse `json:"care_codes"`
}

func careCodeList(cs []*codes.CareCode) CareCodeList {
	out := CareCodeList{CareCodes: make([]CareCodeResponse, len(cs))}
	for i, c := range cs {
		out.CareCodes[i] = careCode(c)
	}
	return out
}
