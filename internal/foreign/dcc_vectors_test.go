package foreign

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// dgcDir holds the EU DCC test vectors (a copy of the DCC test data
// repository's 2DCode/raw files: 17 countries and the common set).
var dgcDir = filepath.Join("testdata", "dgc")

type dgcVector struct {
	PREFIX  string `json:"PREFIX"`
	TESTCTX struct {
		CERTIFICATE     string `json:"CERTIFICATE"`
		VALIDATIONCLOCK string `json:"VALIDATIONCLOCK"`
		DESCRIPTION     string `json:"DESCRIPTION"`
	} `json:"TESTCTX"`
	EXPECTEDRESULTS map[string]any `json:"EXPECTEDRESULTS"`
}

// The expectations a verifier of the scanned text can be held to, and the
// reasons that say each step failed. UNPREFIX, B45DECODE, COMPRESSION and
// DECODE are checked only where they fail: a later step's success cannot
// be seen in a result that has no reason.
var dgcChecks = []struct {
	field   string
	reasons []Reason
}{
	{"EXPECTEDUNPREFIX", []Reason{ReasonBadPrefix}},
	{"EXPECTEDB45DECODE", []Reason{ReasonBadBase45}},
	{"EXPECTEDCOMPRESSION", []Reason{ReasonBadCompression}},
	{"EXPECTEDDECODE", []Reason{ReasonBadCOSE, ReasonBadCBOR}},
	{"EXPECTEDVERIFY", []Reason{ReasonBadCOSE, ReasonBadCBOR, ReasonUnknownKey, ReasonBadSignature}},
	{"EXPECTEDEXPIRATIONCHECK", []Reason{ReasonExpired, ReasonNotYetValid}},
	{"EXPECTEDKEYUSAGE", []Reason{ReasonKeyUsage}},
	{"EXPECTEDSCHEMAVALIDATION", []Reason{ReasonSchemaInvalid}},
}

// The steps before each one: a vector that expects a step to succeed
// while an earlier one fails (a broken prefix under a good signature, say)
// states what its producer checked on the raw fields, which the text
// cannot show.
var dgcBefore = map[string][]Reason{
	"EXPECTEDVERIFY":           {ReasonBadPrefix, ReasonBadBase45, ReasonBadCompression},
	"EXPECTEDEXPIRATIONCHECK":  {ReasonBadPrefix, ReasonBadBase45, ReasonBadCompression, ReasonBadCOSE, ReasonBadCBOR},
	"EXPECTEDKEYUSAGE":         {ReasonBadPrefix, ReasonBadBase45, ReasonBadCompression, ReasonBadCOSE, ReasonBadCBOR, ReasonUnknownKey, ReasonBadSignature},
	"EXPECTEDSCHEMAVALIDATION": {ReasonBadPrefix, ReasonBadBase45, ReasonBadCompression, ReasonBadCOSE, ReasonBadCBOR},
}

// knownDisagreements are the vectors whose expectation was judged by an
// older schema than the one a verifier holds today, with why.
var knownDisagreements = map[string]string{
	filepath.Join("HU", "2DCode", "raw", "3.json") + " EXPECTEDSCHEMAVALIDATION": "its testing centre (tc) has 100 characters; schema 1.3 allows 80 (the vector was judged by schema 1.0.0)",
}

// EXPTECTEDEXPIRED (sic), which a few vectors carry, is no expectation the
// test data defines, and contradicts their own times (an expiry a year
// after the validation clock): it is not checked.

// TestDCCVectors runs every EU DCC test vector: the QR text (PREFIX) is
// verified against the vector's signer certificate at its validation
// clock, and each expectation it states (prefix, base45, compression,
// decoding, signature, expiry, key usage, schema) must agree with the
// reasons the verifier gives.
func TestDCCVectors(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(dgcDir, "*", "2DCode", "raw", "*.json"))
	if len(files) == 0 {
		t.Fatalf("no EU DCC vectors under %s", dgcDir)
	}
	countries := map[string]bool{}
	agreed := map[string]int{}
	var total, unreadable, checked, disagreed int
	for _, f := range files {
		name, _ := filepath.Rel(dgcDir, f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v dgcVector
		if err := json.Unmarshal(raw, &v); err != nil {
			unreadable++ // upstream files that are not JSON state nothing
			t.Logf("%s: not JSON upstream, skipped: %v", name, err)
			continue
		}
		total++
		countries[strings.Split(name, string(filepath.Separator))[0]] = true
		var trust Trust
		if der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v.TESTCTX.CERTIFICATE)); err == nil {
			if cs, err := ParseCertificates([]byte(base64.StdEncoding.EncodeToString(der))); err == nil {
				trust.AddCertificate(cs[0])
			}
		}
		at, err := clock(v.TESTCTX.VALIDATIONCLOCK)
		if err != nil {
			t.Fatalf("%s: validation clock %q: %v", name, v.TESTCTX.VALIDATIONCLOCK, err)
		}
		res := (&Verifier{Trust: &trust, Skew: -1}).Verify(v.PREFIX, at)
		for _, c := range dgcChecks {
			want, ok := v.EXPECTEDRESULTS[c.field].(bool)
			if !ok {
				continue
			}
			blocked := false
			for _, r := range dgcBefore[c.field] {
				blocked = blocked || res.has(r)
			}
			if want && blocked {
				t.Errorf("%s (%s): %s true, but an earlier step failed: %v", name, v.TESTCTX.DESCRIPTION, c.field, res.Reasons)
				continue
			}
			failed := false
			for _, r := range c.reasons {
				failed = failed || res.has(r)
			}
			if !want && !failed && blocked {
				failed = true // the chain broke earlier: this step cannot succeed either
			}
			if why, ok := knownDisagreements[name+" "+c.field]; ok {
				if failed != want {
					t.Errorf("%s: %s now agrees; drop it from knownDisagreements", name, c.field)
				}
				t.Logf("%s: %s disagrees as known: %s", name, c.field, why)
				disagreed++
				continue
			}
			if failed == want {
				t.Errorf("%s (%s): %s %v, got reasons %v", name, v.TESTCTX.DESCRIPTION, c.field, want, res.Reasons)
				continue
			}
			agreed[c.field]++
			checked++
		}
	}
	keys := make([]string, 0, len(agreed))
	for k := range agreed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-26s %d vectors agree", k, agreed[k])
	}
	t.Logf("%d vectors of %d countries and the common set (%d not JSON upstream): %d expectations agree, %d known disagreements", total, len(countries)-1, unreadable, checked, disagreed)
	if len(countries) < 17 || total < 170 {
		t.Errorf("%d vectors in %d folders, want the 174 of 16 countries and the common set", total, len(countries))
	}
}

// clock reads a validation clock: RFC 3339, or the variants some countries
// wrote (+0000 for the zone, or none: UTC).
func clock(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		var at time.Time
		if at, err = time.Parse(layout, s); err == nil {
			return at, nil
		}
	}
	return time.Time{}, err
}

// A DCC issued with a signer limited to tests verifies as a test, and the
// same signer's vaccination certificate is refused for key usage.
func TestDCCIssuedKeyUsage(t *testing.T) {
	key, cert, err := NewSigner("DE", KindTest)
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trust{}
	tr.AddCertificate(cert)
	now := time.Now()
	d := DCC{Country: "DE", IssuedAt: now.Add(-time.Hour), Expires: now.Add(72 * time.Hour),
		Payload: TestDCC("DE", "Mustermann", "Erika", "1964-08-12", now.Add(-5*time.Hour))}
	qr, err := IssueDCC(key, cert, d)
	if err != nil {
		t.Fatal(err)
	}
	r := (&Verifier{Trust: tr}).Verify(qr, now)
	if !r.Valid || r.Kind != KindTest || r.IssuerCountry != "DE" || r.Details["result"] != "negative" || r.Holder.Name != "Mustermann Erika" {
		t.Fatalf("issued test DCC: %+v", r)
	}
	d.Payload = map[string]any{"ver": "1.3.0", "dob": "1964-08-12", "nam": map[string]any{"fnt": "MUSTERMANN"},
		"v": []any{map[string]any{"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528", "ma": "ORG-100030215", "dn": 2, "sd": 2,
			"dt": "2021-06-01", "co": "DE", "is": "RKI", "ci": "URN:UVCI:01:DE:X"}}}
	qr, _ = IssueDCC(key, cert, d)
	if r := (&Verifier{Trust: tr}).Verify(qr, now); r.Valid || !r.has(ReasonKeyUsage) || r.has(ReasonSchemaInvalid) {
		t.Fatalf("a vaccination signed by a test signer: %+v", r)
	}
}
