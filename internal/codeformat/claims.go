package codeformat

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Kind says how a code is meant to be used.
type Kind uint8

const (
	// KindDynamic codes are shown on a phone, live minutes and carry the
	// colour at issue.
	KindDynamic Kind = 1
	// KindCare codes (爱心码) are printed for people without phones, live
	// days, carry no colour and are only valid with an online check that
	// can see revocations and the current colour.
	KindCare Kind = 2
	// KindCertificate codes certify a negative nucleic-acid test: who
	// (handle, masked name), the result, when the swab was taken and where.
	// They carry no colour, live days, and are verified offline like any
	// code, but only by verifiers that ask for them (Options.Kinds), so a
	// certificate is never mistaken for a health code at a checkpoint.
	KindCertificate Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindDynamic:
		return "dynamic"
	case KindCare:
		return "care"
	case KindCertificate:
		return "certificate"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the API spelling.
func (k Kind) MarshalText() ([]byte, error) {
	if k != KindDynamic && k != KindCare && k != KindCertificate {
		return nil, fmt.Errorf("code: invalid kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads the API spelling.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "dynamic":
		*k = KindDynamic
	case "care":
		*k = KindCare
	case "certificate":
		*k = KindCertificate
	default:
		return fmt.Errorf("code: unknown kind %q", b)
	}
	return nil
}

// Color is the colour at issue. The zero value means "none" (care codes).
// The values are ordered so that the worst colour is the largest.
type Color uint8

const (
	ColorNone   Color = 0
	ColorGreen  Color = 1
	ColorYellow Color = 2
	ColorRed    Color = 3
)

func (c Color) String() string {
	switch c {
	case ColorNone:
		return ""
	case ColorGreen:
		return "green"
	case ColorYellow:
		return "yellow"
	case ColorRed:
		return "red"
	}
	return fmt.Sprintf("color(%d)", uint8(c))
}

// MarshalText writes the API spelling; ColorNone is the empty string.
func (c Color) MarshalText() ([]byte, error) {
	if c > ColorRed {
		return nil, fmt.Errorf("code: invalid color %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads the API spelling.
func (c *Color) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*c = ColorNone
	case "green":
		*c = ColorGreen
	case "yellow":
		*c = ColorYellow
	case "red":
		*c = ColorRed
	default:
		return fmt.Errorf("code: unknown color %q", b)
	}
	return nil
}

// TestResult is the result a certificate states: a negative test, or a
// completed vaccination series. Other values are reserved.
type TestResult uint8

const (
	TestNone     TestResult = 0 // not a certificate
	TestNegative TestResult = 1
	// Vaccinated certifies doses: SampledAt is when the latest dose was
	// given and Site names the product and the dose ("CoronaVac 2/2").
	Vaccinated TestResult = 2
)

func (r TestResult) String() string {
	switch r {
	case TestNone:
		return ""
	case TestNegative:
		return "negative"
	case Vaccinated:
		return "vaccinated"
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// MarshalText writes the API spelling; TestNone is the empty string.
func (r TestResult) MarshalText() ([]byte, error) {
	if r > Vaccinated {
		return nil, fmt.Errorf("code: invalid test result %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads the API spelling.
func (r *TestResult) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*r = TestNone
	case "negative":
		*r = TestNegative
	case "vaccinated":
		*r = Vaccinated
	default:
		return fmt.Errorf("code: unknown test result %q", b)
	}
	return nil
}

// Claims is what a code asserts. Times have one-second resolution on the
// wire (CWT NumericDate); Encode truncates.
type Claims struct {
	Issuer        string // region code of the issuing region, e.g. "341881"
	IssuedAt      time.Time
	Expires       time.Time
	ID            [8]byte // cti: random per code; care codes are revoked by it
	Handle        [8]byte // opaque person handle, never an ID number
	Color         Color   // set exactly when Kind is KindDynamic
	MaskedName    string  // e.g. 张*离
	Kind          Kind
	StatusVersion uint64 // 0 on certificates

	// Certificates only (KindCertificate); zero on other kinds.
	Result    TestResult // the certified result
	SampledAt time.Time  // when the swab was taken
	Site      string     // name of the sampling site
}

// NewID returns a random code id for Claims.ID.
func NewID() [8]byte {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	return id
}

// CWT claim keys (RFC 8392) and our private claim. Keys below -65536 are
// private use in the CWT claims registry; the inner map uses small keys
// because each costs one byte of QR capacity.
const (
	claimIss = 1
	claimExp = 4
	claimIat = 6
	claimCti = 7
	// ClaimHealthCode is the key of the private claim holding our map.
	ClaimHealthCode = -65537

	hcHandle  = 1
	hcColor   = 2
	hcName    = 3
	hcKind    = 4
	hcVersion = 5
	hcResult  = 6 // certificates
	hcSampled = 7 // certificates
	hcSite    = 8 // certificates
)

type wireHC struct {
	Handle  []byte `cbor:"1,keyasint"`
	Color   uint8  `cbor:"2,keyasint,omitempty"`
	Name    string `cbor:"3,keyasint"`
	Kind    uint8  `cbor:"4,keyasint"`
	Version uint64 `cbor:"5,keyasint"`
	Result  uint8  `cbor:"6,keyasint,omitempty"`
	Sampled uint64 `cbor:"7,keyasint,omitempty"`
	Site    string `cbor:"8,keyasint,omitempty"`
}

type wireClaims struct {
	Iss string `cbor:"1,keyasint"`
	Exp uint64 `cbor:"4,keyasint"`
	Iat uint64 `cbor:"6,keyasint"`
	Cti []byte `cbor:"7,keyasint"`
	HC  wireHC `cbor:"-65537,keyasint"`
}

// encMode writes RFC 8949 core deterministic encoding, so the same claims
// always give the same bytes (the conformance vectors rely on it).
var encMode = func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func (c *Claims) validate() error {
	switch {
	case c.Issuer == "" || !utf8.ValidString(c.Issuer):
		return errors.New("code: claims need an issuer")
	case c.MaskedName == "" || !utf8.ValidString(c.MaskedName):
		return errors.New("code: claims need a masked name")
	case c.IssuedAt.Unix() <= 0 || c.Expires.Unix() <= c.IssuedAt.Unix() || c.Expires.Unix() > maxNumericDate:
		return errors.New("code: claims need issued-at before expiry, both within 1970-9999")
	case c.ID == [8]byte{}:
		return errors.New("code: claims need an ID (see NewID)")
	case c.Kind == KindDynamic && (c.Color < ColorGreen || c.Color > ColorRed):
		return errors.New("code: a dynamic code needs a colour")
	case c.Kind == KindCare && c.Color != ColorNone:
		return errors.New("code: a care code carries no colour")
	case c.Kind == KindCertificate && c.Color != ColorNone:
		return errors.New("code: a certificate carries no colour")
	case c.Kind != KindDynamic && c.Kind != KindCare && c.Kind != KindCertificate:
		return fmt.Errorf("code: invalid kind %d", c.Kind)
	}
	if c.Kind != KindCertificate {
		if c.Result != TestNone || !c.SampledAt.IsZero() || c.Site != "" {
			return errors.New("code: only a certificate carries a test result, sampling time and site")
		}
		return nil
	}
	switch {
	case c.Result != TestNegative && c.Result != Vaccinated:
		return errors.New("code: a certificate needs a result: a negative test or a vaccination")
	case c.SampledAt.Unix() <= 0 || c.SampledAt.Unix() > c.IssuedAt.Unix():
		return errors.New("code: a certificate needs a sampling time, not after issued-at")
	case c.Site == "" || !utf8.ValidString(c.Site):
		return errors.New("code: a certificate needs a sampling site")
	}
	return nil
}

// MarshalClaims returns the CWT claims set (the COSE payload) for c.
func MarshalClaims(c Claims) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	hc := wireHC{
		Handle:  c.Handle[:],
		Color:   uint8(c.Color),
		Name:    c.MaskedName,
		Kind:    uint8(c.Kind),
		Version: c.StatusVersion,
	}
	if c.Kind == KindCertificate {
		hc.Result, hc.Sampled, hc.Site = uint8(c.Result), uint64(c.SampledAt.Unix()), c.Site
	}
	return encMode.Marshal(wireClaims{
		Iss: c.Issuer,
		Exp: uint64(c.Expires.Unix()),
		Iat: uint64(c.IssuedAt.Unix()),
		Cti: c.ID[:],
		HC:  hc,
	})
}

// ParseClaims reads a CWT claims set as written by MarshalClaims. Unknown
// claims and unknown keys in our map are ignored so that later versions can
// add fields; a known key with the wrong type is an error.
func ParseClaims(payload []byte) (Claims, error) {
	var c Claims
	if err := decMode.Wellformed(payload); err != nil {
		return c, &Error{Reason: ReasonBadCBOR, Err: err}
	}
	var raw rawClaims
	if r, err := raw.parse(payload); r != "" {
		return c, &Error{Reason: r, Err: err}
	}
	raw.fill(&c, "")
	return c, nil
}

// rawClaims holds the claims with text still pointing into the payload.
type rawClaims struct {
	iss, name     []byte
	iat, exp, ver uint64
	cti, handle   []byte
	color, kind   uint64
	// certificates
	result, sampled uint64
	site            []byte
}

// fill copies raw into c. The caller passes the issuer string when it
// already holds an equal one (a trust-list entry's), saving an allocation.
func (raw *rawClaims) fill(c *Claims, issuer string) {
	if issuer != string(raw.iss) {
		issuer = string(raw.iss)
	}
	c.Issuer = issuer
	c.MaskedName = string(raw.name)
	c.IssuedAt = time.Unix(int64(raw.iat), 0).UTC()
	c.Expires = time.Unix(int64(raw.exp), 0).UTC()
	copy(c.ID[:], raw.cti)
	copy(c.Handle[:], raw.handle)
	c.Color = Color(raw.color)
	c.Kind = Kind(raw.kind)
	c.StatusVersion = raw.ver
	if raw.kind == uint64(KindCertificate) {
		c.Result = TestResult(raw.result)
		c.SampledAt = time.Unix(int64(raw.sampled), 0).UTC()
		c.Site = string(raw.site)
	}
}

// maxNumericDate keeps times inside what time.Unix and int64 arithmetic on
// them handle without overflow (year 9999).
const maxNumericDate = 253402300799

var (
	errClaimsShape = errors.New("claims are not a map with the required claims")
	errClaimType   = errors.New("a claim has the wrong type or value")
	errDupKey      = errors.New("duplicate map key")
)

func (raw *rawClaims) parse(b []byte) (Reason, error) {
	r := cborReader{b: b}
	n, ok := r.mapHeader()
	if !ok {
		return ReasonBadCOSE, errClaimsShape
	}
	var seen uint8
	const (
		sIss = 1 << iota
		sExp
		sIat
		sCti
		sHC
	)
	for ; n > 0; n-- {
		key, isInt, ok := r.label()
		if !ok {
			return ReasonBadCOSE, errClaimsShape
		}
		var bit uint8
		switch {
		case !isInt:
			ok = r.skip()
		case key == claimIss:
			bit = sIss
			raw.iss, ok = r.text()
			ok = ok && len(raw.iss) > 0
		case key == claimExp:
			bit = sExp
			raw.exp, ok = r.uint()
			ok = ok && raw.exp <= maxNumericDate
		case key == claimIat:
			bit = sIat
			raw.iat, ok = r.uint()
			ok = ok && raw.iat <= maxNumericDate
		case key == claimCti:
			bit = sCti
			raw.cti, ok = r.bytes()
			ok = ok && len(raw.cti) == 8
		case key == ClaimHealthCode:
			bit = sHC
			if rs, err := raw.parseHC(&r); rs != "" {
				return rs, err
			}
		default:
			ok = r.skip()
		}
		if !ok {
			if r.invalidText {
				return ReasonBadCBOR, errInvalidUTF8
			}
			return ReasonBadCOSE, errClaimType
		}
		if seen&bit != 0 {
			return ReasonBadCBOR, errDupKey
		}
		seen |= bit
	}
	if seen != sIss|sExp|sIat|sCti|sHC {
		return ReasonBadCOSE, errClaimsShape
	}
	return "", nil
}

func (raw *rawClaims) parseHC(r *cborReader) (Reason, error) {
	n, ok := r.mapHeader()
	if !ok {
		return ReasonBadCOSE, errClaimsShape
	}
	var seen uint16
	for ; n > 0; n-- {
		key, isInt, ok := r.label()
		if !ok {
			return ReasonBadCOSE, errClaimsShape
		}
		var bit uint16
		switch {
		case !isInt || key < hcHandle || key > hcSite:
			ok = r.skip()
		case key == hcHandle:
			raw.handle, ok = r.bytes()
			ok = ok && len(raw.handle) == 8
		case key == hcColor:
			raw.color, ok = r.uint()
			ok = ok && raw.color >= uint64(ColorGreen) && raw.color <= uint64(ColorRed)
		case key == hcName:
			raw.name, ok = r.text()
		case key == hcKind:
			raw.kind, ok = r.uint()
			ok = ok && raw.kind >= uint64(KindDynamic) && raw.kind <= uint64(KindCertificate)
		case key == hcVersion:
			raw.ver, ok = r.uint()
		case key == hcResult:
			raw.result, ok = r.uint()
			ok = ok && (raw.result == uint64(TestNegative) || raw.result == uint64(Vaccinated))
		case key == hcSampled:
			raw.sampled, ok = r.uint()
			ok = ok && raw.sampled <= maxNumericDate
		case key == hcSite:
			raw.site, ok = r.text()
			ok = ok && len(raw.site) > 0
		}
		if isInt && key >= hcHandle && key <= hcSite {
			bit = 1 << key
		}
		if !ok {
			if r.invalidText {
				return ReasonBadCBOR, errInvalidUTF8
			}
			return ReasonBadCOSE, errClaimType
		}
		if seen&bit != 0 {
			return ReasonBadCBOR, errDupKey
		}
		seen |= bit
	}
	const required = 1<<hcHandle | 1<<hcName | 1<<hcKind | 1<<hcVersion
	if seen&required != required {
		return ReasonBadCOSE, errClaimsShape
	}
	// The colour is present exactly on dynamic codes: a care code showing a
	// colour would outlive the colour by days.
	if hasColor := seen&(1<<hcColor) != 0; hasColor != (raw.kind == uint64(KindDynamic)) {
		return ReasonBadCOSE, errClaimType
	}
	// The test fields are present exactly on certificates: all three, or
	// the certificate says nothing a verifier could check.
	const test = 1<<hcResult | 1<<hcSampled | 1<<hcSite
	if raw.kind == uint64(KindCertificate) {
		if seen&test != test {
			return ReasonBadCOSE, errClaimsShape
		}
	} else if seen&test != 0 {
		return ReasonBadCOSE, errClaimType
	}
	return "", nil
}
