package codeformat

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// testKey derives a fixed private key from a label, so conformance vectors
// and their trust lists are reproducible. These keys are public: test only.
func testKey(tb testing.TB, alg Alg, label string) crypto.Signer {
	tb.Helper()
	seed := sha256.Sum256([]byte("healthcode test key " + alg.String() + " " + label))
	var (
		k   crypto.Signer
		err error
	)
	switch alg {
	case AlgEdDSA:
		k = ed25519.NewKeyFromSeed(seed[:])
	case AlgES256:
		k, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:])
	case AlgSM2:
		k, err = sm2.NewPrivateKey(seed[:])
	default:
		tb.Fatalf("no test key for %v", alg)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func testSigner(tb testing.TB, alg Alg, label string) *Signer {
	tb.Helper()
	s, err := NewSigner(testKey(tb, alg, label))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// testMACKey is the region MAC key of the test region.
var testMACKey = func() []byte {
	k := sha256.Sum256([]byte("healthcode test MAC key 341881"))
	return k[:]
}()

var testIAT = time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)

func testClaims() Claims {
	return Claims{
		Issuer:        "341881",
		IssuedAt:      testIAT,
		Expires:       testIAT.Add(3 * time.Minute),
		ID:            [8]byte{0xc7, 0x1d, 0x52, 0x9e, 0x04, 0xb3, 0x6a, 0xf0},
		Handle:        [8]byte{0x5e, 0x91, 0x0a, 0x3c, 0xd2, 0x77, 0x18, 0x4b},
		Color:         ColorGreen,
		MaskedName:    "张*离",
		Kind:          KindDynamic,
		StatusVersion: 42,
	}
}

func careClaims() Claims {
	c := testClaims()
	c.Kind, c.Color = KindCare, ColorNone
	c.Expires = c.IssuedAt.Add(14 * 24 * time.Hour)
	c.ID = [8]byte{0xca, 0x5e, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05}
	return c
}

// certClaims certify a negative test sampled two hours before issue.
func certClaims() Claims {
	c := testClaims()
	c.Kind, c.Color, c.StatusVersion = KindCertificate, ColorNone, 0
	c.Expires = c.IssuedAt.Add(7 * 24 * time.Hour)
	c.ID = [8]byte{0xce, 0x27, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05}
	c.Result, c.SampledAt, c.Site = TestNegative, c.IssuedAt.Add(-2*time.Hour), "宁国市人民医院采样点"
	return c
}

func trustFor(tb testing.TB, signers ...*Signer) TrustList {
	tb.Helper()
	tl := TrustList{}
	for _, s := range signers {
		if err := tl.Add(PublicKey{KID: s.KeyID(), Alg: s.Alg(), Key: s.Public(), Issuer: "341881"}); err != nil {
			tb.Fatal(err)
		}
	}
	return tl
}

func mustEncode(tb testing.TB, c Claims, s *Signer, mac []byte) string {
	tb.Helper()
	code, err := Encode(c, s, mac)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// wrap runs the outer stages on a COSE message: zlib, base45, prefix.
func wrap(cose []byte) string { return Prefix + Base45Encode(Compress(cose)) }

// signRaw builds a COSE_Sign1 from parts, for malformed messages.
func signRaw(tb testing.TB, protected, unprotected, payload []byte, s *Signer) []byte {
	tb.Helper()
	sig, err := s.Sign(AppendSigStructure(nil, protected, payload))
	if err != nil {
		tb.Fatal(err)
	}
	out := []byte{0xd2, 0x84}
	out = appendHead(out, majBytes, uint64(len(protected)))
	out = append(out, protected...)
	out = append(out, unprotected...)
	out = appendHead(out, majBytes, uint64(len(payload)))
	out = append(out, payload...)
	out = appendHead(out, majBytes, uint64(len(sig)))
	return append(out, sig...)
}

func reasonsEqual(a, b []Reason) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
