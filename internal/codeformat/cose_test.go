package codeformat

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"
	cose "github.com/veraison/go-cose"
)

var coseAlg = map[Alg]cose.Algorithm{AlgEdDSA: cose.AlgorithmEdDSA, AlgES256: cose.AlgorithmES256}

// go-cose, an independent COSE implementation, verifies the COSE_Sign1 we
// make, with and without the MAC in the unprotected header.
func TestGoCOSEVerifiesOurs(t *testing.T) {
	for alg, calg := range coseAlg {
		s := testSigner(t, alg, "a")
		payload, _ := MarshalClaims(testClaims())
		for _, mac := range [][]byte{nil, testMACKey} {
			b, err := SignCOSE(payload, s, mac)
			if err != nil {
				t.Fatal(err)
			}
			var msg cose.Sign1Message
			if err := msg.UnmarshalCBOR(b); err != nil {
				t.Fatalf("%v: go-cose cannot parse ours: %v", alg, err)
			}
			v, err := cose.NewVerifier(calg, s.Public())
			if err != nil {
				t.Fatal(err)
			}
			if err := msg.Verify(nil, v); err != nil {
				t.Errorf("%v mac=%v: go-cose rejects our signature: %v", alg, mac != nil, err)
			}
			if kid, _ := msg.Headers.Protected[cose.HeaderLabelKeyID].([]byte); !bytes.Equal(kid, s.kid[:]) {
				t.Errorf("%v: go-cose sees kid %x", alg, kid)
			}
			if got, _ := msg.Headers.Unprotected[int64(HeaderMAC)].([]byte); mac != nil && len(got) != MACSize {
				t.Errorf("%v: go-cose sees MAC %x", alg, got)
			}
			msg.Payload[len(msg.Payload)-1] ^= 1
			if err := msg.Verify(nil, v); err == nil {
				t.Errorf("%v: go-cose verifies a changed payload", alg)
			}
		}
	}
}

// goCOSESign1 has go-cose make the COSE_Sign1 of payload, adding our MAC.
func goCOSESign1(t testing.TB, alg Alg, s *Signer, payload, mac []byte) []byte {
	signer, err := cose.NewSigner(coseAlg[alg], s.key)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(coseAlg[alg])
	msg.Headers.Protected[cose.HeaderLabelKeyID] = s.kid[:]
	msg.Payload = payload
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	if mac != nil {
		pb, err := msg.Headers.MarshalProtected()
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := cbor.Unmarshal(pb, &raw); err != nil {
			t.Fatal(err)
		}
		msg.Headers.Unprotected[int64(HeaderMAC)] = ComputeMAC(mac, AppendSigStructure(nil, raw, payload), msg.Signature)
	}
	b, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goCOSECode makes a whole code whose COSE layer go-cose signed.
func goCOSECode(t testing.TB, alg Alg, s *Signer, c Claims, mac []byte) string {
	payload, err := MarshalClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	return wrap(goCOSESign1(t, alg, s, payload, mac))
}

// We verify codes whose COSE layer go-cose made, by signature and by MAC.
func TestWeVerifyGoCOSE(t *testing.T) {
	for alg := range coseAlg {
		s := testSigner(t, alg, "a")
		code := goCOSECode(t, alg, s, testClaims(), testMACKey)
		at := testIAT.Add(30e9)
		offline := NewVerifier(trustFor(t, s), Options{})
		if r := offline.Verify(code, at); !r.Valid || r.ByMAC {
			t.Errorf("%v: offline %+v", alg, r)
		}
		online := NewVerifier(trustFor(t, s), Options{MACKeys: map[string][]byte{"341881": testMACKey}})
		if r := online.Verify(code, at); !r.Valid || !r.ByMAC {
			t.Errorf("%v: online %+v", alg, r)
		}
	}
}

func TestParseSign1(t *testing.T) {
	s := testSigner(t, AlgEdDSA, "a")
	payload, _ := MarshalClaims(testClaims())
	tagged, _ := SignCOSE(payload, s, testMACKey)
	untagged := tagged[1:]
	cwt := append([]byte{0xd8, 0x3d}, tagged...) // tag 61 around tag 18, as EU DCC CO28
	for name, b := range map[string][]byte{"tagged": tagged, "untagged": untagged, "cwt": cwt} {
		m, err := ParseSign1(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Alg != AlgEdDSA || m.KeyID != s.kid || !bytes.Equal(m.Payload, payload) || len(m.MAC) != MACSize || len(m.Signature) != 64 {
			t.Errorf("%s: %+v", name, m)
		}
		if !bytes.Equal(m.MAC, ComputeMAC(testMACKey, AppendSigStructure(nil, m.Protected, m.Payload), m.Signature)) {
			t.Errorf("%s: MAC is not over the Sig_structure", name)
		}
	}

	enc := func(v any) []byte {
		b, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	prot := func(m map[int]any) []byte { return enc(m) }
	okProt := prot(map[int]any{1: -8, 4: s.kid[:]})
	sig := make([]byte, 64)
	for _, tc := range []struct {
		name string
		b    []byte
		want Reason
	}{
		{"tag 18 around tag 61", append([]byte{0xd2, 0xd8, 0x3d}, untagged...), ReasonBadCOSE},
		{"other tag", append([]byte{0xd8, 0x62}, untagged...), ReasonBadCOSE},
		{"three items", enc(cbor.Tag{Number: 18, Content: []any{okProt, map[int]any{}, payload}}), ReasonBadCOSE},
		{"a map", enc(map[int]int{1: 1}), ReasonBadCOSE},
		{"protected not bytes", enc([]any{map[int]any{1: -8}, map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"protected not CBOR", enc([]any{[]byte{0xa1, 0x01}, map[int]any{}, payload, sig}), ReasonBadCBOR},
		{"protected empty", enc([]any{[]byte{}, map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"protected empty map", enc([]any{prot(map[int]any{}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"no alg", enc([]any{prot(map[int]any{4: s.kid[:]}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"text alg", enc([]any{prot(map[int]any{1: "EdDSA", 4: s.kid[:]}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"no kid", enc([]any{prot(map[int]any{1: -8}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"kid only unprotected", enc([]any{prot(map[int]any{1: -8}), map[int]any{4: s.kid[:]}, payload, sig}), ReasonBadCOSE},
		{"kid 7 bytes", enc([]any{prot(map[int]any{1: -8, 4: s.kid[:7]}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"kid 9 bytes", enc([]any{prot(map[int]any{1: -8, 4: append(s.kid[:], 0)}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"crit", enc([]any{prot(map[int]any{1: -8, 2: []int{-70000}, 4: s.kid[:], -70000: 1}), map[int]any{}, payload, sig}), ReasonBadCOSE},
		{"duplicate alg", enc([]any{append([]byte{0xa3, 0x01, 0x26}, okProt[1:]...), map[int]any{}, payload, sig}), ReasonBadCBOR},
		{"unprotected not a map", enc([]any{okProt, []int{}, payload, sig}), ReasonBadCOSE},
		{"MAC 15 bytes", enc([]any{okProt, map[int]any{HeaderMAC: make([]byte, 15)}, payload, sig}), ReasonBadCOSE},
		{"MAC as text", enc([]any{okProt, map[int]any{HeaderMAC: "0123456789abcdef"}, payload, sig}), ReasonBadCOSE},
		{"detached payload", enc([]any{okProt, map[int]any{}, nil, sig}), ReasonBadCOSE},
		{"signature as text", enc([]any{okProt, map[int]any{}, payload, "sig"}), ReasonBadCOSE},
		{"trailing byte", append(bytes.Clone(tagged), 0), ReasonBadCBOR},
		{"truncated", tagged[:len(tagged)-1], ReasonBadCBOR},
		{"indefinite array", append([]byte{0xd2, 0x9f}, append(untagged[1:], 0xff)...), ReasonBadCBOR},
		{"deep nesting", bytes.Repeat([]byte{0x81}, 100), ReasonBadCBOR},
		{"huge length", []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ReasonBadCBOR},
		{"empty", nil, ReasonBadCBOR},
		// Unknown headers are ignored, in either bucket.
		{"extra headers", enc([]any{prot(map[int]any{1: -8, 4: s.kid[:], 3: "application/cwt", -70000: []int{1}}), map[any]any{33: []byte{1}, "x": 1}, payload, sig}), ""},
		{"unknown alg parses", enc([]any{prot(map[int]any{1: -37, 4: s.kid[:]}), map[int]any{}, payload, sig}), ""},
	} {
		_, err := ParseSign1(tc.b)
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
