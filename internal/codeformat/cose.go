package codeformat

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// COSE header labels and tags (RFC 9052), and ours.
const (
	headerAlg  = 1
	headerCrit = 2
	headerKID  = 4
	// HeaderMAC is the unprotected header label of the region MAC, from the
	// private-use range (below -65536) of the COSE Header Parameters registry.
	HeaderMAC = -65538
	// MACSize is the length of the region MAC: HMAC-SHA256 truncated.
	MACSize = 16

	tagCWT       = 61
	tagCOSESign1 = 18
)

// Sign1 is a parsed COSE_Sign1 message. Its slices point into the bytes it
// was parsed from.
type Sign1 struct {
	Alg       Alg
	KeyID     KeyID
	MAC       []byte // nil when the message carries no MAC
	Protected []byte // the serialized protected header, as signed
	Payload   []byte
	Signature []byte
}

type wireProtected struct {
	Alg int64  `cbor:"1,keyasint"`
	KID []byte `cbor:"4,keyasint"`
}

type wireUnprotected struct {
	MAC []byte `cbor:"-65538,keyasint,omitempty"`
}

type wireSign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected wireUnprotected
	Payload     []byte
	Signature   []byte
}

// SignCOSE wraps payload in a tagged COSE_Sign1 signed by s. With a non-empty
// macKey it also puts the region MAC in the unprotected header.
func SignCOSE(payload []byte, s *Signer, macKey []byte) ([]byte, error) {
	return signCOSE(payload, s.alg, s.kid, s.Sign, macKey)
}

func signCOSE(payload []byte, alg Alg, kid KeyID, sign func([]byte) ([]byte, error), macKey []byte) ([]byte, error) {
	protected, err := encMode.Marshal(wireProtected{Alg: int64(alg), KID: kid[:]})
	if err != nil {
		return nil, err
	}
	tbs := AppendSigStructure(nil, protected, payload)
	sig, err := sign(tbs)
	if err != nil {
		return nil, fmt.Errorf("code: sign: %w", err)
	}
	msg := wireSign1{Protected: protected, Payload: payload, Signature: sig}
	if len(macKey) > 0 {
		msg.Unprotected.MAC = ComputeMAC(macKey, tbs, sig)
	}
	return encMode.Marshal(cbor.Tag{Number: tagCOSESign1, Content: msg})
}

// sigContext is the CBOR text "Signature1", the context of COSE_Sign1.
const sigContext = "\x6aSignature1"

// AppendSigStructure appends the COSE Sig_structure
// ["Signature1", protected, h”, payload] (RFC 9052 section 4.4) to dst:
// the bytes that are signed and MACed.
func AppendSigStructure(dst, protected, payload []byte) []byte {
	dst = append(dst, 0x84)
	dst = append(dst, sigContext...)
	dst = appendHead(dst, majBytes, uint64(len(protected)))
	dst = append(dst, protected...)
	dst = append(dst, 0x40) // external_aad: empty
	dst = appendHead(dst, majBytes, uint64(len(payload)))
	return append(dst, payload...)
}

func appendHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= 0xff:
		return append(dst, m|24, byte(n))
	case n <= 0xffff:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// ComputeMAC is the region MAC of a signed Sig_structure: the first 16
// bytes of HMAC-SHA256, under the issuing region's MAC key, of the
// Sig_structure followed by the signature's bytes. Covering the signature
// means a code whose signature was damaged fails the MAC too, so the issuing
// region refuses exactly what an offline verifier refuses.
func ComputeMAC(key, sigStructure, signature []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(sigStructure)
	h.Write(signature)
	return h.Sum(nil)[:MACSize]
}

var (
	errNotSign1     = errors.New("not a COSE_Sign1 array of four items")
	errHeader       = errors.New("protected header lacks alg or an 8-byte kid, or has crit")
	errUnprotected  = errors.New("unprotected header is not a map, or its MAC is not 16 bytes")
	errDetached     = errors.New("payload is not a byte string")
	errSignatureTyp = errors.New("signature is not a byte string")
)

// ParseSign1 parses a COSE_Sign1 message (tagged 18, optionally inside the
// CWT tag 61, or untagged). The result points into b.
func ParseSign1(b []byte) (*Sign1, error) {
	var m Sign1
	if err := decMode.Wellformed(b); err != nil {
		return nil, &Error{Reason: ReasonBadCBOR, Err: err}
	}
	if r, err := parseSign1(b, &m); r != "" {
		return nil, &Error{Reason: r, Err: err}
	}
	return &m, nil
}

// parseSign1 reads a well-formed COSE_Sign1 into m.
func parseSign1(b []byte, m *Sign1) (Reason, error) {
	r := cborReader{b: b}
	// Optional tags: 61 (CWT) then 18, as the EU DCC test data allows.
	maj, v, ok := r.head()
	if ok && maj == majTag && v == tagCWT {
		maj, v, ok = r.head()
	}
	if ok && maj == majTag && v == tagCOSESign1 {
		maj, v, ok = r.head()
	}
	if !ok || maj != majArray || v != 4 {
		return ReasonBadCOSE, errNotSign1
	}
	if m.Protected, ok = r.bytes(); !ok {
		return ReasonBadCOSE, errHeader
	}
	if rs, err := parseProtected(m.Protected, m); rs != "" {
		return rs, err
	}
	if rs, err := parseUnprotected(&r, m); rs != "" {
		return rs, err
	}
	if m.Payload, ok = r.bytes(); !ok {
		return ReasonBadCOSE, errDetached
	}
	if m.Signature, ok = r.bytes(); !ok {
		return ReasonBadCOSE, errSignatureTyp
	}
	return "", nil
}

func parseProtected(b []byte, m *Sign1) (Reason, error) {
	if len(b) == 0 { // the empty map, so no alg
		return ReasonBadCOSE, errHeader
	}
	if err := decMode.Wellformed(b); err != nil {
		return ReasonBadCBOR, err
	}
	r := cborReader{b: b}
	n, ok := r.mapHeader()
	if !ok {
		return ReasonBadCOSE, errHeader
	}
	var haveAlg, haveKID bool
	for ; n > 0; n-- {
		key, isInt, ok := r.label()
		if !ok {
			return ReasonBadCOSE, errHeader
		}
		switch {
		case isInt && key == headerAlg:
			if haveAlg {
				return ReasonBadCBOR, errDupKey
			}
			var a int64
			a, ok = r.int()
			m.Alg, haveAlg = Alg(a), true
		case isInt && key == headerKID:
			if haveKID {
				return ReasonBadCBOR, errDupKey
			}
			var kid []byte
			kid, ok = r.bytes()
			ok = ok && len(kid) == len(m.KeyID)
			copy(m.KeyID[:], kid)
			haveKID = true
		case isInt && key == headerCrit:
			// We understand no header that could be marked critical, so a
			// message that insists on one must be refused (RFC 9052 3.1).
			return ReasonBadCOSE, errHeader
		default:
			ok = r.skip()
		}
		if !ok {
			return ReasonBadCOSE, errHeader
		}
	}
	if !haveAlg || !haveKID {
		return ReasonBadCOSE, errHeader
	}
	return "", nil
}

func parseUnprotected(r *cborReader, m *Sign1) (Reason, error) {
	n, ok := r.mapHeader()
	if !ok {
		return ReasonBadCOSE, errUnprotected
	}
	m.MAC = nil
	for ; n > 0; n-- {
		key, isInt, ok := r.label()
		if !ok {
			return ReasonBadCOSE, errUnprotected
		}
		if isInt && key == HeaderMAC {
			if m.MAC != nil {
				return ReasonBadCBOR, errDupKey
			}
			m.MAC, ok = r.bytes()
			ok = ok && len(m.MAC) == MACSize
		} else {
			ok = r.skip()
		}
		if !ok {
			return ReasonBadCOSE, errUnprotected
		}
	}
	return "", nil
}
