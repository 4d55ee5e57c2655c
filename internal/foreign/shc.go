package foreign

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	shcPrefix      = "shc:/"
	shcHealthCard  = "https://smarthealth.cards#health-card"
	shcImmunize    = "https://smarthealth.cards#immunization"
	shcLaboratory  = "https://smarthealth.cards#laboratory"
	maxSHCPayload  = 1 << 20
	maxCardsInFile = 16
)

// numericJWS decodes the digits of a shc:/ QR: each pair is a character,
// its value plus 45. A chunked card (shc:/1/2/...) is accepted when it is
// whole (one chunk).
func numericJWS(s string) (string, bool) {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		if s[:i] != "1/1" {
			return "", false
		}
		s = s[i+1:]
	}
	if len(s) == 0 || len(s)%2 != 0 {
		return "", false
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		a, b := s[i]-'0', s[i+1]-'0'
		if a > 9 || b > 9 {
			return "", false
		}
		v := a*10 + b
		if v > 77 {
			return "", false
		}
		out[i/2] = v + 45
	}
	return string(out), true
}

func (v *Verifier) verifySHCNumeric(t *Trust, s string, at time.Time) Result {
	jws, ok := numericJWS(s)
	if !ok {
		return invalid(FormatSHC, ReasonBadNumeric)
	}
	return v.verifyJWS(t, jws, at)
}

// verifySHCFile checks a .smart-health-card file: valid when every card
// in it is. The answer describes the first card; Details["cards"] counts
// them.
func (v *Verifier) verifySHCFile(t *Trust, s string, at time.Time) Result {
	var f struct {
		VerifiableCredential []string `json:"verifiableCredential"`
	}
	if err := json.Unmarshal([]byte(s), &f); err != nil || len(f.VerifiableCredential) == 0 || len(f.VerifiableCredential) > maxCardsInFile {
		return invalid(FormatSHC, ReasonBadJSON)
	}
	var first Result
	for i, jws := range f.VerifiableCredential {
		r := v.verifyJWS(t, jws, at)
		if i == 0 {
			first = r
			continue
		}
		for _, x := range r.Reasons {
			first.add(x)
		}
	}
	first.Valid = len(first.Reasons) == 0
	if first.Details == nil {
		first.Details = map[string]any{}
	}
	first.Details["cards"] = len(f.VerifiableCredential)
	return first
}

type shcPayload struct {
	Iss string          `json:"iss"`
	Nbf json.Number     `json:"nbf"`
	Exp json.Number     `json:"exp"`
	VC  json.RawMessage `json:"vc"`
}

type shcVC struct {
	Type              []string `json:"type"`
	RID               string   `json:"rid"`
	CredentialSubject struct {
		FHIRBundle struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		} `json:"fhirBundle"`
	} `json:"credentialSubject"`
}

func (v *Verifier) verifyJWS(t *Trust, s string, at time.Time) Result {
	res := Result{Format: FormatSHC}
	sum := sha256.Sum256([]byte(s))
	res.ID = hex.EncodeToString(sum[:16])
	jws, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		res.add(ReasonBadJWS)
		return res
	}
	h := jws.Signatures[0].Protected
	if zip, _ := h.ExtraHeaders["zip"].(string); zip != "DEF" || h.KeyID == "" {
		res.add(ReasonBadJWS)
		return res
	}
	body, err := inflateRaw(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		res.add(ReasonBadCompression)
		return res
	}
	var p shcPayload
	var vc shcVC
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || p.Iss == "" || len(p.VC) == 0 || json.Unmarshal(p.VC, &vc) != nil {
		res.add(ReasonBadJSON)
		return res
	}
	nbf, err1 := numericDate(p.Nbf)
	exp, err2 := numericDate(p.Exp)
	if err1 != nil || err2 != nil {
		res.add(ReasonBadJSON)
		return res
	}
	res.Issuer, res.IssuedAt, res.ExpiresAt = p.Iss, nbf, exp
	shcFill(&res, &vc)

	is := t.issuers[p.Iss]
	if is == nil {
		is = t.issuers[AnyIssuer]
	}
	var key any
	if is != nil {
		res.IssuerCountry = is.country
		if k, ok := is.keys[h.KeyID]; ok {
			key = k
		}
	}
	switch {
	case key == nil:
		res.add(ReasonUnknownKey)
	default:
		signed, err := jws.Verify(key)
		if err != nil || !bytes.Equal(signed, jws.UnsafePayloadWithoutVerification()) {
			res.add(ReasonBadSignature)
		}
	}
	res.times(at, nbf, exp, v.skew())
	if !hasType(vc.Type, shcHealthCard) || res.Kind == "" {
		res.add(ReasonVCType)
	}
	if is != nil && vc.RID != "" {
		if when, ok := is.revoked[h.KeyID][vc.RID]; ok && (when == 0 || nbf.Unix() < when) {
			res.add(ReasonRevoked)
		}
	}
	res.Valid = len(res.Reasons) == 0
	return res
}

// inflateRaw reads raw DEFLATE (no zlib framing), bounded.
func inflateRaw(b []byte) ([]byte, error) {
	br := bytes.NewReader(b)
	fr := flate.NewReader(br)
	out, err := io.ReadAll(io.LimitReader(fr, maxSHCPayload+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxSHCPayload {
		return nil, errors.New("too large")
	}
	if br.Len() > 0 {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

func numericDate(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1e12 {
		return time.Time{}, errors.New("bad NumericDate")
	}
	return time.Unix(int64(f), 0).UTC(), nil
}

func parseUnix(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

func hasType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

type fhirCoding struct {
	Coding []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"coding"`
}

func (c fhirCoding) code() string {
	if len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].Code
}

type fhirResource struct {
	ResourceType string `json:"resourceType"`
	Name         []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	BirthDate            string     `json:"birthDate"`
	Status               string     `json:"status"`
	VaccineCode          fhirCoding `json:"vaccineCode"`
	OccurrenceDateTime   string     `json:"occurrenceDateTime"`
	LotNumber            string     `json:"lotNumber"`
	Code                 fhirCoding `json:"code"`
	ValueCodeableConcept fhirCoding `json:"valueCodeableConcept"`
	EffectiveDateTime    string     `json:"effectiveDateTime"`
}

// SNOMED CT results an SHC lab card states.
const (
	snomedNegative = "260385009"
	snomedPositive = "10828004"
	snomedDetected = "260373001"
	snomedNotFound = "260415000"
)

// shcFill takes the holder, kind and details from the card's FHIR bundle:
// the kind from vc.type, or else from what the bundle holds.
func shcFill(r *Result, vc *shcVC) {
	var doses []map[string]any
	var tests []map[string]any
	for _, e := range vc.CredentialSubject.FHIRBundle.Entry {
		var res fhirResource
		if json.Unmarshal(e.Resource, &res) != nil {
			continue
		}
		switch res.ResourceType {
		case "Patient":
			if len(res.Name) > 0 {
				n := res.Name[0]
				r.Holder.Name = strings.TrimSpace(n.Family + " " + strings.Join(n.Given, " "))
			}
			r.Holder.BirthDate = res.BirthDate
		case "Immunization":
			doses = append(doses, map[string]any{"vaccine": res.VaccineCode.code(), "date": res.OccurrenceDateTime, "lot": res.LotNumber, "status": res.Status})
		case "Observation":
			result := res.ValueCodeableConcept.code()
			switch result {
			case snomedNegative, snomedNotFound:
				result = "negative"
			case snomedPositive, snomedDetected:
				result = "positive"
			}
			tests = append(tests, map[string]any{"test_type": res.Code.code(), "result": result, "sampled_at": res.EffectiveDateTime})
		}
	}
	switch {
	case hasType(vc.Type, shcImmunize) || (!hasType(vc.Type, shcLaboratory) && len(doses) > 0):
		r.Kind = KindVaccination
		r.Details = map[string]any{"doses": len(doses), "immunizations": doses}
		if n := len(doses); n > 0 {
			r.Details["date"] = doses[n-1]["date"]
		}
	case hasType(vc.Type, shcLaboratory) || len(tests) > 0:
		r.Kind = KindTest
		r.Details = map[string]any{"tests": tests}
		if n := len(tests); n > 0 {
			r.Details["result"], r.Details["sampled_at"], r.Details["test_type"] = tests[n-1]["result"], tests[n-1]["sampled_at"], tests[n-1]["test_type"]
		}
	}
}
