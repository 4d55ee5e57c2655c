package codeformat

import (
	"bytes"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// rebuild re-serializes a parsed message with the given MAC (nil: none).
func rebuild(tb testing.TB, m *Sign1, mac []byte) string {
	tb.Helper()
	b, err := encMode.Marshal(cbor.Tag{Number: tagCOSESign1, Content: wireSign1{
		Protected: m.Protected, Unprotected: wireUnprotected{MAC: mac}, Payload: m.Payload, Signature: m.Signature,
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return wrap(b)
}

// forgeRed turns a green code red without re-signing it.
func forgeRed(tb testing.TB, code string) *Sign1 {
	tb.Helper()
	d, err := Decode(code)
	if err != nil {
		tb.Fatal(err)
	}
	m := d.Sign1
	if !bytes.Contains(m.Payload, []byte{hcColor, byte(ColorGreen), hcName}) {
		tb.Fatal("colour not found in payload")
	}
	m.Payload = bytes.Replace(m.Payload, []byte{hcColor, byte(ColorGreen), hcName}, []byte{hcColor, byte(ColorRed), hcName}, 1)
	return &m
}

func onlineOpts() Options {
	return Options{MACKeys: map[string][]byte{"341881": testMACKey}}
}

func TestVerifyRoundTrip(t *testing.T) {
	at := testIAT.Add(time.Minute)
	for _, alg := range benchAlgs {
		s := testSigner(t, alg, "a")
		tl := trustFor(t, s)
		for _, mac := range [][]byte{nil, testMACKey} {
			code := mustEncode(t, testClaims(), s, mac)
			if len(code) > 300 {
				t.Errorf("%v: code is %d characters", alg, len(code))
			}
			r := NewVerifier(tl, Options{}).Verify(code, at)
			if !r.Valid || r.ByMAC || r.Reasons != nil || r.Claims != testClaims() {
				t.Errorf("%v offline mac=%v: %+v", alg, mac != nil, r)
			}
			r = NewVerifier(tl, onlineOpts()).Verify(code, at)
			if !r.Valid || r.ByMAC != (mac != nil) || r.Claims != testClaims() {
				t.Errorf("%v online mac=%v: %+v", alg, mac != nil, r)
			}
			d, err := Decode(code)
			if err != nil || d.Claims != testClaims() || d.Alg != alg || d.KeyID != s.KeyID() || (d.MAC != nil) != (mac != nil) {
				t.Errorf("%v: Decode = %+v, %v", alg, d, err)
			}
		}
	}
}

func TestVerifyReasons(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	es := testSigner(t, AlgES256, "a")
	stranger := testSigner(t, AlgEdDSA, "stranger")
	tl := trustFor(t, ed, es)
	at := testIAT.Add(time.Minute)
	good := mustEncode(t, testClaims(), ed, testMACKey)
	care := mustEncode(t, careClaims(), ed, testMACKey)
	other := testClaims()
	other.Issuer = "110101"
	revokedID := careClaims().ID
	isRevoked := func(c *Claims) bool { return c.ID == revokedID }

	// A trust entry under es's kid holding ed's key, but saying ES256.
	mixed := TrustList{es.KeyID(): {KID: es.KeyID(), Alg: AlgES256, Key: ed.Public(), Issuer: "341881"}}
	// alg_mismatch: a code whose header says ES256 under ed's kid.
	esHeader, _ := encMode.Marshal(wireProtected{Alg: int64(AlgES256), KID: ed.kid[:]})
	payload, _ := MarshalClaims(testClaims())
	mismatch := wrap(signRaw(t, esHeader, []byte{0xa0}, payload, ed))

	windowed := trustFor(t, ed)
	k := windowed[ed.KeyID()]
	k.NotBefore = testIAT.Add(time.Second)
	windowed[ed.KeyID()] = k
	retired := trustFor(t, ed)
	k = retired[ed.KeyID()]
	k.NotAfter = testIAT.Add(-time.Second)
	retired[ed.KeyID()] = k

	for _, tc := range []struct {
		name  string
		code  string
		keys  Keys
		opts  Options
		at    time.Time
		want  []Reason
		byMAC bool
	}{
		{"valid", good, tl, Options{}, at, nil, false},
		{"bad prefix", "HC1:" + good[len(Prefix):], tl, Options{}, at, []Reason{ReasonBadPrefix}, false},
		{"lower-case prefix", "jkm1:" + good[len(Prefix):], tl, Options{}, at, []Reason{ReasonBadPrefix}, false},
		{"empty", "", tl, Options{}, at, []Reason{ReasonBadPrefix}, false},
		{"bad base45", good[:20] + "a" + good[21:], tl, Options{}, at, []Reason{ReasonBadBase45}, false},
		{"trailing newline", good + "\n", tl, Options{}, at, []Reason{ReasonBadBase45}, false},
		{"too long", Prefix + string(bytes.Repeat([]byte("0"), MaxCodeLen)), tl, Options{}, at, []Reason{ReasonBadBase45}, false},
		{"bad zlib", Prefix + Base45Encode([]byte("not zlib at all")), tl, Options{}, at, []Reason{ReasonBadZlib}, false},
		{"bad cbor", wrap([]byte{0xd2, 0x84, 0x40}), tl, Options{}, at, []Reason{ReasonBadCBOR}, false},
		{"bad cose", wrap([]byte{0xd2, 0x83, 0x40, 0xa0, 0x40}), tl, Options{}, at, []Reason{ReasonBadCOSE}, false},
		{"unknown key", mustEncode(t, testClaims(), stranger, nil), tl, Options{}, at, []Reason{ReasonUnknownKey}, false},
		{"empty trust list", good, TrustList{}, onlineOpts(), at, []Reason{ReasonUnknownKey}, false},
		{"key of another issuer", mustEncode(t, other, ed, nil), tl, Options{}, at, []Reason{ReasonUnknownKey}, false},
		{"issued before the key", good, windowed, Options{}, at, []Reason{ReasonUnknownKey}, false},
		{"issued after the key retired", good, retired, Options{}, at, []Reason{ReasonUnknownKey}, false},
		{"alg mismatch", mismatch, tl, Options{}, at, []Reason{ReasonAlgMismatch}, false},
		{"entry key of another type", mustEncode(t, testClaims(), es, nil), mixed, Options{}, at, []Reason{ReasonBadSignature}, false},
		{"forged", rebuild(t, forgeRed(t, good), nil), tl, onlineOpts(), at, []Reason{ReasonBadSignature}, false},
		{"forged, MAC under a wrong key", rebuild(t, forgeRed(t, good), ComputeMAC([]byte("guess"), AppendSigStructure(nil, forgeRed(t, good).Protected, forgeRed(t, good).Payload), forgeRed(t, good).Signature)), tl, onlineOpts(), at, []Reason{ReasonBadSignature}, false},
		{"forged, old MAC kept", rebuild(t, forgeRed(t, good), forgeRed(t, good).MAC), tl, onlineOpts(), at, []Reason{ReasonBadSignature}, false},
		{"expired", good, tl, Options{}, testIAT.Add(time.Hour), []Reason{ReasonExpired}, false},
		{"not yet valid", good, tl, Options{}, testIAT.Add(-time.Hour), []Reason{ReasonNotYetValid}, false},
		{"forged and expired", rebuild(t, forgeRed(t, good), nil), tl, Options{}, testIAT.Add(time.Hour), []Reason{ReasonBadSignature, ReasonExpired}, false},
		{"care without revocation check", care, tl, Options{}, at, []Reason{ReasonWrongKind}, false},
		{"care with revocation check", care, tl, Options{Revoked: func(*Claims) bool { return false }}, at, nil, false},
		{"care revoked", care, tl, Options{Revoked: isRevoked}, at, []Reason{ReasonRevoked}, false},
		{"care revoked, by MAC", care, tl, Options{Revoked: isRevoked, MACKeys: onlineOpts().MACKeys}, at, []Reason{ReasonRevoked}, true},
		{"care revoked and expired", care, tl, Options{Revoked: isRevoked}, testIAT.Add(15 * 24 * time.Hour), []Reason{ReasonExpired, ReasonRevoked}, false},
		{"care where dynamic expected", care, tl, Options{Revoked: isRevoked, Kinds: []Kind{KindDynamic}}, at, []Reason{ReasonRevoked, ReasonWrongKind}, false},
		{"dynamic where care expected", good, tl, Options{Kinds: []Kind{KindCare}}, at, []Reason{ReasonWrongKind}, false},
		{"valid by MAC", good, tl, onlineOpts(), at, nil, true},
		{"MAC of another region ignored", good, tl, Options{MACKeys: map[string][]byte{"110101": testMACKey}}, at, nil, false},
		{"rotated MAC key falls back", good, tl, Options{MACKeys: map[string][]byte{"341881": []byte("new key")}}, at, nil, false},
		{"MAC stripped falls back", rebuild(t, forgeRed(t, mustEncode(t, testClaims(), ed, nil)), nil), tl, onlineOpts(), at, []Reason{ReasonBadSignature}, false},
	} {
		r := NewVerifier(tc.keys, tc.opts).Verify(tc.code, tc.at)
		if r.Valid != (len(tc.want) == 0) || !reasonsEqual(r.Reasons, tc.want) || r.ByMAC != tc.byMAC {
			t.Errorf("%s: got valid=%v reasons=%v byMAC=%v, want %v byMAC=%v", tc.name, r.Valid, r.Reasons, r.ByMAC, tc.want, tc.byMAC)
		}
	}
}

// Online nodes skip the signature of their own region's codes, yet a code
// gets the same verdict there as anywhere: the MAC covers the signature, so
// a damaged signature fails the MAC too, and a signature of an impossible
// shape is refused before the MAC is looked at.
func TestMACSkipsSignature(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	es := testSigner(t, AlgES256, "b")
	at := testIAT.Add(time.Minute)
	if r := NewVerifier(trustFor(t, ed), onlineOpts()).Verify(mustEncode(t, testClaims(), ed, testMACKey), at); !r.Valid || !r.ByMAC {
		t.Errorf("online, good code: %+v", r)
	}
	for _, tc := range []struct {
		name   string
		signer *Signer
		sig    func(sig []byte) []byte
		remac  bool // the MAC made over the damaged signature by the MAC key
	}{
		{"zeroed", ed, func([]byte) []byte { return make([]byte, 64) }, false},
		{"one bit flipped", ed, func(s []byte) []byte { s = bytes.Clone(s); s[40] ^= 0x10; return s }, false},
		{"63 bytes", ed, func(s []byte) []byte { return s[:63] }, true},
		{"65 bytes", ed, func(s []byte) []byte { return append(bytes.Clone(s), 0) }, true},
		{"S not reduced", ed, func(s []byte) []byte {
			s = bytes.Clone(s)
			for i := range 32 {
				s[32+i] = orderEd25519[31-i]
			}
			return s
		}, true},
		{"ES256 r = 0", es, func(s []byte) []byte { s = bytes.Clone(s); clear(s[:32]); return s }, true},
		{"ES256 s = n", es, func(s []byte) []byte { s = bytes.Clone(s); copy(s[32:], orderP256[:]); return s }, true},
	} {
		d, _ := Decode(mustEncode(t, testClaims(), tc.signer, testMACKey))
		m := d.Sign1
		m.Signature = tc.sig(m.Signature)
		if tc.remac {
			m.MAC = ComputeMAC(testMACKey, AppendSigStructure(nil, m.Protected, m.Payload), m.Signature)
		}
		code := rebuild(t, &m, m.MAC)
		tl := trustFor(t, tc.signer)
		online := NewVerifier(tl, onlineOpts()).Verify(code, at)
		offline := NewVerifier(tl, Options{}).Verify(code, at)
		for name, r := range map[string]Result{"online": online, "offline": offline} {
			if r.Valid || r.ByMAC || !reasonsEqual(r.Reasons, []Reason{ReasonBadSignature}) {
				t.Errorf("%s, %s: %+v", tc.name, name, r)
			}
		}
	}
	// The MAC only counts for a trusted kid of the same issuer.
	if r := NewVerifier(TrustList{}, onlineOpts()).Verify(mustEncode(t, testClaims(), ed, testMACKey), at); r.Valid {
		t.Errorf("untrusted kid: %+v", r)
	}
}

func TestVerifyRevokedOnlyForAuthentic(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	called := 0
	v := NewVerifier(trustFor(t, ed), Options{Revoked: func(*Claims) bool { called++; return true }})
	forged := rebuild(t, forgeRed(t, mustEncode(t, testClaims(), ed, nil)), nil)
	if r := v.Verify(forged, testIAT); !reasonsEqual(r.Reasons, []Reason{ReasonBadSignature}) || called != 0 {
		t.Errorf("forged code: %v, revocation consulted %d times", r.Reasons, called)
	}
}

func TestClockSkewBoundaries(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	tl := trustFor(t, ed)
	c := testClaims()
	code := mustEncode(t, c, ed, nil)
	for _, tc := range []struct {
		skew time.Duration
		at   time.Time
		want []Reason
	}{
		{0, c.IssuedAt.Add(-DefaultSkew), nil},
		{0, c.IssuedAt.Add(-DefaultSkew - time.Nanosecond), []Reason{ReasonNotYetValid}},
		{0, c.Expires.Add(DefaultSkew - time.Nanosecond), nil},
		{0, c.Expires.Add(DefaultSkew), []Reason{ReasonExpired}},
		{5 * time.Second, c.IssuedAt.Add(-5 * time.Second), nil},
		{5 * time.Second, c.IssuedAt.Add(-6 * time.Second), []Reason{ReasonNotYetValid}},
		{5 * time.Second, c.Expires.Add(4 * time.Second), nil},
		{5 * time.Second, c.Expires.Add(5 * time.Second), []Reason{ReasonExpired}},
		{-1, c.IssuedAt, nil},
		{-1, c.IssuedAt.Add(-time.Nanosecond), []Reason{ReasonNotYetValid}},
		{-1, c.Expires.Add(-time.Nanosecond), nil},
		{-1, c.Expires, []Reason{ReasonExpired}},
	} {
		r := NewVerifier(tl, Options{Skew: tc.skew}).Verify(code, tc.at)
		if !reasonsEqual(r.Reasons, tc.want) {
			t.Errorf("skew %v at %v: %v, want %v", tc.skew, tc.at.Sub(c.IssuedAt), r.Reasons, tc.want)
		}
	}
}

// Encode drops sub-second precision; the verifier sees whole seconds.
func TestTimesAreSeconds(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	c := testClaims()
	c.IssuedAt = c.IssuedAt.Add(900 * time.Millisecond)
	d, err := Decode(mustEncode(t, c, ed, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Claims.IssuedAt.Equal(testIAT) || d.Claims.IssuedAt.Location() != time.UTC {
		t.Errorf("issued-at %v", d.Claims.IssuedAt)
	}
}

func TestVerifierConcurrent(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	v := NewVerifier(trustFor(t, ed), onlineOpts())
	codes := []string{mustEncode(t, testClaims(), ed, testMACKey), mustEncode(t, testClaims(), ed, nil)}
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range 200 {
				r := v.Verify(codes[(g+i)%2], testIAT)
				ok = ok && r.Valid && r.ByMAC == ((g+i)%2 == 0) && r.Claims == testClaims()
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("concurrent verification gave a wrong result")
		}
	}
}
