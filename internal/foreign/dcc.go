package foreign

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	cose "github.com/veraison/go-cose"

	"github.com/healthcode/healthcode/internal/codeformat"
)

const dccPrefix = "HC1:"

// maxCOSE bounds the inflated COSE_Sign1: a DCC is a few hundred bytes,
// and a zip bomb must not cost more than this.
const maxCOSE = 64 << 10

// CWT and COSE labels the DCC uses.
const (
	cwtTag      = 61
	sign1Tag    = 18
	claimIss    = 1
	claimExp    = 4
	claimIat    = 6
	claimHCert  = -260
	hcertDCC    = 1
	headerAlg   = 1
	headerKID   = 4
	dccKIDBytes = 8
)

// The extended key usages a DCC signer certificate may carry to limit the
// kinds it signs (the DCC trust framework's OIDs, and their alternates).
// A certificate with none of them signs every kind.
var ekuKinds = map[string]Kind{
	"1.3.6.1.4.1.1847.2021.1.1":   KindTest,
	"1.3.6.1.4.1.1847.2021.1.2":   KindVaccination,
	"1.3.6.1.4.1.1847.2021.1.3":   KindRecovery,
	"1.3.6.1.4.1.0.1847.2021.1.1": KindTest,
	"1.3.6.1.4.1.0.1847.2021.1.2": KindVaccination,
	"1.3.6.1.4.1.0.1847.2021.1.3": KindRecovery,
}

var cborDec = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		DefaultMapType:   nil,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// dccJSONDec decodes the DCC itself: text keys only, as in its JSON.
var dccJSONDec = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		DefaultMapType:   mapStringAny,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

type sign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

// coseSign1 strips the CWT and COSE_Sign1 tags (either, both or none) and
// decodes the four-element array.
func coseSign1(b []byte) (*sign1, error) {
	for len(b) > 0 && b[0]>>5 == 6 {
		var t cbor.RawTag
		if err := cborDec.Unmarshal(b, &t); err != nil {
			return nil, err
		}
		if t.Number != cwtTag && t.Number != sign1Tag {
			return nil, fmt.Errorf("tag %d", t.Number)
		}
		b = t.Content
	}
	var m sign1
	if err := cborDec.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Payload == nil || len(m.Signature) == 0 {
		return nil, errors.New("no payload or signature")
	}
	return &m, nil
}

// header reads a COSE header map (empty bytes: no header).
func header(b []byte) (map[int64]cbor.RawMessage, error) {
	h := map[int64]cbor.RawMessage{}
	if len(b) == 0 {
		return h, nil
	}
	if err := cborDec.Unmarshal(b, &h); err != nil {
		return nil, err
	}
	return h, nil
}

func (v *Verifier) verifyDCC(t *Trust, b45 string, at time.Time) Result {
	res := Result{Format: FormatDCC}
	z, err := codeformat.Base45Decode(b45)
	if err != nil || len(z) == 0 {
		res.add(ReasonBadBase45)
		return res
	}
	raw, err := inflate(z)
	if err != nil {
		res.add(ReasonBadCompression)
		return res
	}
	m, err := coseSign1(raw)
	if err != nil {
		res.add(ReasonBadCOSE)
		return res
	}
	prot, err := header(m.Protected)
	if err != nil {
		res.add(ReasonBadCOSE)
		return res
	}
	unprot, err := header(m.Unprotected)
	if err != nil {
		res.add(ReasonBadCOSE)
		return res
	}
	// The protected kid wins: an unprotected one could be changed by anyone.
	var kid []byte
	kidRaw, ok := prot[headerKID]
	if !ok {
		kidRaw = unprot[headerKID]
	}
	if kidRaw != nil && cborDec.Unmarshal(kidRaw, &kid) != nil {
		res.add(ReasonBadCOSE)
		return res
	}
	var alg int64
	if a, ok := prot[headerAlg]; !ok || cborDec.Unmarshal(a, &alg) != nil {
		if a, ok = unprot[headerAlg]; !ok || cborDec.Unmarshal(a, &alg) != nil {
			res.add(ReasonBadCOSE)
			return res
		}
	}
	c, err := dccClaims(m.Payload)
	if err != nil {
		res.add(ReasonBadCBOR)
		return res
	}
	res.IssuerCountry, res.IssuedAt, res.ExpiresAt = c.iss, c.iat, c.exp
	res.Issuer = base64.StdEncoding.EncodeToString(kid)
	dccFill(&res, c.dcc)

	cert := v.dccSigner(t, kid, cose.Algorithm(alg), m)
	switch {
	case cert == nil && len(t.certs[string(kid)]) == 0:
		res.add(ReasonUnknownKey)
	case cert == nil:
		res.add(ReasonBadSignature)
	}
	res.times(at, c.iat, c.exp, v.skew())
	if cert != nil && !ekuCovers(cert, res.Kind) {
		res.add(ReasonKeyUsage)
	}
	if !schemaValid(c.dcc) {
		res.add(ReasonSchemaInvalid)
	}
	res.Valid = len(res.Reasons) == 0
	return res
}

// dccSigner returns the trusted certificate under kid whose key verifies
// the signature, or nil.
func (v *Verifier) dccSigner(t *Trust, kid []byte, alg cose.Algorithm, m *sign1) *x509.Certificate {
	tbs := codeformat.AppendSigStructure(nil, m.Protected, m.Payload)
	for _, c := range t.certs[string(kid)] {
		ver, err := cose.NewVerifier(alg, c.PublicKey)
		if err != nil {
			continue
		}
		if ver.Verify(tbs, m.Signature) == nil {
			return c
		}
	}
	return nil
}

func ekuCovers(c *x509.Certificate, k Kind) bool {
	var any, covers bool
	for _, oid := range c.UnknownExtKeyUsage {
		if kk, ok := ekuKinds[oid.String()]; ok {
			any = true
			covers = covers || kk == k
		}
	}
	return !any || covers
}

// inflate reads a zlib stream of at most maxCOSE bytes; trailing bytes are
// an error, so nothing rides along unverified.
func inflate(z []byte) ([]byte, error) {
	br := bytes.NewReader(z)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxCOSE+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxCOSE {
		return nil, errors.New("too large")
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	if br.Len() > 0 {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

type dccCWT struct {
	iss      string
	iat, exp time.Time
	dcc      map[string]any
}

func dccClaims(payload []byte) (*dccCWT, error) {
	var claims map[int64]cbor.RawMessage
	if err := cborDec.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	var c dccCWT
	if raw, ok := claims[claimIss]; ok {
		if err := cborDec.Unmarshal(raw, &c.iss); err != nil {
			return nil, err
		}
	}
	var err error
	if c.iat, err = cwtTime(claims[claimIat]); err != nil {
		return nil, err
	}
	if c.exp, err = cwtTime(claims[claimExp]); err != nil {
		return nil, err
	}
	var hcert map[int64]cbor.RawMessage
	if err := cborDec.Unmarshal(claims[claimHCert], &hcert); err != nil {
		return nil, err
	}
	raw, ok := hcert[hcertDCC]
	if !ok {
		return nil, errors.New("no DCC in the hcert claim")
	}
	if err := dccJSONDec.Unmarshal(raw, &c.dcc); err != nil {
		return nil, err
	}
	if c.dcc == nil {
		return nil, errors.New("null DCC")
	}
	return &c, nil
}

// cwtTime reads a NumericDate (an integer or a float of seconds); absent
// is zero.
func cwtTime(raw cbor.RawMessage) (time.Time, error) {
	if raw == nil {
		return time.Time{}, nil
	}
	var x any
	if err := cborDec.Unmarshal(raw, &x); err != nil {
		return time.Time{}, err
	}
	switch n := x.(type) {
	case uint64:
		if n > math.MaxInt64/2 {
			return time.Time{}, errors.New("time out of range")
		}
		return time.Unix(int64(n), 0).UTC(), nil
	case int64:
		return time.Unix(n, 0).UTC(), nil
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) || math.Abs(n) > 1e15 {
			return time.Time{}, errors.New("time out of range")
		}
		return time.Unix(int64(n), 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time is a %T", x)
}

// dccFill takes the holder, the kind and its details from the DCC. The
// schema allows exactly one entry of one kind; a DCC that breaks that is
// schema_invalid, and here its first entry is shown.
func dccFill(r *Result, d map[string]any) {
	if nam, ok := d["nam"].(map[string]any); ok {
		r.Holder.Name = strings.TrimSpace(str(nam["fn"]) + " " + str(nam["gn"]))
		if r.Holder.Name == "" {
			r.Holder.Name = strings.TrimSpace(str(nam["fnt"]) + " " + str(nam["gnt"]))
		}
	}
	r.Holder.BirthDate = str(d["dob"])
	for _, k := range []struct {
		key  string
		kind Kind
	}{{"v", KindVaccination}, {"t", KindTest}, {"r", KindRecovery}} {
		list, ok := d[k.key].([]any)
		if !ok || len(list) == 0 {
			continue
		}
		e, _ := list[0].(map[string]any)
		r.Kind = k.kind
		r.ID = str(e["ci"])
		r.Details = map[string]any{"country": str(e["co"]), "disease": str(e["tg"]), "certificate_id": str(e["ci"])}
		switch k.kind {
		case KindVaccination:
			r.Details["dose"], r.Details["doses"], r.Details["date"] = e["dn"], e["sd"], str(e["dt"])
			r.Details["product"] = str(e["mp"])
		case KindTest:
			r.Details["test_type"], r.Details["sampled_at"], r.Details["centre"] = str(e["tt"]), str(e["sc"]), str(e["tc"])
			switch res := str(e["tr"]); res {
			case "260415000":
				r.Details["result"] = "negative"
			case "260373001":
				r.Details["result"] = "positive"
			default:
				r.Details["result"] = res
			}
		case KindRecovery:
			r.Details["first_positive"], r.Details["valid_from"], r.Details["valid_until"] = str(e["fr"]), str(e["df"]), str(e["du"])
		}
		return
	}
}

func str(x any) string {
	switch s := x.(type) {
	case string:
		return s
	case time.Time:
		return s.UTC().Format(time.RFC3339)
	}
	return ""
}

// dccKID is the kid a DCC names its signer by: the first 8 bytes of the
// SHA-256 of the certificate's DER.
func dccKID(der []byte) string {
	h := sha256.Sum256(der)
	return string(h[:dccKIDBytes])
}

// jsonValue turns the decoded DCC into the JSON the schema reads: times
// (CBOR tags 0 and 1) as RFC 3339 text.
func jsonValue(d map[string]any) ([]byte, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// KIDHex is a kid for logs and listings.
func KIDHex(kid string) string { return hex.EncodeToString([]byte(kid)) }

func zlibWriter(w io.Writer) (*zlib.Writer, error) {
	return zlib.NewWriterLevel(w, zlib.BestCompression)
}
