// Package ids makes the opaque identifiers and secrets the API hands out.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
)

var enc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns a random 20-character id (100 bits): unguessable, so knowing
// one id tells nothing about another.
func New() string {
	var b [13]byte
	rand.Read(b[:])
	return enc.EncodeToString(b[:])[:20]
}

// Secret returns prefix followed by 256 random bits, for bearer tokens and
// API keys. The prefix says what kind of secret it is, so a leaked one can be
// recognised by scanners and routed without a lookup.
func Secret(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + enc.EncodeToString(b[:])
}

// Hash is what is stored of a secret: SHA-256. Secrets carry 256 bits of
// randomness, so a fast hash is enough (no password stretching needed).
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
