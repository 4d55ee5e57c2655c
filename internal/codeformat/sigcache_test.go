package codeformat

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"
)

// swapKeys is a trust list whose entries can change between scans, as a
// node's does when a new bundle arrives.
type swapKeys struct {
	mu sync.Mutex
	tl TrustList
}

func (k *swapKeys) Key(kid KeyID) (PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tl.Key(kid)
}

// A remembered signature changes no verdict: each case below is scanned
// after the code it differs from was verified (and cached) by the same
// verifier, and gets what a verifier without a cache says.
func TestSignatureCacheChangesNoVerdict(t *testing.T) {
	at := testIAT.Add(time.Minute)
	for _, alg := range benchAlgs {
		s := testSigner(t, alg, "a")
		stranger := testSigner(t, alg, "stranger")
		good := mustEncode(t, testClaims(), s, nil)
		care := mustEncode(t, careClaims(), s, nil)
		forged := rebuild(t, forgeRed(t, good), nil)
		revoked := false
		keys := &swapKeys{tl: trustFor(t, s)}
		opts := Options{SignatureCache: 64, Revoked: func(*Claims) bool { return revoked }}
		cached := NewVerifier(keys, opts)
		opts.SignatureCache = 0
		plain := NewVerifier(keys, opts)

		check := func(name, code string, at time.Time, want []Reason) {
			t.Helper()
			for _, v := range []*Verifier{cached, plain} {
				r := v.Verify(code, at)
				if r.Valid != (len(want) == 0) || !reasonsEqual(r.Reasons, want) {
					t.Errorf("%v %s (cache %v): valid=%v reasons=%v, want %v", alg, name, v.sigs != nil, r.Valid, r.Reasons, want)
				}
			}
		}
		check("first scan", good, at, nil)
		check("care code", care, at, nil)
		if n := len(cached.sigs.cur); n != 2 {
			t.Fatalf("%v: %d signatures remembered after two valid codes, want 2", alg, n)
		}
		check("second scan", good, at, nil)
		check("payload changed, signature kept", forged, at, []Reason{ReasonBadSignature})
		check("second scan after it expired", good, testIAT.Add(time.Hour), []Reason{ReasonExpired})
		revoked = true
		check("care code revoked since", care, at, []Reason{ReasonRevoked})
		revoked = false

		// The same key id now names another key (a bundle replaced it):
		// the remembered signature was checked under the old one.
		keys.mu.Lock()
		keys.tl = TrustList{s.KeyID(): {KID: s.KeyID(), Alg: alg, Key: stranger.Public(), Issuer: "341881"}}
		keys.mu.Unlock()
		check("key replaced under the same id", good, at, []Reason{ReasonBadSignature})
		keys.mu.Lock()
		keys.tl = TrustList{}
		keys.mu.Unlock()
		check("key withdrawn", good, at, []Reason{ReasonUnknownKey})
		if n := len(cached.sigs.cur); n != 2 {
			t.Errorf("%v: %d signatures remembered, want still 2 (failures are never kept)", alg, n)
		}
	}
}

// The cache holds at most its size, and the latest half of it is always
// found.
func TestSignatureCacheBounded(t *testing.T) {
	c := newSigCache(8)
	var keys [][sha256.Size]byte
	for i := range 100 {
		k := sha256.Sum256([]byte{byte(i)})
		keys = append(keys, k)
		c.add(k)
		if n := len(c.cur) + len(c.old); n > 8 {
			t.Fatalf("after %d additions the cache holds %d, want at most 8", i+1, n)
		}
	}
	for _, k := range keys[len(keys)-4:] {
		if !c.has(k) {
			t.Errorf("one of the last 4 additions is not found")
		}
	}
	if c.has(keys[0]) {
		t.Error("the first of 100 additions is still found in a cache of 8")
	}
	if newSigCache(0) != nil {
		t.Error("a cache of size 0 is not nil (no cache)")
	}
}

func TestSignatureCacheConcurrent(t *testing.T) {
	ed := testSigner(t, AlgEdDSA, "a")
	v := NewVerifier(trustFor(t, ed), Options{SignatureCache: 4})
	var codes []string
	for i := range 6 {
		c := testClaims()
		c.Expires = c.Expires.Add(time.Duration(i) * time.Second)
		codes = append(codes, mustEncode(t, c, ed, nil))
	}
	forged := rebuild(t, forgeRed(t, codes[0]), nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				ok := v.Verify(codes[(g+i)%len(codes)], testIAT).Valid && !v.Verify(forged, testIAT).Valid
				if !ok {
					mu.Lock()
					bad++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if bad > 0 {
		t.Errorf("%d of 1200 concurrent rounds gave a wrong verdict", bad)
	}
}
