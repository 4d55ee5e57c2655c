package gateway

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// A subject reference is what an organisation holds of a person it scanned:
// XChaCha20-Poly1305 over (organisation number, person number, expiry)
// under a key derived from the master key. It needs no database row, tells
// its holder nothing, cannot be altered or moved to another organisation
// unnoticed, and every node can open it. The 24-byte random nonce leaves no
// practical limit on how many one key may seal.
//
//	hcs_ base64url( nonce[24] | sealed(version[1] | org[8] | person[8] | expires unix s[8]) | tag[16] )
const (
	subjectPrefix  = "hcs_"
	subjectVersion = 1
	subjectPlain   = 1 + 8 + 8 + 8
	subjectLen     = chacha20poly1305.NonceSizeX + subjectPlain + chacha20poly1305.Overhead
)

var subjectAD = []byte("healthcode/gateway/subject/v1")

// subject is what a reference holds.
type subject struct {
	org, person int64
	expires     time.Time // whole seconds
	ref         string    // the nonce, hex: one scan's reference, for calls allowed once per scan
}

type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &sealer{a}, nil
}

func (s *sealer) seal(sub subject) string {
	var buf [subjectLen]byte
	nonce := buf[:chacha20poly1305.NonceSizeX]
	rand.Read(nonce)
	var pt [subjectPlain]byte
	pt[0] = subjectVersion
	binary.BigEndian.PutUint64(pt[1:], uint64(sub.org))
	binary.BigEndian.PutUint64(pt[9:], uint64(sub.person))
	binary.BigEndian.PutUint64(pt[17:], uint64(sub.expires.Unix()))
	out := s.aead.Seal(buf[:len(nonce)], nonce, pt[:], subjectAD)
	return subjectPrefix + base64.RawURLEncoding.EncodeToString(out)
}

// open checks and reads a reference; the caller checks the organisation
// and the expiry, which need the request.
func (s *sealer) open(ref string) (subject, error) {
	if ref == "" {
		return subject{}, ErrSubjectMissing
	}
	body, ok := strings.CutPrefix(ref, subjectPrefix)
	if !ok || base64.RawURLEncoding.DecodedLen(len(body)) != subjectLen {
		return subject{}, ErrSubjectInvalid
	}
	var raw [subjectLen]byte
	if n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(body)); err != nil || n != subjectLen {
		return subject{}, ErrSubjectInvalid
	}
	nonce := raw[:chacha20poly1305.NonceSizeX]
	pt, err := s.aead.Open(nil, nonce, raw[chacha20poly1305.NonceSizeX:], subjectAD)
	if err != nil || len(pt) != subjectPlain || pt[0] != subjectVersion {
		return subject{}, ErrSubjectInvalid
	}
	return subject{
		ref:     hex.EncodeToString(nonce),
		org:     int64(binary.BigEndian.Uint64(pt[1:])),
		person:  int64(binary.BigEndian.Uint64(pt[9:])),
		expires: time.Unix(int64(binary.BigEndian.Uint64(pt[17:])), 0).UTC(),
	}, nil
}
