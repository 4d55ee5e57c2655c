package codeformat

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"
)

// seedCodes are the conformance set's codes plus a few odd strings.
func seedCodes(f *testing.F) []*vector {
	vs := loadVectors(f)
	out := make([]*vector, 0, len(vs))
	for _, name := range slices.Sorted(maps.Keys(vs)) {
		out = append(out, vs[name])
	}
	return out
}

var structural = []Reason{ReasonBadPrefix, ReasonBadBase45, ReasonBadZlib, ReasonBadCBOR, ReasonBadCOSE}

func FuzzDecode(f *testing.F) {
	for _, v := range seedCodes(f) {
		f.Add(v.PREFIX)
	}
	for _, s := range []string{"", Prefix, Prefix + "0", Prefix + "00", "HC1:", Prefix + "%%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Decode(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !slices.Contains(structural, e.Reason) {
				t.Fatalf("Decode error %v is not a structural *Error", err)
			}
			// Verify reports the same single reason.
			r := NewVerifier(TrustList{}, Options{}).Verify(s, testIAT)
			if r.Valid || !reasonsEqual(r.Reasons, []Reason{e.Reason}) {
				t.Fatalf("Decode says %s, Verify says %v", e.Reason, r.Reasons)
			}
			return
		}
		c := d.Claims
		if c.Issuer == "" || (c.Kind != KindDynamic && c.Kind != KindCare && c.Kind != KindCertificate) {
			t.Fatalf("Decode accepted claims %+v", c)
		}
		if (c.Color == ColorNone) != (c.Kind != KindDynamic) {
			t.Fatalf("colour %v on a %v code", c.Color, c.Kind)
		}
		if cert := c.Kind == KindCertificate; cert != (c.Result == TestNegative) || cert != (c.Site != "") || cert != !c.SampledAt.IsZero() {
			t.Fatalf("test fields %v %v %q on a %v code", c.Result, c.SampledAt, c.Site, c.Kind)
		}
		if d.MAC != nil && len(d.MAC) != MACSize {
			t.Fatalf("MAC of %d bytes", len(d.MAC))
		}
	})
}

// FuzzVerify mutates the COSE layer (wrapping it in zlib and base45 for
// each run), where a fuzzer can reach the parser, and checks that the
// verifier never panics, never calls a code valid without a trusted key and
// a correct MAC or signature, and reports stable, ordered reasons.
func FuzzVerify(f *testing.F) {
	for _, v := range seedCodes(f) {
		if b := hexOf(v.COSE); b != nil {
			f.Add(b, int64(0))
		}
	}
	ed, es, sm := testSigner(f, AlgEdDSA, "a"), testSigner(f, AlgES256, "a"), testSigner(f, AlgSM2, "a")
	tl := trustFor(f, ed, es, sm)
	opts := Options{MACKeys: map[string][]byte{"341881": testMACKey}, Revoked: func(c *Claims) bool { return c.ID[0]&1 == 1 }}
	online, offline := NewVerifier(tl, opts), NewVerifier(tl, Options{})
	untrusting := NewVerifier(TrustList{}, opts)
	f.Fuzz(func(t *testing.T, cose []byte, clock int64) {
		code := wrap(cose)
		at := testIAT.Add(time.Duration(clock%(1<<40)) * time.Second)
		for _, v := range []*Verifier{online, offline} {
			r := v.Verify(code, at)
			checkResult(t, r)
			if again := v.Verify(code, at); !reflect.DeepEqual(r, again) {
				t.Fatalf("unstable: %+v then %+v", r, again)
			}
			if !r.Valid {
				continue
			}
			d, err := Decode(code)
			if err != nil || d.Claims != r.Claims {
				t.Fatalf("valid, but Decode gives %v", err)
			}
			key, ok := tl[d.KeyID]
			if !ok || key.Alg != d.Alg || key.Issuer != d.Claims.Issuer {
				t.Fatalf("valid under kid %x alg %v issuer %q", d.KeyID, d.Alg, d.Claims.Issuer)
			}
			tbs := AppendSigStructure(nil, d.Protected, d.Payload)
			if r.ByMAC {
				if v == offline || !bytes.Equal(d.MAC, ComputeMAC(testMACKey, tbs, d.Signature)) {
					t.Fatal("valid by a MAC that does not check")
				}
			} else if !verifySignature(key.Alg, key.Key, tbs, d.Signature) {
				t.Fatal("valid by a signature that does not check")
			}
		}
		if r := untrusting.Verify(code, at); r.Valid {
			t.Fatal("valid without a trusted key")
		}
	})
}

// checkResult asserts the shape every Result must have.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	if r.Valid != (len(r.Reasons) == 0) {
		t.Fatalf("valid=%v with reasons %v", r.Valid, r.Reasons)
	}
	last := -1
	for _, x := range r.Reasons {
		i := slices.Index(Reasons, x)
		if i <= last {
			t.Fatalf("reasons %v unknown, repeated or out of order", r.Reasons)
		}
		last = i
	}
	if len(r.Reasons) > 0 && slices.Contains(structural, r.Reasons[0]) && len(r.Reasons) != 1 {
		t.Fatalf("structural reason with others: %v", r.Reasons)
	}
}
