package foreign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Trust is the trust material a verifier checks against: DCC signer
// certificates by kid, SMART Health Card issuers' keys by iss and kid, and
// their revocation lists. Build it with the Add methods, then only read it
// (a Verifier may share it between goroutines).
type Trust struct {
	certs   map[string][]*x509.Certificate
	issuers map[string]*shcIssuer
}

type shcIssuer struct {
	country string
	keys    map[string]*ecdsa.PublicKey
	// revoked maps kid to rid to the time (unix seconds) before which cards
	// with that rid are revoked; 0 revokes them all.
	revoked map[string]map[string]int64
}

// ParseCertificates reads DCC signer certificates as PEM blocks or as
// base64 DER (one a line, as trust lists publish them).
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bytes.TrimSpace(data)
	if bytes.HasPrefix(rest, []byte("-----BEGIN")) {
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("a PEM certificate: %w", err)
			}
			out = append(out, c)
		}
	} else {
		for i, line := range strings.Fields(string(rest)) {
			der, err := base64.StdEncoding.DecodeString(line)
			if err != nil {
				return nil, fmt.Errorf("line %d is neither PEM nor base64 DER: %w", i+1, err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate found (want PEM or base64 DER)")
	}
	return out, nil
}

// AddCertificate trusts a DCC signer certificate and returns its kid.
func (t *Trust) AddCertificate(c *x509.Certificate) []byte {
	if t.certs == nil {
		t.certs = map[string][]*x509.Certificate{}
	}
	kid := dccKID(c.Raw)
	for _, have := range t.certs[kid] {
		if bytes.Equal(have.Raw, c.Raw) {
			return []byte(kid)
		}
	}
	t.certs[kid] = append(t.certs[kid], c)
	return []byte(kid)
}

// JWKS is an SHC issuer's public keys, checked.
type JWKS struct {
	Keys map[string]*ecdsa.PublicKey // by kid
}

// ParseJWKS reads an SHC issuer's JWKS: EC P-256 public keys for ES256,
// each with a kid. A set that holds a private key is refused: it is the
// issuer's secret and has no place in a verifier's trust.
func ParseJWKS(data []byte) (*JWKS, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	out := &JWKS{Keys: map[string]*ecdsa.PublicKey{}}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %d (%s) is a private key; import the issuer's public JWKS", i+1, k.KeyID)
		}
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			continue // not an ES256 key: cards are signed with ES256 only
		}
		if k.KeyID == "" {
			return nil, fmt.Errorf("key %d has no kid", i+1)
		}
		out.Keys[k.KeyID] = pub
	}
	if len(out.Keys) == 0 {
		return nil, errors.New("the JWKS has no EC P-256 key")
	}
	return out, nil
}

// AnyIssuer, as the iss of AddIssuer, trusts the keys for cards of any
// iss: an offline check given a bare JWKS file, which does not name its
// issuer.
const AnyIssuer = "*"

// AddIssuer trusts an SHC issuer's keys. country is the ISO 3166 country
// answered as issuer_country for its cards ("" if unknown).
func (t *Trust) AddIssuer(iss, country string, keys *JWKS) {
	if t.issuers == nil {
		t.issuers = map[string]*shcIssuer{}
	}
	is := t.issuers[iss]
	if is == nil {
		is = &shcIssuer{keys: map[string]*ecdsa.PublicKey{}}
		t.issuers[iss] = is
	}
	if country != "" {
		is.country = country
	}
	for kid, k := range keys.Keys {
		is.keys[kid] = k
	}
}

// CRL is an SHC issuer's revocation list for one key.
type CRL struct {
	KID    string   `json:"kid"`
	Method string   `json:"method"`
	Ctr    int      `json:"ctr"`
	RIDs   []string `json:"rids"`
}

// ParseCRL reads an SHC revocation list (method rid).
func ParseCRL(data []byte) (*CRL, error) {
	var c CRL
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("not a revocation list: %w", err)
	}
	if c.KID == "" || c.Method != "rid" {
		return nil, errors.New("want a revocation list with a kid and method \"rid\"")
	}
	for _, r := range c.RIDs {
		id, ts, _ := strings.Cut(r, ".")
		if id == "" || strings.ContainsAny(id, ".") {
			return nil, fmt.Errorf("revocation id %q is malformed", r)
		}
		if ts != "" {
			if _, err := parseUnix(ts); err != nil {
				return nil, fmt.Errorf("revocation id %q: %w", r, err)
			}
		}
	}
	return &c, nil
}

// AddCRL applies an issuer's revocation list. The issuer's keys must be
// added first.
func (t *Trust) AddCRL(iss string, c *CRL) error {
	is := t.issuers[iss]
	if is == nil {
		return fmt.Errorf("no issuer %s: import its JWKS first", iss)
	}
	if is.revoked == nil {
		is.revoked = map[string]map[string]int64{}
	}
	m := map[string]int64{}
	for _, r := range c.RIDs {
		id, ts, _ := strings.Cut(r, ".")
		var n int64
		if ts != "" {
			n, _ = parseUnix(ts)
		}
		m[id] = n
	}
	is.revoked[c.KID] = m
	return nil
}

// Counts says how much the trust holds: DCC signer certificates and SHC
// issuer keys.
func (t *Trust) Counts() (certs, issuerKeys int) {
	for _, cs := range t.certs {
		certs += len(cs)
	}
	for _, is := range t.issuers {
		issuerKeys += len(is.keys)
	}
	return certs, issuerKeys
}

// HasIssuer reports whether the SHC issuer's keys are trusted.
func (t *Trust) HasIssuer(iss string) bool { return t.issuers[iss] != nil }
