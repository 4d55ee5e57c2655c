package codeformat

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

func TestClaimsRoundTrip(t *testing.T) {
	for _, c := range []Claims{testClaims(), careClaims()} {
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
	}
}

// The payload is read back by an independent decoder with the documented
// keys and types, so the format is what CODE-FORMAT.md says it is.
func TestClaimsWireFormat(t *testing.T) {
	b, err := MarshalClaims(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	var m map[int64]any
	if err := cbor.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m[1] != "341881" || m[4] != uint64(testIAT.Unix()+180) || m[6] != uint64(testIAT.Unix()) {
		t.Errorf("iss/exp/iat: %v", m)
	}
	if hex.EncodeToString(m[7].([]byte)) != "c71d529e04b36af0" {
		t.Errorf("cti: %x", m[7])
	}
	hc, ok := m[ClaimHealthCode].(map[any]any)
	if !ok {
		t.Fatalf("claim %d: %T", ClaimHealthCode, m[ClaimHealthCode])
	}
	want := map[any]any{
		uint64(1): []byte{0x5e, 0x91, 0x0a, 0x3c, 0xd2, 0x77, 0x18, 0x4b},
		uint64(2): uint64(1), uint64(3): "张*离", uint64(4): uint64(1), uint64(5): uint64(42),
	}
	if len(hc) != len(want) {
		t.Errorf("private claim has %d keys, want %d: %v", len(hc), len(want), hc)
	}
	for k, v := range want {
		if got := hc[k]; !equalAny(got, v) {
			t.Errorf("private claim key %v = %v, want %v", k, got, v)
		}
	}
	// Care codes carry no colour key at all.
	b, _ = MarshalClaims(careClaims())
	m = nil
	_ = cbor.Unmarshal(b, &m)
	if _, has := m[ClaimHealthCode].(map[any]any)[uint64(2)]; has {
		t.Error("care code carries a colour")
	}
}

func equalAny(a, b any) bool {
	if ab, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && string(ab) == string(bb)
	}
	return a == b
}

func TestMarshalClaimsRefuses(t *testing.T) {
	for name, edit := range map[string]func(*Claims){
		"no issuer":        func(c *Claims) { c.Issuer = "" },
		"no name":          func(c *Claims) { c.MaskedName = "" },
		"bad utf-8 name":   func(c *Claims) { c.MaskedName = "\xff" },
		"no id":            func(c *Claims) { c.ID = [8]byte{} },
		"expiry first":     func(c *Claims) { c.Expires = c.IssuedAt },
		"zero time":        func(c *Claims) { c.IssuedAt = time.Time{} },
		"dynamic no color": func(c *Claims) { c.Color = ColorNone },
		"bad color":        func(c *Claims) { c.Color = 9 },
		"care with color":  func(c *Claims) { c.Kind = KindCare },
		"no kind":          func(c *Claims) { c.Kind = 0 },
	} {
		c := testClaims()
		edit(&c)
		if _, err := MarshalClaims(c); err == nil {
			t.Errorf("%s: MarshalClaims accepted %+v", name, c)
		}
	}
}

func TestParseClaimsReasons(t *testing.T) {
	enc := func(v any) []byte {
		b, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hc := func(extra map[int]any) map[int]any {
		m := map[int]any{1: make([]byte, 8), 2: 1, 3: "张*离", 4: 1, 5: 0}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	claims := func(extra map[int]any) map[int]any {
		m := map[int]any{1: "341881", 4: 2000, 6: 1000, 7: make([]byte, 8), ClaimHealthCode: hc(nil)}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want Reason
	}{
		{"valid", enc(claims(nil)), ""},
		{"unknown claims ignored", enc(claims(map[int]any{2: "sub", -70000: []int{1, 2}, 5: 3})), ""},
		{"unknown private keys ignored", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{9: "x"})})), ""},
		{"text keys ignored", enc(map[any]any{1: "341881", 4: 2000, 6: 1000, 7: make([]byte, 8), ClaimHealthCode: hc(nil), "foo": 1}), ""},
		{"truncated", enc(claims(nil))[:20], ReasonBadCBOR},
		{"trailing byte", append(enc(claims(nil)), 0), ReasonBadCBOR},
		{"indefinite map", []byte{0xbf, 0xff}, ReasonBadCBOR},
		{"not a map", enc([]int{1}), ReasonBadCOSE},
		{"no issuer", enc(claims(map[int]any{1: nil})), ReasonBadCOSE},
		{"empty issuer", enc(claims(map[int]any{1: ""})), ReasonBadCOSE},
		{"issuer not text", enc(claims(map[int]any{1: 341881})), ReasonBadCOSE},
		{"no exp", enc(claims(map[int]any{4: nil})), ReasonBadCOSE},
		{"float exp", enc(claims(map[int]any{4: 2000.5})), ReasonBadCOSE},
		{"negative iat", enc(claims(map[int]any{6: -1})), ReasonBadCOSE},
		{"exp past year 9999", enc(claims(map[int]any{4: uint64(1) << 62})), ReasonBadCOSE},
		{"cti 7 bytes", enc(claims(map[int]any{7: make([]byte, 7)})), ReasonBadCOSE},
		{"no private claim", enc(claims(map[int]any{ClaimHealthCode: nil})), ReasonBadCOSE},
		{"private claim not a map", enc(claims(map[int]any{ClaimHealthCode: 1})), ReasonBadCOSE},
		{"handle 9 bytes", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{1: make([]byte, 9)})})), ReasonBadCOSE},
		{"colour 0", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{2: 0})})), ReasonBadCOSE},
		{"colour 4", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{2: 4})})), ReasonBadCOSE},
		{"dynamic without colour", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{2: nil})})), ReasonBadCOSE},
		{"care with colour", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{4: 2})})), ReasonBadCOSE},
		{"care without colour", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{4: 2, 2: nil})})), ""},
		{"kind 3", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{4: 3})})), ReasonBadCOSE},
		{"no name", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{3: nil})})), ReasonBadCOSE},
		{"no version", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{5: nil})})), ReasonBadCOSE},
		{"name not UTF-8", enc(claims(map[int]any{ClaimHealthCode: hc(map[int]any{3: cbor.RawMessage{0x62, 0xff, 0xfe}})})), ReasonBadCBOR},
		// a5 01 ... with iss twice: the second must not silently win.
		{"duplicate iss", append([]byte{0xa6, 0x01, 0x61, 0x41}, enc(claims(nil))[1:]...), ReasonBadCBOR},
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

func TestKindColorText(t *testing.T) {
	for _, k := range []Kind{KindDynamic, KindCare} {
		b, err := k.MarshalText()
		var back Kind
		if err != nil || back.UnmarshalText(b) != nil || back != k {
			t.Errorf("kind %v: %s %v", k, b, err)
		}
	}
	for _, c := range []Color{ColorNone, ColorGreen, ColorYellow, ColorRed} {
		b, err := c.MarshalText()
		var back Color
		if err != nil || back.UnmarshalText(b) != nil || back != c {
			t.Errorf("color %v: %s %v", c, b, err)
		}
	}
	if !(ColorGreen < ColorYellow && ColorYellow < ColorRed) {
		t.Error("colours are not ordered worst-last")
	}
	var k Kind
	if k.UnmarshalText([]byte("static")) == nil {
		t.Error("accepted kind static")
	}
	var c Color
	if c.UnmarshalText([]byte("blue")) == nil {
		t.Error("accepted colour blue")
	}
}
