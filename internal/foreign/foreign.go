// Package foreign verifies health credentials issued abroad: EU Digital
// COVID Certificates (HC1: base45, zlib, COSE_Sign1, CWT, the DCC JSON
// schema, signer certificates with their extended key usage) and SMART
// Health Cards (shc:/ numeric QR or compact JWS, raw DEFLATE, ES256, iss
// and its JWKS). It is a leaf: trust material comes in as a Trust value, and
// nothing here stores or logs anything.
package foreign

import (
	"strings"
	"time"
)

// Format is the kind of credential.
type Format string

const (
	FormatDCC Format = "eu_dcc"
	FormatSHC Format = "shc"
)

// Kind is what a credential certifies.
type Kind string

const (
	KindVaccination Kind = "vaccination"
	KindTest        Kind = "test"
	KindRecovery    Kind = "recovery"
)

// Reason says why a credential is not valid. Decoding reasons end the
// check; the others (signature, times, key usage, schema, type) are all
// reported, so a scanner shows every fault at once.
type Reason string

const (
	ReasonEmpty          Reason = "credential_missing" // nothing to check
	ReasonBadPrefix      Reason = "bad_prefix"         // neither HC1:, shc:/, a JWS nor a card file
	ReasonBadBase45      Reason = "bad_base45"
	ReasonBadCompression Reason = "bad_compression" // zlib (DCC) or raw DEFLATE (SHC) broken or missing
	ReasonBadCOSE        Reason = "bad_cose"        // not a COSE_Sign1 (or a CWT tag around one)
	ReasonBadCBOR        Reason = "bad_cbor"        // the CWT claims or the DCC inside are not what they must be
	ReasonBadNumeric     Reason = "bad_numeric"     // shc:/ digits that are not pairs of 00-77
	ReasonBadJWS         Reason = "bad_jws"         // not a compact JWS with zip DEF, alg ES256 and a kid
	ReasonBadJSON        Reason = "bad_json"        // the card's payload or the card file is not the JSON it must be
	ReasonUnknownKey     Reason = "unknown_key"     // no trusted signer certificate or issuer key for the kid
	ReasonBadSignature   Reason = "bad_signature"
	ReasonExpired        Reason = "expired"
	ReasonNotYetValid    Reason = "not_yet_valid"
	ReasonKeyUsage       Reason = "key_usage"      // the signer certificate's extended key usage does not cover this kind
	ReasonSchemaInvalid  Reason = "schema_invalid" // the DCC payload breaks the DCC JSON schema
	ReasonVCType         Reason = "vc_type"        // the card is not typed as a health card
	ReasonRevoked        Reason = "revoked"        // the issuer's revocation list names the card
)

// Reasons lists every reason, in the order a check meets them.
var Reasons = []Reason{ReasonEmpty, ReasonBadPrefix, ReasonBadBase45, ReasonBadNumeric, ReasonBadCompression, ReasonBadCOSE,
	ReasonBadCBOR, ReasonBadJWS, ReasonBadJSON, ReasonUnknownKey, ReasonBadSignature, ReasonExpired, ReasonNotYetValid,
	ReasonKeyUsage, ReasonSchemaInvalid, ReasonVCType, ReasonRevoked}

// Holder is whom the credential names.
type Holder struct {
	Name      string
	BirthDate string // as the credential writes it: YYYY, YYYY-MM or YYYY-MM-DD
}

// Result is a verification. The fields other than Valid and Reasons are
// what the credential says once it could be decoded; believe them only
// when Valid.
type Result struct {
	Valid         bool
	Format        Format
	IssuerCountry string // ISO 3166 alpha-2: the DCC's iss claim, or the country the SHC issuer was imported for
	Issuer        string // the SHC iss URL; the DCC signer's kid (base64)
	Kind          Kind
	Holder        Holder
	IssuedAt      time.Time
	ExpiresAt     time.Time // zero when the credential has no expiry
	// Details are the facts of the kind: for a test its type, result and
	// sampling time; for a vaccination the dose, doses and date; for a
	// recovery the first positive and the validity. Keys are snake_case.
	Details map[string]any
	Reasons []Reason
	// ID identifies the credential for its holder's records without
	// holding it: the DCC's certificate identifier, or the SHC's hash.
	ID string
}

// MaxSize bounds the text of a credential: a QR code holds under 4,300
// characters, a card file a few cards (a lab report's card may be tens of
// kilobytes).
const MaxSize = 256 << 10

// DefaultSkew is the clock-skew allowance on issue, not-before and expiry.
const DefaultSkew = 5 * time.Minute

// Verifier checks credentials against trust material.
type Verifier struct {
	Trust *Trust
	Skew  time.Duration // zero: DefaultSkew; negative: none
}

func (v *Verifier) skew() time.Duration {
	switch {
	case v.Skew == 0:
		return DefaultSkew
	case v.Skew < 0:
		return 0
	}
	return v.Skew
}

// Verify checks a credential as scanned or downloaded, byte for byte
// (a scanner's trailing CR LF aside), at time at. It never panics, whatever
// s holds.
func (v *Verifier) Verify(s string, at time.Time) Result {
	s = strings.Trim(s, "\r\n\t ")
	t := v.Trust
	if t == nil {
		t = &Trust{}
	}
	switch {
	case s == "":
		return invalid("", ReasonEmpty)
	case len(s) > MaxSize:
		return invalid("", ReasonBadPrefix)
	case strings.HasPrefix(s, dccPrefix):
		return v.verifyDCC(t, s[len(dccPrefix):], at)
	case strings.HasPrefix(s, shcPrefix):
		return v.verifySHCNumeric(t, s[len(shcPrefix):], at)
	case strings.HasPrefix(s, "{"):
		return v.verifySHCFile(t, s, at)
	case strings.Count(s, ".") == 2:
		return v.verifyJWS(t, s, at)
	}
	return invalid("", ReasonBadPrefix)
}

func invalid(f Format, r Reason) Result { return Result{Format: f, Reasons: []Reason{r}} }

// has reports whether r holds reason x.
func (r *Result) has(x Reason) bool {
	for _, y := range r.Reasons {
		if y == x {
			return true
		}
	}
	return false
}

func (r *Result) add(x Reason) {
	if !r.has(x) {
		r.Reasons = append(r.Reasons, x)
	}
}

// times adds expired and not_yet_valid.
func (r *Result) times(at time.Time, nbf, exp time.Time, skew time.Duration) {
	if !nbf.IsZero() && at.Add(skew).Before(nbf) {
		r.add(ReasonNotYetValid)
	}
	// The expiry instant itself is still valid (the DCC test data agrees).
	if !exp.IsZero() && at.Add(-skew).After(exp) {
		r.add(ReasonExpired)
	}
}
