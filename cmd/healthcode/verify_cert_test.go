package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// A signed test certificate verifies offline as kind certificate, with
// its result, sampling time and site.
func TestVerifyCommandCertificate(t *testing.T) {
	key, err := codeformat.GenerateKey(codeformat.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := codeformat.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	iat := time.Now().Add(-time.Hour).Truncate(time.Second)
	sampled := iat.Add(-20 * time.Hour)
	code, err := codeformat.Encode(codeformat.Claims{Issuer: "341881", IssuedAt: iat, Expires: iat.Add(7 * 24 * time.Hour),
		ID: codeformat.NewID(), Handle: [8]byte{1, 2, 3}, MaskedName: "李*0", Kind: codeformat.KindCertificate,
		Result: codeformat.TestNegative, SampledAt: sampled, Site: "西津采样点"}, signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: signer.KeyID(), Alg: signer.Alg(), Key: key.Public(), Issuer: "341881"}); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tl)
	file := filepath.Join(t.TempDir(), "trust.json")
	os.WriteFile(file, raw, 0o600)
	out, text, err := runCmd("verify", "--trust-list", file, code)
	if err != nil || out["valid"] != true || out["kind"] != "certificate" || out["result"] != "negative" ||
		out["result_at"] != sampled.UTC().Format(time.RFC3339) || out["certifies"] != "西津采样点" || out["color"] != nil {
		t.Fatalf("verify a certificate: %v\n%s", err, text)
	}
}
