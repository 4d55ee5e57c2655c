package main

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/healthcode/healthcode/internal/foreign"
)

var foreignData = filepath.Join("..", "..", "internal", "foreign", "testdata")

// dccVector returns a DCC test vector's QR text, its signer certificate
// (base64 DER) and its validation clock.
func dccVector(t *testing.T, name string) (qr, cert string, at time.Time) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(foreignData, "dgc", "common", "2DCode", "raw", name))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PREFIX  string
		TESTCTX struct{ CERTIFICATE, VALIDATIONCLOCK string }
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	at, err = time.Parse(time.RFC3339Nano, v.TESTCTX.VALIDATIONCLOCK)
	if err != nil {
		t.Fatal(err)
	}
	return v.PREFIX, v.TESTCTX.CERTIFICATE, at
}

func TestVerifyForeignCommand(t *testing.T) {
	dir := t.TempDir()
	qr, cert, at := dccVector(t, "CO28.json")
	certFile := filepath.Join(dir, "dsc.b64")
	os.WriteFile(certFile, []byte(cert+"\n"), 0o600)
	out, text, err := runCmd("verify", "--foreign", "--trust-cert", certFile, "--at", at.Format(time.RFC3339), qr)
	if err != nil || out["valid"] != true || out["format"] != "eu_dcc" || out["kind"] != "vaccination" || out["issuer_country"] == nil {
		t.Fatalf("a valid DCC: %v\n%s", err, text)
	}
	// A year later it has expired: exit status 1 and the reason.
	out, text, err = runCmd("verify", "--foreign", "--trust-cert", certFile, "--at", at.AddDate(2, 0, 0).Format(time.RFC3339), qr)
	if ec, ok := err.(exitCode); !ok || ec != 1 || out["valid"] != false || !strings.Contains(text, `"expired"`) {
		t.Fatalf("an expired DCC: %v\n%s", err, text)
	}
	// Another signer: unknown_key.
	_, other, _ := dccVector(t, "CO1.json")
	os.WriteFile(certFile, []byte(other), 0o600)
	if _, text, err = runCmd("verify", "--foreign", "--trust-cert", certFile, "--at", at.Format(time.RFC3339), qr); !strings.Contains(text, `"unknown_key"`) {
		t.Fatalf("another signer: %v\n%s", err, text)
	}

	// A SMART Health Card, as a card file, against the issuer's JWKS bound
	// to its iss, and refused for another iss.
	var set jose.JSONWebKeySet
	b, _ := os.ReadFile(filepath.Join(foreignData, "shc", "issuer.jwks.private.json"))
	json.Unmarshal(b, &set)
	key := set.Key("3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s")[0].Key.(*ecdsa.PrivateKey)
	bundle, _ := os.ReadFile(filepath.Join(foreignData, "shc", "covid-vaccines-bundle.json"))
	const iss = "https://spec.smarthealth.cards/examples/issuer"
	jws, err := foreign.IssueSHC(key, foreign.Card{Iss: iss, KID: "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s", NotBef: time.Now().Add(-time.Hour), Bundle: bundle})
	if err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(dir, "card.smart-health-card")
	file, _ := json.Marshal(map[string]any{"verifiableCredential": []string{jws}})
	os.WriteFile(card, file, 0o600)
	pub := filepath.Join(foreignData, "shc", "issuer.jwks.public.json")
	out, text, err = runCmd("verify", "--foreign", "--trust-jwks", iss+"="+pub, "@"+card)
	if err != nil || out["valid"] != true || out["format"] != "shc" || out["kind"] != "vaccination" {
		t.Fatalf("a card file: %v\n%s", err, text)
	}
	if h, _ := out["holder"].(map[string]any); h["name"] != "Anyperson John B." || h["birth_date"] != "1951-01-20" {
		t.Fatalf("holder: %s", text)
	}
	if _, text, _ = runCmd("verify", "--foreign", "--trust-jwks", "https://other.example="+pub, foreign.NumericQR(jws)); !strings.Contains(text, `"unknown_key"`) {
		t.Fatalf("a JWKS bound to another iss: %s", text)
	}
	// Usage errors are errors.
	if _, _, err := runCmd("verify", "--foreign", jws); err == nil || !strings.Contains(err.Error(), "--trust") {
		t.Fatalf("no trust: %v", err)
	}
}

func TestTrustCommand(t *testing.T) {
	dir := t.TempDir()
	_, cert, _ := dccVector(t, "CO3.json")
	der, _ := base64.StdEncoding.DecodeString(cert)
	pemFile := filepath.Join(dir, "dsc.pem")
	os.WriteFile(pemFile, []byte("-----BEGIN CERTIFICATE-----\n"+base64.StdEncoding.EncodeToString(der)+"\n-----END CERTIFICATE-----\n"), 0o600)
	store := []string{"--data-dir", dir}
	const iss = "https://spec.smarthealth.cards/examples/issuer"
	args := append([]string{"trust", "import", "--cert", pemFile, "--jwks", filepath.Join(foreignData, "shc", "issuer.jwks.public.json"),
		"--iss", iss, "--country", "US", "--crl", filepath.Join(foreignData, "shc", "crl-3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")}, store...)
	if _, text, err := runCmd(args...); err != nil {
		t.Fatalf("import: %v\n%s", err, text)
	}
	var stdout, stderr strings.Builder
	if err := realMain(t.Context(), append([]string{"trust", "list", "--json"}, store...), &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	var list []map[string]any
	json.Unmarshal([]byte(stdout.String()), &list)
	kinds := map[string]bool{}
	for _, e := range list {
		kinds[e["kind"].(string)] = true
	}
	if len(list) != 3 || !kinds["certificate"] || !kinds["jwks"] || !kinds["crl"] {
		t.Fatalf("list: %s", stdout.String())
	}
	// Refused: a private JWKS, a JWKS without its iss, garbage.
	for _, bad := range [][]string{
		{"--jwks", filepath.Join(foreignData, "shc", "issuer.jwks.private.json"), "--iss", iss},
		{"--jwks", filepath.Join(foreignData, "shc", "issuer.jwks.public.json")},
		{"--cert", filepath.Join(foreignData, "shc", "SOURCE.md")},
	} {
		if _, text, err := runCmd(append(append([]string{"trust", "import"}, bad...), store...)...); err == nil {
			t.Errorf("trust import %v accepted: %s", bad, text)
		}
	}
}
