// Package secret holds the deployment's master key and what is derived from
// it: sealing of personal data at rest (AES-256-GCM), blind indexes (keyed
// hashes that find a sealed value by exact match without decrypting), and
// purpose-bound subkeys for other packages (the person-handle permutation,
// code MACs, private-key wrapping). Every node of a deployment needs the same
// master key; losing it loses the personal data, so back it up.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// KeySize is the master key length in bytes.
const KeySize = 32

// Keyring derives everything from one master key. It is safe for concurrent use.
type Keyring struct {
	master []byte
	aead   cipher.AEAD
	blind  []byte
	hpool  sync.Pool
}

// New builds a keyring from a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("secret: master key must be %d bytes, got %d", KeySize, len(master))
	}
	k := &Keyring{master: append([]byte(nil), master...)}
	block, err := aes.NewCipher(k.Derive("seal/aes-256-gcm", 32))
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	k.blind = k.Derive("blind-index/hmac-sha256", 32)
	k.hpool.New = func() any { return hmac.New(sha256.New, k.blind) }
	return k, nil
}

// Parse decodes a base64 master key (standard or URL alphabet, padded or not).
func Parse(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("secret: master key must be %d bytes, got %d", KeySize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("secret: master key is not base64")
}

// LoadOrCreate reads the base64 master key from path, or, if the file does
// not exist, generates one and writes it with mode 0600. created tells the
// caller to remind the operator to back it up.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		master, err := Parse(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		k, err := New(master)
		return k, false, err
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("secret: read key file: %w", err)
	}
	master := make([]byte, KeySize)
	rand.Read(master)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secret: create key directory: %w", err)
	}
	// O_EXCL: two processes starting at once must not write different keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreate(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("secret: create key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(master) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, false, fmt.Errorf("secret: write key file: %w", err)
	}
	k, err = New(master)
	return k, true, err
}

// Derive returns n bytes bound to purpose (HKDF-SHA256). Different purposes
// give independent keys, so one leaked subkey does not expose the others.
func (k *Keyring) Derive(purpose string, n int) []byte {
	b, err := hkdf.Key(sha256.New, k.master, nil, "healthcode/"+purpose, n)
	if err != nil {
		panic("secret: derive: " + err.Error()) // only for n out of range, a programming error
	}
	return b
}

// Seal encrypts plaintext. aad binds the ciphertext to where it is stored
// (table, column, row id), so a sealed value copied to another row does not open.
func (k *Keyring) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	rand.Read(out)
	return k.aead.Seal(out, out, plaintext, aad)
}

// SealString is Seal for text.
func (k *Keyring) SealString(s, aad string) []byte { return k.Seal([]byte(s), []byte(aad)) }

// ErrOpen is returned when a sealed value does not open: wrong key, wrong
// aad, or tampering.
var ErrOpen = errors.New("secret: sealed value does not open (wrong key or tampered)")

// Open decrypts what Seal produced with the same aad.
func (k *Keyring) Open(sealed, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// OpenString is Open for text.
func (k *Keyring) OpenString(sealed []byte, aad string) (string, error) {
	b, err := k.Open(sealed, []byte(aad))
	return string(b), err
}

// BlindIndex is a keyed hash of value within a domain ("id", "phone",
// "name"), so equal values in different domains do not match and nobody
// without the key can test guesses against the table.
func (k *Keyring) BlindIndex(domain, value string) []byte {
	h := k.hpool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write([]byte(value))
	out := h.Sum(make([]byte, 0, sha256.Size))
	k.hpool.Put(h)
	return out[:16]
}
