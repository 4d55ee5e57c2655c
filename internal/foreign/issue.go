package foreign

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-jose/go-jose/v4"
	cose "github.com/veraison/go-cose"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// Issuing is for tests and the demo: the platform verifies foreign
// credentials and never issues them to travellers.

// Card is a SMART Health Card to issue.
type Card struct {
	Iss    string
	KID    string
	NotBef time.Time
	Exp    time.Time // zero: none
	Types  []string  // vc.type; nil: health-card and immunization
	RID    string
	Bundle json.RawMessage // the FHIR bundle
}

// IssueSHC signs a card as a compact JWS (ES256, zip DEF).
func IssueSHC(key *ecdsa.PrivateKey, c Card) (string, error) {
	types := c.Types
	if types == nil {
		types = []string{shcHealthCard, shcImmunize}
	}
	vc := map[string]any{"type": types, "credentialSubject": map[string]any{"fhirVersion": "4.0.1", "fhirBundle": c.Bundle}}
	if c.RID != "" {
		vc["rid"] = c.RID
	}
	p := map[string]any{"iss": c.Iss, "nbf": c.NotBef.Unix(), "vc": vc}
	if !c.Exp.IsZero() {
		p["exp"] = c.Exp.Unix()
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestCompression)
	fw.Write(raw)
	fw.Close()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", c.KID).WithHeader("zip", "DEF"))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(z.Bytes())
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// NumericQR is the shc:/ text of a JWS, as its QR code holds it.
func NumericQR(jws string) string {
	var b strings.Builder
	b.WriteString(shcPrefix)
	for i := 0; i < len(jws); i++ {
		fmt.Fprintf(&b, "%02d", int(jws[i])-45)
	}
	return b.String()
}

// DCC is an EU Digital COVID Certificate to issue.
type DCC struct {
	Country  string
	IssuedAt time.Time
	Expires  time.Time
	Payload  map[string]any // the DCC JSON: ver, nam, dob and one of v, t, r
}

// IssueDCC signs a DCC with an ES256 key under the signer certificate's
// kid and returns its HC1: text.
func IssueDCC(key crypto.Signer, cert *x509.Certificate, d DCC) (string, error) {
	claims := map[int64]any{claimIss: d.Country, claimIat: d.IssuedAt.Unix(), claimExp: d.Expires.Unix(),
		claimHCert: map[int64]any{hcertDCC: d.Payload}}
	payload, err := cbor.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		return "", err
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(cose.AlgorithmES256)
	msg.Headers.Protected[cose.HeaderLabelKeyID] = []byte(dccKID(cert.Raw))
	msg.Payload = payload
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return "", err
	}
	b, err := msg.MarshalCBOR()
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	zw, _ := zlibWriter(&z)
	zw.Write(b)
	zw.Close()
	return dccPrefix + codeformat.Base45Encode(z.Bytes()), nil
}

// NewSigner makes a DCC document signer for tests and the demo: a P-256
// key and a self-signed certificate of country, whose extended key usage
// limits it to kinds (none: every kind).
func NewSigner(country string, kinds ...Kind) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{Country: []string{country}, CommonName: "DSC " + country},
		NotBefore:    time.Now().Add(-24 * time.Hour), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, k := range kinds {
		for oid, kk := range ekuKinds {
			if kk == k && strings.HasPrefix(oid, "1.3.6.1.4.1.1847.") {
				tmpl.UnknownExtKeyUsage = append(tmpl.UnknownExtKeyUsage, parseOID(oid))
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return key, c, err
}

func parseOID(s string) asn1.ObjectIdentifier {
	var oid asn1.ObjectIdentifier
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p)
		oid = append(oid, n)
	}
	return oid
}

// TestDCC is a DCC of a negative PCR test sampled at sampled, for tests
// and the demo.
func TestDCC(country, family, given, dob string, sampled time.Time) map[string]any {
	return map[string]any{"ver": "1.3.0", "dob": dob,
		"nam": map[string]any{"fn": family, "gn": given, "fnt": strings.ToUpper(family), "gnt": strings.ToUpper(given)},
		"t": []any{map[string]any{"tg": "840539006", "tt": "LP6464-4", "nm": "Roche LightCycler qPCR", "sc": sampled.UTC().Format(time.RFC3339),
			"tr": "260415000", "tc": "Test Centre", "co": country, "is": "Ministry of Health", "ci": fmt.Sprintf("URN:UVCI:01:%s:%X", country, sampled.UnixNano())}}}
}
