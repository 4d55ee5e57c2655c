package codeformat

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Alg is a COSE algorithm identifier.
type Alg int64

const (
	// AlgEdDSA is Ed25519 (RFC 9053 EdDSA), the default.
	AlgEdDSA Alg = -8
	// AlgES256 is ECDSA on P-256 with SHA-256; the signature is r||s, 64 bytes.
	AlgES256 Alg = -7
	// AlgSM2 is SM2 with SM3 (GB/T 32918.2, GM/T 0009) using the default
	// user id "1234567812345678"; the signature is r||s, 64 bytes. COSE has
	// no registration for SM2, so this is a value from the private-use range
	// (below -65536) of the COSE Algorithms registry.
	AlgSM2 Alg = -65539
)

func (a Alg) String() string {
	switch a {
	case AlgEdDSA:
		return "EdDSA"
	case AlgES256:
		return "ES256"
	case AlgSM2:
		return "SM2"
	}
	return fmt.Sprintf("alg(%d)", int64(a))
}

// MarshalText writes the trust-list spelling.
func (a Alg) MarshalText() ([]byte, error) {
	if !a.known() {
		return nil, fmt.Errorf("code: unsupported algorithm %d", int64(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads the trust-list spelling.
func (a *Alg) UnmarshalText(b []byte) error {
	switch string(b) {
	case "EdDSA":
		*a = AlgEdDSA
	case "ES256":
		*a = AlgES256
	case "SM2":
		*a = AlgSM2
	default:
		return fmt.Errorf("code: unsupported algorithm %q", b)
	}
	return nil
}

func (a Alg) known() bool { return a == AlgEdDSA || a == AlgES256 || a == AlgSM2 }

// KeyID is the 8-byte key identifier in the protected header.
type KeyID [8]byte

// KeyIDFor derives a key id: the first 8 bytes of the SHA-256 of the
// public key's SubjectPublicKeyInfo DER.
func KeyIDFor(pub crypto.PublicKey) (KeyID, error) {
	der, err := MarshalPublicKey(pub)
	if err != nil {
		return KeyID{}, err
	}
	sum := sha256.Sum256(der)
	return KeyID(sum[:8]), nil
}

// PublicKey is a trust-list entry.
type PublicKey struct {
	KID    KeyID
	Alg    Alg
	Key    crypto.PublicKey // ed25519.PublicKey or *ecdsa.PublicKey (P-256 or SM2 curve)
	Issuer string           // region code; only codes with this issuer verify under the key
	// NotBefore and NotAfter bound the issued-at of codes the key may have
	// signed (its signing period); zero means unbounded. A retired key stays
	// in the list past NotAfter until the codes it signed have expired.
	NotBefore, NotAfter time.Time
}

// AlgFor tells which algorithm a public key is for.
func AlgFor(pub crypto.PublicKey) (Alg, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return AlgEdDSA, nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return AlgES256, nil
		case sm2.P256():
			return AlgSM2, nil
		}
	}
	return 0, fmt.Errorf("code: unsupported public key %T", pub)
}

// GenerateKey makes a new private key for alg.
func GenerateKey(alg Alg) (crypto.Signer, error) {
	switch alg {
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgSM2:
		return sm2.GenerateKey(rand.Reader)
	}
	return nil, fmt.Errorf("code: unsupported algorithm %v", alg)
}

// MarshalPublicKey returns the SubjectPublicKeyInfo DER of pub. SM2 keys
// use id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301 (GM/T 0015).
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if _, err := AlgFor(pub); err != nil {
		return nil, err
	}
	return smx509.MarshalPKIXPublicKey(pub)
}

// ParsePublicKey reads a SubjectPublicKeyInfo DER written by
// MarshalPublicKey (or by any X.509 tool) for one of our algorithms.
func ParsePublicKey(der []byte) (crypto.PublicKey, Alg, error) {
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, 0, fmt.Errorf("code: parse public key: %w", err)
	}
	alg, err := AlgFor(pub)
	if err != nil {
		return nil, 0, err
	}
	return pub, alg, nil
}

// MarshalPrivateKey returns the PKCS #8 DER of key. The key store encrypts
// it before it touches a disk.
func MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	if _, err := AlgFor(key.Public()); err != nil {
		return nil, err
	}
	return smx509.MarshalPKCS8PrivateKey(key)
}

// ParsePrivateKey reads PKCS #8 DER written by MarshalPrivateKey.
func ParsePrivateKey(der []byte) (crypto.Signer, error) {
	k, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("code: parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("code: unsupported private key %T", k)
	}
	if _, err := AlgFor(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// Signer signs codes with one private key.
type Signer struct {
	key crypto.Signer
	alg Alg
	kid KeyID
}

// NewSigner wraps an Ed25519, P-256 or SM2 private key (or any crypto.Signer
// holding one, such as an HSM handle) with the key id KeyIDFor gives.
func NewSigner(key crypto.Signer) (*Signer, error) {
	alg, err := AlgFor(key.Public())
	if err != nil {
		return nil, err
	}
	kid, err := KeyIDFor(key.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, alg: alg, kid: kid}, nil
}

// Alg is the algorithm the signer's key is for.
func (s *Signer) Alg() Alg { return s.alg }

// KeyID is the id written in the protected header.
func (s *Signer) KeyID() KeyID { return s.kid }

// Public is the public key to publish in the trust list.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Sign returns the raw COSE signature of msg: 64 bytes for each algorithm.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	switch s.alg {
	case AlgEdDSA:
		return s.key.Sign(rand.Reader, msg, crypto.Hash(0))
	case AlgES256:
		digest := sha256.Sum256(msg)
		der, err := s.key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return derToRaw(der)
	case AlgSM2:
		// SM2 signers take the message and hash it with SM3 after the
		// Z value of the default user id (GB/T 32918.2 section 6.1).
		der, err := s.key.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
		if err != nil {
			return nil, err
		}
		return derToRaw(der)
	}
	return nil, fmt.Errorf("code: unsupported algorithm %v", s.alg)
}

const scalarSize = 32 // P-256 and SM2 scalars

var errDERSignature = errors.New("code: malformed DER signature")

// derToRaw turns an ASN.1 ECDSA-Sig-Value into the fixed-width r||s that
// COSE uses (RFC 9053 section 2.1).
func derToRaw(der []byte) ([]byte, error) {
	var inner cryptobyte.String
	var r, s []byte
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, cbasn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return nil, errDERSignature
	}
	out := make([]byte, 2*scalarSize)
	for i, v := range [][]byte{r, s} {
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > scalarSize {
			return nil, errDERSignature
		}
		copy(out[(i+1)*scalarSize-len(v):], v)
	}
	return out, nil
}

// appendDER appends the ASN.1 ECDSA-Sig-Value of a raw r||s signature, the
// form the Go and gmsm verifiers take.
func appendDER(dst, raw []byte) []byte {
	r, s := derInt(raw[:scalarSize]), derInt(raw[scalarSize:])
	lr, ls := len(r)+int(r[0]>>7), len(s)+int(s[0]>>7)
	dst = append(dst, 0x30, byte(4+lr+ls))
	for _, v := range [][]byte{r, s} {
		if v[0]&0x80 != 0 {
			dst = append(dst, 0x02, byte(len(v)+1), 0)
		} else {
			dst = append(dst, 0x02, byte(len(v)))
		}
		dst = append(dst, v...)
	}
	return dst
}

// derInt strips leading zeros, keeping one byte for zero.
func derInt(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

// verifySignature checks a raw COSE signature over msg. It never panics,
// whatever the key type or signature length.
func verifySignature(alg Alg, pub crypto.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	switch alg {
	case AlgEdDSA:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case AlgES256:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != elliptic.P256() {
			return false
		}
		digest := sha256.Sum256(msg)
		var buf [72]byte
		return ecdsa.VerifyASN1(k, digest[:], appendDER(buf[:0], sig))
	case AlgSM2:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok || k.Curve != sm2.P256() {
			return false
		}
		var buf [72]byte
		return sm2.VerifyASN1WithSM2(k, nil, msg, appendDER(buf[:0], sig))
	}
	return false
}

// Group orders, big endian: a signature scalar at or above its order (or,
// for ECDSA and SM2, zero) is refused by every correct verifier.
var (
	zeroScalar   [scalarSize]byte
	orderEd25519 = [scalarSize]byte{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x14, 0xde, 0xf9, 0xde, 0xa2, 0xf7, 0x9c, 0xd6, 0x58, 0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed}
	orderP256 = [scalarSize]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51}
	orderSM2 = [scalarSize]byte{0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23}
)

// wellFormedSignature reports whether sig could be a signature of alg at
// all: 64 bytes, and scalars in range (Ed25519's S below the group order,
// ECDSA's and SM2's r and s in [1, n-1]). It is the check made before the
// region MAC, so that the MAC never admits what a signature check refuses
// for its shape alone.
func wellFormedSignature(alg Alg, sig []byte) bool {
	if len(sig) != 2*scalarSize {
		return false
	}
	switch alg {
	case AlgEdDSA:
		var s [scalarSize]byte
		for i := range s {
			s[i] = sig[2*scalarSize-1-i] // S is little endian
		}
		return bytes.Compare(s[:], orderEd25519[:]) < 0
	case AlgES256, AlgSM2:
		n := orderP256
		if alg == AlgSM2 {
			n = orderSM2
		}
		for _, v := range [][]byte{sig[:scalarSize], sig[scalarSize:]} {
			if bytes.Equal(v, zeroScalar[:]) || bytes.Compare(v, n[:]) >= 0 {
				return false
			}
		}
		return true
	}
	return false
}

// VerifySignature checks a raw signature over msg made by Signer.Sign with
// the key of pub; for documents other than codes (a destruction report),
// which carry their own prefix so that no signed document is a code.
func VerifySignature(pub PublicKey, msg, sig []byte) bool {
	return verifySignature(pub.Alg, pub.Key, msg, sig)
}
