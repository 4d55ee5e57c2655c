package codeformat

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"sync"
)

// sigCache remembers signatures that verified: a code shown at a second
// door (the subway gate, then the office) carries the same bytes, and
// checking its signature again would give the same answer at the cost of
// the most expensive step of verifying another region's code. An entry
// names the algorithm, the public key, the signed bytes and the signature,
// so it vouches for exactly what was checked; nothing else about the code
// (expiry, revocation, kind, whether the key is still trusted) is cached.
// Only successes are kept, so forged codes cannot fill it.
//
// Two generations bound it: when the current one is full it becomes the
// previous and a new one starts, so a signature among the last size/2 to
// size successes is found, with no per-entry bookkeeping.
type sigCache struct {
	mu       sync.Mutex
	cur, old map[[sha256.Size]byte]struct{}
	half     int
}

func newSigCache(size int) *sigCache {
	if size <= 0 {
		return nil
	}
	half := max(size/2, 1)
	return &sigCache{cur: make(map[[sha256.Size]byte]struct{}, half), half: half}
}

// sigKey digests what a verification depends on. ok is false for a key
// type the cache does not know, which is then always checked.
func sigKey(alg Alg, pub any, tbs, sig []byte) (k [sha256.Size]byte, ok bool) {
	h := sha256.New()
	h.Write([]byte{byte(alg)})
	switch p := pub.(type) {
	case ed25519.PublicKey:
		h.Write(p)
	case *ecdsa.PublicKey:
		// The key's DER (P-256 and SM2 alike): a microsecond or two, where
		// the signature check it may save costs a hundred or more.
		der, err := MarshalPublicKey(p)
		if err != nil {
			return k, false
		}
		h.Write(der)
	default:
		return k, false
	}
	// Lengths first, so that no two different (tbs, sig) pairs write the
	// same stream.
	var n [8]byte
	n[0], n[1], n[2], n[3] = byte(len(tbs)>>24), byte(len(tbs)>>16), byte(len(tbs)>>8), byte(len(tbs))
	n[4], n[5], n[6], n[7] = byte(len(sig)>>24), byte(len(sig)>>16), byte(len(sig)>>8), byte(len(sig))
	h.Write(n[:])
	h.Write(tbs)
	h.Write(sig)
	h.Sum(k[:0])
	return k, true
}

func (c *sigCache) has(k [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[k]; ok {
		return true
	}
	_, ok := c.old[k]
	return ok
}

func (c *sigCache) add(k [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[[sha256.Size]byte]struct{}, c.half)
	}
	c.cur[k] = struct{}{}
}

// verifySignatureCached is verifySignature, consulting and filling c (nil:
// no cache), with Ed25519 signatures checked through batch when it is not
// nil.
func verifySignatureCached(c *sigCache, batch *Ed25519Batch, alg Alg, pub any, msg, sig []byte) bool {
	if c == nil {
		return verifySignatureBatched(batch, alg, pub, msg, sig)
	}
	k, ok := sigKey(alg, pub, msg, sig)
	if ok && c.has(k) {
		return true
	}
	if !verifySignatureBatched(batch, alg, pub, msg, sig) {
		return false
	}
	if ok {
		c.add(k)
	}
	return true
}

func verifySignatureBatched(batch *Ed25519Batch, alg Alg, pub any, msg, sig []byte) bool {
	if k, ok := pub.(ed25519.PublicKey); ok && batch != nil && alg == AlgEdDSA {
		return batch.Verify(k, msg, sig)
	}
	return verifySignature(alg, pub, msg, sig)
}
