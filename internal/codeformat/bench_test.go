package codeformat

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

var benchAlgs = []Alg{AlgEdDSA, AlgES256, AlgSM2}

type fixture struct {
	signer *Signer
	claims Claims
	code   string // with MAC
	trust  TrustList
	mac    []byte
	at     time.Time
}

func newFixture(tb testing.TB, alg Alg) *fixture {
	tb.Helper()
	key, err := GenerateKey(alg)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSigner(key)
	if err != nil {
		tb.Fatal(err)
	}
	iat := time.Date(2022, 4, 1, 8, 0, 0, 0, time.UTC)
	f := &fixture{
		signer: s,
		claims: Claims{
			Issuer: "341881", IssuedAt: iat, Expires: iat.Add(3 * time.Minute),
			ID: NewID(), Handle: NewID(), Color: ColorGreen, MaskedName: "张*离",
			Kind: KindDynamic, StatusVersion: 42,
		},
		trust: TrustList{},
		mac:   []byte("0123456789abcdef0123456789abcdef"),
		at:    iat.Add(time.Minute),
	}
	if err := f.trust.Add(PublicKey{KID: s.KeyID(), Alg: alg, Key: s.Public(), Issuer: "341881"}); err != nil {
		tb.Fatal(err)
	}
	if f.code, err = Encode(f.claims, s, f.mac); err != nil {
		tb.Fatal(err)
	}
	return f
}

func BenchmarkEncode(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			f := newFixture(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(f.claims, f.signer, f.mac); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	f := newFixture(b, AlgEdDSA)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(f.code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the offline path: no MAC keys, so every code costs a
// signature check. Compare with BenchmarkRawVerify of the same algorithm.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			f := newFixture(b, alg)
			v := NewVerifier(f.trust, Options{})
			b.ReportAllocs()
			for b.Loop() {
				if r := v.Verify(f.code, f.at); !r.Valid || r.ByMAC {
					b.Fatal(r.Reasons)
				}
			}
		})
	}
}

// BenchmarkVerifyMAC is the online path of the issuing region's own nodes.
func BenchmarkVerifyMAC(b *testing.B) {
	f := newFixture(b, AlgEdDSA)
	v := NewVerifier(f.trust, Options{MACKeys: map[string][]byte{"341881": f.mac}})
	b.ReportAllocs()
	for b.Loop() {
		if r := v.Verify(f.code, f.at); !r.Valid || !r.ByMAC {
			b.Fatal(r.Reasons)
		}
	}
}

// rawVerifier returns the bare signature check over the code's
// Sig_structure with each library's own API and its native signature
// encoding (DER for ECDSA and SM2): the ceiling Verify is measured against.
func rawVerifier(tb testing.TB, f *fixture, alg Alg) func() bool {
	d, err := Decode(f.code)
	if err != nil {
		tb.Fatal(err)
	}
	msg := AppendSigStructure(nil, d.Protected, d.Payload)
	der := appendDER(nil, d.Signature)
	switch pub := f.signer.Public().(type) {
	case ed25519.PublicKey:
		return func() bool { return ed25519.Verify(pub, msg, d.Signature) }
	case *ecdsa.PublicKey:
		if alg == AlgSM2 {
			return func() bool { return sm2.VerifyASN1WithSM2(pub, nil, msg, der) }
		}
		return func() bool {
			h := sha256.Sum256(msg)
			return ecdsa.VerifyASN1(pub, h[:], der)
		}
	}
	tb.Fatalf("no raw verifier for %v", alg)
	return nil
}

func BenchmarkRawVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			verify := rawVerifier(b, newFixture(b, alg), alg)
			b.ReportAllocs()
			for b.Loop() {
				if !verify() {
					b.Fatal("raw verify failed")
				}
			}
		})
	}
}

// BenchmarkVerifyVsRaw interleaves Verify and the raw signature check in
// one loop, alternating which goes first, so that load from neighbours on
// a shared machine hits both alike. It reports each one's time and Verify's
// rate as a percentage of the raw rate (the design asks for at least 90).
func BenchmarkVerifyVsRaw(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg.String(), func(b *testing.B) {
			f := newFixture(b, alg)
			raw := rawVerifier(b, f, alg)
			v := NewVerifier(f.trust, Options{})
			var tRaw, tVerify time.Duration
			i := 0
			for b.Loop() {
				t0 := time.Now()
				if i&1 == 0 {
					raw()
					t1 := time.Now()
					v.Verify(f.code, f.at)
					tRaw += t1.Sub(t0)
					tVerify += time.Since(t1)
				} else {
					v.Verify(f.code, f.at)
					t1 := time.Now()
					raw()
					tVerify += t1.Sub(t0)
					tRaw += time.Since(t1)
				}
				i++
			}
			b.ReportMetric(float64(tRaw.Nanoseconds())/float64(i), "raw-ns/op")
			b.ReportMetric(float64(tVerify.Nanoseconds())/float64(i), "verify-ns/op")
			b.ReportMetric(100*float64(tRaw)/float64(tVerify), "%-of-raw-rate")
		})
	}
}
