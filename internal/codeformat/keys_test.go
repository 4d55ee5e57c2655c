package codeformat

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

func TestKeysMarshalRoundTrip(t *testing.T) {
	for _, alg := range benchAlgs {
		key, err := GenerateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := AlgFor(key.Public()); err != nil || got != alg {
			t.Fatalf("%v: AlgFor = %v, %v", alg, got, err)
		}
		der, err := MarshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePrivateKey(der)
		if err != nil {
			t.Fatalf("%v: ParsePrivateKey: %v", alg, err)
		}
		pubDER, err := MarshalPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		pub, palg, err := ParsePublicKey(pubDER)
		if err != nil || palg != alg {
			t.Fatalf("%v: ParsePublicKey: %v %v", alg, palg, err)
		}
		backDER, _ := MarshalPublicKey(back.Public())
		pubDER2, _ := MarshalPublicKey(pub)
		if !bytes.Equal(backDER, pubDER) || !bytes.Equal(pubDER2, pubDER) {
			t.Errorf("%v: public key changed in a round trip", alg)
		}
		// A key read back signs codes the original's trust entry accepts.
		s, err := NewSigner(back)
		if err != nil {
			t.Fatal(err)
		}
		kid, _ := KeyIDFor(key.Public())
		if s.KeyID() != kid || s.Alg() != alg {
			t.Errorf("%v: signer kid %x alg %v, want %x", alg, s.KeyID(), s.Alg(), kid)
		}
		msg := []byte("to be signed")
		sig, err := s.Sign(msg)
		if err != nil || len(sig) != 64 {
			t.Fatalf("%v: Sign: %d bytes, %v", alg, len(sig), err)
		}
		if !verifySignature(alg, pub, msg, sig) {
			t.Errorf("%v: signature does not verify", alg)
		}
		if verifySignature(alg, pub, []byte("to be signeD"), sig) {
			t.Errorf("%v: signature verifies another message", alg)
		}
	}
}

// Public keys are SPKI that standard X.509 code reads (for Ed25519 and
// P-256) and that carry the SM2 curve OID 1.2.156.10197.1.301 for SM2.
func TestPublicKeyDER(t *testing.T) {
	for _, alg := range []Alg{AlgEdDSA, AlgES256} {
		der, _ := MarshalPublicKey(testKey(t, alg, "a").Public())
		if _, err := x509.ParsePKIXPublicKey(der); err != nil {
			t.Errorf("%v: crypto/x509 cannot read our SPKI: %v", alg, err)
		}
	}
	der, _ := MarshalPublicKey(testKey(t, AlgSM2, "a").Public())
	if !bytes.Contains(der, []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d}) {
		t.Errorf("SM2 SPKI lacks the SM2 curve OID: %x", der)
	}
}

func TestKeyIDForIsStable(t *testing.T) {
	// The first 8 bytes of SHA-256 over the SPKI of the fixed test key; a
	// change here would orphan every deployed trust list.
	kid, err := KeyIDFor(testKey(t, AlgEdDSA, "a").Public())
	if err != nil {
		t.Fatal(err)
	}
	der, _ := MarshalPublicKey(testKey(t, AlgEdDSA, "a").Public())
	if len(der) != 44 {
		t.Errorf("Ed25519 SPKI is %d bytes, want 44", len(der))
	}
	other, _ := KeyIDFor(testKey(t, AlgEdDSA, "b").Public())
	if kid == other {
		t.Error("two keys share a kid")
	}
}

func TestUnsupportedKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, k := range map[string]crypto.Signer{"rsa": rsaKey, "p384": p384} {
		if _, err := AlgFor(k.Public()); err == nil {
			t.Errorf("%s: AlgFor accepted", name)
		}
		if _, err := MarshalPublicKey(k.Public()); err == nil {
			t.Errorf("%s: MarshalPublicKey accepted", name)
		}
	}
	if _, err := NewSigner(rsaKey); err == nil {
		t.Error("NewSigner accepted RSA")
	}
	if _, err := GenerateKey(Alg(-37)); err == nil {
		t.Error("GenerateKey accepted PS256")
	}
	if _, err := ParsePrivateKey([]byte("junk")); err == nil {
		t.Error("ParsePrivateKey accepted junk")
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	if _, err := ParsePrivateKey(der); err == nil {
		t.Error("ParsePrivateKey accepted RSA")
	}
}

// verifySignature must refuse, not panic, on every mismatch of key type,
// curve, key length and signature length.
func TestVerifySignatureNeverPanics(t *testing.T) {
	msg := []byte("m")
	sig := make([]byte, 64)
	keys := []any{
		nil, "string", ed25519.PublicKey(make([]byte, 5)), ed25519.PublicKey(make([]byte, 32)),
		testKey(t, AlgES256, "a").Public(), testKey(t, AlgSM2, "a").Public(), testKey(t, AlgEdDSA, "a").Public(),
	}
	for _, alg := range []Alg{AlgEdDSA, AlgES256, AlgSM2, -37, 0} {
		for _, k := range keys {
			for _, s := range [][]byte{nil, sig[:10], sig, make([]byte, 72)} {
				if verifySignature(alg, k, msg, s) {
					t.Errorf("%v %T %d: verified a zero signature", alg, k, len(s))
				}
			}
		}
	}
}

func TestDERConversion(t *testing.T) {
	for _, tc := range []struct{ raw, der string }{
		// small positive values, and high bits that need a leading zero
		{"00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002",
			"3006020101020102"},
		{"80000000000000000000000000000000000000000000000000000000000000007f00000000000000000000000000000000000000000000000000000000000000",
			"3045022100800000000000000000000000000000000000000000000000000000000000000002207f00000000000000000000000000000000000000000000000000000000000000"},
		{"0000000000000000000000000000000000000000000000000000000000000000ff00000000000000000000000000000000000000000000000000000000000000",
			"302602010002210" + "0ff00000000000000000000000000000000000000000000000000000000000000"},
	} {
		raw, _ := hex.DecodeString(tc.raw)
		got := hex.EncodeToString(appendDER(nil, raw))
		if got != tc.der {
			t.Errorf("appendDER(%s) = %s, want %s", tc.raw, got, tc.der)
		}
		der, _ := hex.DecodeString(tc.der)
		back, err := derToRaw(der)
		if err != nil || !bytes.Equal(back, raw) {
			t.Errorf("derToRaw(%s) = %x, %v", tc.der, back, err)
		}
	}
	for _, bad := range []string{"", "3000", "30060201010201", "3006020101020102ff",
		"3025022200" + "ff" + "0000000000000000000000000000000000000000000000000000000000000000020100"} {
		der, _ := hex.DecodeString(bad)
		if _, err := derToRaw(der); err == nil {
			t.Errorf("derToRaw(%s) accepted", bad)
		}
	}
}

// SM2 signatures follow GB/T 32918.2 with the default user id: gmsm's own
// message-level verifier (which hashes Z_A || M with SM3) accepts ours.
func TestSM2SignatureIsStandard(t *testing.T) {
	s := testSigner(t, AlgSM2, "a")
	msg := []byte("abc")
	sig, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	pub := s.Public().(*ecdsa.PublicKey)
	if !sm2.VerifyASN1WithSM2(pub, []byte("1234567812345678"), msg, appendDER(nil, sig)) {
		t.Error("gmsm does not verify our SM2 signature with the default user id")
	}
	if sm2.VerifyASN1WithSM2(pub, []byte("another user id!"), msg, appendDER(nil, sig)) {
		t.Error("our SM2 signature verifies under another user id")
	}
}
