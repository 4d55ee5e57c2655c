package codeformat

import (
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestCertificateRoundTrip(t *testing.T) {
	c := certClaims()
	b, err := MarshalClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseClaims(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, c)
	}
	// The wire form is what CODE-FORMAT.md says: keys 6, 7, 8 in our map,
	// no colour, status version 0.
	var m map[int64]any
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	hc := m[ClaimHealthCode].(map[any]any)
	want := map[any]any{
		uint64(1): []byte{0x5e, 0x91, 0x0a, 0x3c, 0xd2, 0x77, 0x18, 0x4b},
		uint64(3): "张*离", uint64(4): uint64(3), uint64(5): uint64(0),
		uint64(6): uint64(1), uint64(7): uint64(c.SampledAt.Unix()), uint64(8): "宁国市人民医院采样点",
	}
	if len(hc) != len(want) {
		t.Errorf("private claim has %d keys, want %d: %v", len(hc), len(want), hc)
	}
	for k, v := range want {
		if got := hc[k]; !equalAny(got, v) {
			t.Errorf("private claim key %v = %v, want %v", k, got, v)
		}
	}
}

func TestCertificateMarshalRefuses(t *testing.T) {
	for name, edit := range map[string]func(*Claims){
		"colour":               func(c *Claims) { c.Color = ColorGreen },
		"no result":            func(c *Claims) { c.Result = TestNone },
		"reserved result":      func(c *Claims) { c.Result = 3 },
		"no sampling time":     func(c *Claims) { c.SampledAt = time.Time{} },
		"sampled after issue":  func(c *Claims) { c.SampledAt = c.IssuedAt.Add(time.Second) },
		"no site":              func(c *Claims) { c.Site = "" },
		"site not UTF-8":       func(c *Claims) { c.Site = "\xff" },
		"dynamic with result":  func(c *Claims) { c.Kind, c.Color = KindDynamic, ColorGreen },
		"care with site":       func(c *Claims) { c.Kind, c.Result, c.SampledAt = KindCare, TestNone, time.Time{} },
		"care with sampled at": func(c *Claims) { c.Kind, c.Result, c.Site = KindCare, TestNone, "" },
	} {
		c := certClaims()
		edit(&c)
		if _, err := MarshalClaims(c); err == nil {
			t.Errorf("%s: MarshalClaims accepted %+v", name, c)
		}
	}
}

func TestCertificateParseReasons(t *testing.T) {
	enc := func(v any) []byte {
		b, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	claims := func(hc map[int]any) []byte {
		return enc(map[int]any{1: "341881", 4: 2000, 6: 1000, 7: make([]byte, 8), ClaimHealthCode: hc})
	}
	cert := func(edit map[int]any) map[int]any {
		m := map[int]any{1: make([]byte, 8), 3: "张*离", 4: 3, 5: 0, 6: 1, 7: 900, 8: "采样点"}
		for k, v := range edit {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	dynamic := map[int]any{1: make([]byte, 8), 2: 1, 3: "张*离", 4: 1, 5: 0}
	for _, tc := range []struct {
		name string
		b    []byte
		want Reason
	}{
		{"certificate", claims(cert(nil)), ""},
		{"unknown key ignored", claims(cert(map[int]any{9: "x"})), ""},
		{"no result", claims(cert(map[int]any{6: nil})), ReasonBadCOSE},
		{"no sampling time", claims(cert(map[int]any{7: nil})), ReasonBadCOSE},
		{"no site", claims(cert(map[int]any{8: nil})), ReasonBadCOSE},
		{"result 3 (reserved)", claims(cert(map[int]any{6: 3})), ReasonBadCOSE},
		{"result as text", claims(cert(map[int]any{6: "negative"})), ReasonBadCOSE},
		{"sampling time past 9999", claims(cert(map[int]any{7: uint64(1) << 62})), ReasonBadCOSE},
		{"empty site", claims(cert(map[int]any{8: ""})), ReasonBadCOSE},
		{"site not UTF-8", claims(cert(map[int]any{8: cbor.RawMessage{0x62, 0xff, 0xfe}})), ReasonBadCBOR},
		{"certificate with colour", claims(cert(map[int]any{2: 1})), ReasonBadCOSE},
		{"kind 4", claims(cert(map[int]any{4: 4})), ReasonBadCOSE},
		{"dynamic with a test result", claims(merge(dynamic, map[int]any{6: 1})), ReasonBadCOSE},
		{"dynamic with a site", claims(merge(dynamic, map[int]any{8: "采样点"})), ReasonBadCOSE},
	} {
		_, err := ParseClaims(tc.b)
		var got Reason
		var e *Error
		if errors.As(err, &e) {
			got = e.Reason
		} else if err != nil {
			t.Errorf("%s: untyped error %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: reason %q (%v), want %q", tc.name, got, err, tc.want)
		}
	}
}

func merge(a, b map[int]any) map[int]any {
	out := map[int]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// A certificate verifies offline, exposes its claims, and only where asked
// for: a health-code verifier (default kinds) refuses it, and a certificate
// verifier refuses health codes.
func TestVerifyCertificate(t *testing.T) {
	at := testIAT.Add(48 * time.Hour)
	for _, alg := range benchAlgs {
		s := testSigner(t, alg, "a")
		tl := trustFor(t, s)
		code := mustEncode(t, certClaims(), s, nil)
		certs := NewVerifier(tl, Options{Kinds: []Kind{KindCertificate}})
		r := certs.Verify(code, at)
		if !r.Valid || r.Claims != certClaims() {
			t.Errorf("%v: %+v", alg, r)
		}
		if r.Claims.Result != TestNegative || r.Claims.Site != "宁国市人民医院采样点" || !r.Claims.SampledAt.Equal(testIAT.Add(-2*time.Hour)) {
			t.Errorf("%v: claims %+v", alg, r.Claims)
		}
		if r := NewVerifier(tl, Options{}).Verify(code, at); r.Valid || !reasonsEqual(r.Reasons, []Reason{ReasonWrongKind}) {
			t.Errorf("%v: health-code verifier: %+v", alg, r)
		}
		if r := certs.Verify(mustEncode(t, testClaims(), s, nil), testIAT); r.Valid || !reasonsEqual(r.Reasons, []Reason{ReasonWrongKind}) {
			t.Errorf("%v: certificate verifier given a dynamic code: %+v", alg, r)
		}
		if r := certs.Verify(code, certClaims().Expires.Add(DefaultSkew)); r.Valid || !reasonsEqual(r.Reasons, []Reason{ReasonExpired}) {
			t.Errorf("%v: expired certificate: %+v", alg, r)
		}
		both := NewVerifier(tl, Options{Kinds: []Kind{KindDynamic, KindCertificate}})
		if r := both.Verify(code, at); !r.Valid {
			t.Errorf("%v: dynamic+certificate verifier: %+v", alg, r)
		}
	}
}

func TestCertificateText(t *testing.T) {
	b, err := KindCertificate.MarshalText()
	var k Kind
	if err != nil || string(b) != "certificate" || k.UnmarshalText(b) != nil || k != KindCertificate {
		t.Errorf("kind certificate: %s %v", b, err)
	}
	for _, r := range []TestResult{TestNone, TestNegative, Vaccinated} {
		b, err := r.MarshalText()
		var back TestResult
		if err != nil || back.UnmarshalText(b) != nil || back != r {
			t.Errorf("result %v: %s %v", r, b, err)
		}
	}
	if _, err := TestResult(3).MarshalText(); err == nil {
		t.Error("marshalled a reserved result")
	}
	var r TestResult
	if r.UnmarshalText([]byte("positive")) == nil {
		t.Error("accepted result positive: only negatives are certified")
	}
}
