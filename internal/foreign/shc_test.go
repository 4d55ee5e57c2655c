package foreign

import (
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const exampleIss = "https://spec.smarthealth.cards/examples/issuer"

func readSHC(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "shc", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exampleKey is the example issuer's published private key (test use
// only), by kid.
func exampleKey(t testing.TB, kid string) *ecdsa.PrivateKey {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(readSHC(t, "issuer.jwks.private.json"), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Key(kid) {
		return k.Key.(*ecdsa.PrivateKey)
	}
	t.Fatalf("no private key %s", kid)
	return nil
}

func exampleTrust(t testing.TB) *Trust {
	t.Helper()
	keys, err := ParseJWKS(readSHC(t, "issuer.jwks.public.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trust{}
	tr.AddIssuer(exampleIss, "US", keys)
	crl, err := ParseCRL(readSHC(t, "crl-3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.AddCRL(exampleIss, crl); err != nil {
		t.Fatal(err)
	}
	return tr
}

const (
	kid1 = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
	kid2 = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw" // published with an x5c chain
	kid3 = "7rIUtD5K5Izrptr3ywgESTxhgJtJSeb06V42hg7WUDs" // private key published, public key not in the JWKS
)

var issued = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)

// labBundle is a negative PCR result, as a lab card carries it.
const labBundle = `{"resourceType":"Bundle","type":"collection","entry":[
 {"fullUrl":"resource:0","resource":{"resourceType":"Patient","name":[{"family":"Traveller","given":["Tess"]}],"birthDate":"1990-02-03"}},
 {"fullUrl":"resource:1","resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"94558-4"}]},
  "subject":{"reference":"resource:0"},"effectiveDateTime":"2021-06-01T08:00:00+00:00",
  "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}}}]}`

// TestSHCExampleIssuer issues cards from the example issuer's bundles with
// its published keys and verifies them against its public JWKS, in every
// form a card is met in: the compact JWS, the shc:/ numeric QR, and a
// .smart-health-card file.
func TestSHCExampleIssuer(t *testing.T) {
	tr := exampleTrust(t)
	v := &Verifier{Trust: tr}
	at := issued.Add(time.Hour)
	for _, tc := range []struct {
		bundle string
		kid    string
		types  []string
		kind   Kind
		holder Holder
	}{
		{"covid-vaccines-bundle.json", kid1, nil, KindVaccination, Holder{"Anyperson John B.", "1951-01-20"}},
		{"covid-vaccines-bundle.json", kid2, nil, KindVaccination, Holder{"Anyperson John B.", "1951-01-20"}},
		{"dr-bundle.json", kid1, []string{shcHealthCard, shcLaboratory}, KindTest, Holder{}},
		{"", kid1, []string{shcHealthCard, shcLaboratory, "https://smarthealth.cards#covid19"}, KindTest, Holder{"Traveller Tess", "1990-02-03"}},
	} {
		bundle := json.RawMessage(labBundle)
		if tc.bundle != "" {
			bundle = readSHC(t, tc.bundle)
		}
		jws, err := IssueSHC(exampleKey(t, tc.kid), Card{Iss: exampleIss, KID: tc.kid, NotBef: issued, Types: tc.types, Bundle: bundle})
		if err != nil {
			t.Fatal(err)
		}
		file, _ := json.Marshal(map[string]any{"verifiableCredential": []string{jws, jws}})
		for form, s := range map[string]string{"jws": jws, "numeric": NumericQR(jws), "file": string(file)} {
			r := v.Verify(s, at)
			if !r.Valid || r.Format != FormatSHC || r.Kind != tc.kind || r.Holder != tc.holder || r.Issuer != exampleIss || r.IssuerCountry != "US" {
				t.Errorf("%s %s as %s: %+v", tc.bundle, tc.kid, form, r)
			}
		}
	}
	r := v.Verify(mustIssue(t, labBundle, nil), at)
	if r.Details["result"] != "negative" || r.Details["sampled_at"] != "2021-06-01T08:00:00+00:00" {
		t.Errorf("lab details: %v", r.Details)
	}
}

func mustIssue(t testing.TB, bundle string, edit func(*Card)) string {
	t.Helper()
	c := Card{Iss: exampleIss, KID: kid1, NotBef: issued, Types: []string{shcHealthCard, shcLaboratory}, Bundle: json.RawMessage(bundle)}
	if edit != nil {
		edit(&c)
	}
	jws, err := IssueSHC(exampleKey(t, c.KID), c)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// TestSHCRefusals: each way a card fails gets its own reason.
func TestSHCRefusals(t *testing.T) {
	v := &Verifier{Trust: exampleTrust(t)}
	at := issued.Add(time.Hour)
	good := mustIssue(t, labBundle, nil)
	parts := strings.Split(good, ".")
	flipped := []byte(parts[2])
	if flipped[10] = 'A'; parts[2][10] == 'A' {
		flipped[10] = 'B'
	}
	revoked := string(readSHC(t, "revoked-bundle.json"))
	for _, tc := range []struct {
		name string
		in   string
		at   time.Time
		want Reason
	}{
		{"signature changed", parts[0] + "." + parts[1] + "." + string(flipped), at, ReasonBadSignature},
		{"payload of another card", parts[0] + "." + strings.Split(mustIssue(t, labBundle, func(c *Card) { c.NotBef = issued.Add(time.Minute) }), ".")[1] + "." + parts[2], at, ReasonBadSignature},
		{"key not in the JWKS", mustIssue(t, labBundle, func(c *Card) { c.KID = kid3 }), at, ReasonUnknownKey},
		{"issuer not trusted", mustIssue(t, labBundle, func(c *Card) { c.Iss = "https://issuer.example" }), at, ReasonUnknownKey},
		{"not yet valid", good, issued.Add(-time.Hour), ReasonNotYetValid},
		{"expired", mustIssue(t, labBundle, func(c *Card) { c.Exp = issued.Add(24 * time.Hour) }), issued.Add(48 * time.Hour), ReasonExpired},
		{"not a health card", mustIssue(t, labBundle, func(c *Card) { c.Types = []string{"VerifiableCredential"} }), at, ReasonVCType},
		{"revoked by rid", mustIssue(t, revoked, func(c *Card) { c.RID = "TqB_qu_6OtM"; c.Types = nil }), at, ReasonRevoked},
		{"revoked before a time", mustIssue(t, revoked, func(c *Card) { c.RID = "vwAjHdarZuc"; c.Types = nil }), at, ReasonRevoked},
		{"numeric digits odd", "shc:/567", at, ReasonBadNumeric},
		{"numeric pair over 77", "shc:/5678", at, ReasonBadNumeric},
		{"numeric chunk of two", "shc:/1/2/5676", at, ReasonBadNumeric},
		{"not a JWS", "a.b.c", at, ReasonBadJWS},
		{"card file without cards", `{"verifiableCredential":[]}`, at, ReasonBadJSON},
		{"garbage", "hello", at, ReasonBadPrefix},
		{"empty", "\r\n", at, ReasonEmpty},
	} {
		r := v.Verify(tc.in, tc.at)
		if r.Valid || !r.has(tc.want) {
			t.Errorf("%s: want %s, got valid %v %v", tc.name, tc.want, r.Valid, r.Reasons)
		}
	}
	// A card revoked before a time is valid when issued after it.
	late := mustIssue(t, revoked, func(c *Card) { c.RID = "vwAjHdarZuc"; c.Types = nil; c.NotBef = time.Unix(1664492125, 0) })
	if r := v.Verify(late, time.Unix(1664492125, 0).Add(time.Hour)); !r.Valid {
		t.Errorf("a card issued after its rid's revocation time: %v", r.Reasons)
	}
	if _, err := ParseJWKS(readSHC(t, "issuer.jwks.private.json")); err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("a private JWKS was accepted as trust: %v", err)
	}
}
