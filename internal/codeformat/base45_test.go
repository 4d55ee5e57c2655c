package codeformat

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestBase45RFC9285(t *testing.T) {
	// Examples from RFC 9285 sections 4.3 and 4.4.
	for _, tc := range []struct{ plain, enc string }{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
	} {
		if got := Base45Encode([]byte(tc.plain)); got != tc.enc {
			t.Errorf("Base45Encode(%q) = %q, want %q", tc.plain, got, tc.enc)
		}
		got, err := Base45Decode(tc.enc)
		if err != nil || string(got) != tc.plain {
			t.Errorf("Base45Decode(%q) = %q, %v; want %q", tc.enc, got, err, tc.plain)
		}
	}
}

func TestBase45Rejects(t *testing.T) {
	for _, s := range []string{
		"A",      // dangling single character
		"BB8A",   // dangling after a group
		"GGW",    // 16 + 16*45 + 32*2025 = 65536: over two bytes
		":::",    // 44 + 44*45 + 44*2025 = 91124
		"::",     // 44 + 44*45 = 2024: over one byte
		"bb8",    // lower case is not in the alphabet
		"BB#",    // neither is '#'
		"BB\x00", // nor NUL
		"BB8\xff\xff",
	} {
		if b, err := Base45Decode(s); err == nil {
			t.Errorf("Base45Decode(%q) = %x, want an error", s, b)
		}
	}
	// The largest values that do fit are accepted.
	for _, s := range []string{"FGW", "U5"} { // 65535 and 255
		if _, err := Base45Decode(s); err != nil {
			t.Errorf("Base45Decode(%q): %v", s, err)
		}
	}
}

func TestBase45RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		enc := Base45Encode(b)
		for i := 0; i < len(enc); i++ {
			if base45Values[enc[i]] == 0xff {
				t.Fatalf("Base45Encode produced %q outside the alphabet", enc[i])
			}
		}
		got, err := Base45Decode(enc)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %x: %x, %v", b, got, err)
		}
	}
}
