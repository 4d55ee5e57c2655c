package foreign

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzCheck holds what every answer keeps, whatever the input: no panic,
// valid exactly when there is no reason, and nothing valid that no trusted
// key signed.
func fuzzCheck(t *testing.T, trusted, untrusted *Verifier, s string) {
	at := issued.Add(time.Hour)
	r := trusted.Verify(s, at)
	if r.Valid != (len(r.Reasons) == 0) {
		t.Fatalf("valid %v with reasons %v", r.Valid, r.Reasons)
	}
	if u := untrusted.Verify(s, at); u.Valid {
		t.Fatalf("valid without trust: %+v", u)
	}
}

// FuzzDCC feeds the HC1: decoder: the DCC vectors' texts (seeds) and what
// the fuzzer makes of them (committed corpus in testdata/fuzz/FuzzDCC).
func FuzzDCC(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dgcDir, "common", "2DCode", "raw", "*.json"))
	for _, fn := range files {
		raw, _ := os.ReadFile(fn)
		var v dgcVector
		if json.Unmarshal(raw, &v) == nil {
			f.Add(v.PREFIX)
		}
	}
	f.Add("HC1:")
	f.Add("HC1:6BF")
	tr := &Trust{}
	f.Fuzz(func(t *testing.T, s string) {
		fuzzCheck(t, &Verifier{Trust: tr}, &Verifier{}, dccPrefix+trimPrefix(s, dccPrefix))
	})
}

// FuzzSHC feeds the SMART Health Card decoders: compact JWS, the shc:/
// numeric form and card files, from cards the example issuer signs.
func FuzzSHC(f *testing.F) {
	jws := mustIssue(f, labBundle, nil)
	f.Add(jws)
	f.Add(NumericQR(jws))
	file, _ := json.Marshal(map[string]any{"verifiableCredential": []string{jws}})
	f.Add(string(file))
	f.Add("shc:/1/1/5676")
	f.Add("eyJ6aXAiOiJERUYifQ..")
	trusted := &Verifier{Trust: exampleTrust(f)}
	f.Fuzz(func(t *testing.T, s string) {
		fuzzCheck(t, trusted, &Verifier{}, s)
	})
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
