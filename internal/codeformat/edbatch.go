package codeformat

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"runtime"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// Ed25519Batch checks the Ed25519 signatures of concurrent callers together.
// A node verifying another region's codes spends most of a scan on the
// signature; checked one by one, each costs a full double scalar
// multiplication (256 doublings). Checked together, n signatures under
// RFC 8032's group equation cost one multi-scalar multiplication whose
// doublings are shared, with each signature weighted by a random 128-bit
// factor so that no combination of forged ones can cancel out. Signatures
// under the same key share its term too.
//
// Callers are not delayed by a timer to form a batch: the first caller
// yields to the goroutines ready to run (again while that brings more, up
// to four times) and then checks whatever has queued; those who arrive
// while it does wait and are checked together next, as a group commit
// gathers writes. Under load a batch holds several signatures (four to
// seven at 32 concurrent scans on two cores); alone, a scan is checked at
// once. A batch that fails is checked one signature at a time, so a forged
// signature costs its sender's batch, not its neighbours' verdicts.
//
// Every check, alone or in a batch, uses the cofactored equation
// [8][S]B = [8]R + [8][k]A of RFC 8032 §5.1.7, and refuses what the standard
// library refuses for its encoding alone (S at or above the group order, a
// point encoding that is not canonical or not on the curve). Every signature
// an honest signer makes passes it exactly when it passes the library's
// cofactorless check; the two differ only for a signature whose own key
// holder gave R a small-order component, which this accepts. So that no one
// but a key's holder can make such a signature, a key whose discrete
// logarithm may be known (the identity, or any point with a small-order
// component: all-zero bytes is one) is never checked by the equation: its
// signatures get the library's own verdict, one by one.
//
// The zero value is ready to use.
type Ed25519Batch struct {
	mu    sync.Mutex
	busy  bool
	queue []*edCheck
	// keys holds decoded public keys, touched only by the caller doing
	// the checks (busy), so that a key is decoded once, not every scan.
	keys map[[ed25519.PublicKeySize]byte]edKey

	batches, signatures atomic.Uint64
}

// Counts reports how many batches were checked and how many signatures they
// held: their ratio is the mean batch.
func (b *Ed25519Batch) Counts() (batches, signatures uint64) {
	return b.batches.Load(), b.signatures.Load()
}

// maxBatch bounds a batch: past a few dozen the shared doublings are a small
// share of the work and waiting longer buys nothing.
const maxBatch = 64

// maxYields bounds how often a new leader yields to let a batch form.
const maxYields = 4

// maxKeys bounds the decoded keys kept; a region has a few.
const maxKeys = 256

// edKey is a decoded public key. prime is true for a point of the prime-order
// subgroup other than the identity: only those are checked by the equation.
type edKey struct {
	p     *edwards25519.Point
	prime bool
}

type edCheck struct {
	pub, msg, sig []byte
	ok            bool
	lead          bool
	done          chan struct{}
}

var edCheckPool = sync.Pool{New: func() any { return &edCheck{done: make(chan struct{}, 1)} }}

// Verify reports whether sig is a valid Ed25519 signature of msg by pub.
// It is safe for concurrent use and never panics.
func (b *Ed25519Batch) Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	c := edCheckPool.Get().(*edCheck)
	c.pub, c.msg, c.sig, c.ok, c.lead = pub, msg, sig, false, false
	promoted := false
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.busy {
		b.mu.Unlock()
		<-c.done
		promoted = c.lead
	} else {
		b.busy = true
		b.mu.Unlock()
		c.lead = true
	}
	if c.lead {
		if !promoted {
			// Let the goroutines that are ready to run (other scans read
			// off their connections) reach the queue first: on a few
			// cores nothing else would join a batch while this one is
			// checked, and the batch would hold one signature. Again while
			// that brings more, a few times at most.
			for range maxYields {
				before := b.queued()
				runtime.Gosched()
				if b.queued() == before {
					break
				}
			}
		}
		b.lead()
	}
	ok := c.ok
	c.pub, c.msg, c.sig = nil, nil, nil
	edCheckPool.Put(c)
	return ok
}

func (b *Ed25519Batch) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// lead checks the queue (which holds the leader's own check), answers the
// others and hands the lead to the next waiter, if any.
func (b *Ed25519Batch) lead() {
	b.mu.Lock()
	n := min(len(b.queue), maxBatch)
	batch := make([]*edCheck, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	b.mu.Unlock()

	b.check(batch)
	b.batches.Add(1)
	b.signatures.Add(uint64(n))

	var next *edCheck
	b.mu.Lock()
	if len(b.queue) > 0 {
		next = b.queue[0]
		next.lead = true
	} else {
		b.busy = false
	}
	b.mu.Unlock()
	for _, c := range batch {
		if !c.lead {
			c.done <- struct{}{}
		}
	}
	if next != nil {
		next.done <- struct{}{}
	}
}

// check sets ok on every check of batch.
func (b *Ed25519Batch) check(batch []*edCheck) {
	if len(batch) == 1 {
		batch[0].ok = b.one(batch[0])
		return
	}
	if b.together(batch) {
		for _, c := range batch {
			c.ok = true
		}
		return
	}
	for _, c := range batch {
		c.ok = b.one(c)
	}
}

// key decodes pub once; p is nil when pub is not a point.
func (b *Ed25519Batch) key(pub []byte) edKey {
	k := [ed25519.PublicKeySize]byte(pub)
	if key, ok := b.keys[k]; ok {
		return key
	}
	var key edKey
	if p, err := new(edwards25519.Point).SetBytes(pub); err == nil {
		key = edKey{p: p, prime: inPrimeOrderSubgroup(p)}
	}
	if b.keys == nil || len(b.keys) >= maxKeys {
		b.keys = make(map[[ed25519.PublicKeySize]byte]edKey)
	}
	b.keys[k] = key
	return key
}

// orderMinusOne is ℓ - 1, the largest scalar, little-endian.
var orderMinusOne = func() *edwards25519.Scalar {
	e := [32]byte{0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 31: 0x10}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(e[:])
	if err != nil {
		panic(err)
	}
	return s
}()

// inPrimeOrderSubgroup reports whether [ℓ]p is the identity and p is not:
// p has no small-order component and is no small-order point itself. It
// costs a scalar multiplication, once for each key.
func inPrimeOrderSubgroup(p *edwards25519.Point) bool {
	if p.Equal(identity) == 1 {
		return false
	}
	q := new(edwards25519.Point).ScalarMult(orderMinusOne, p)
	return q.Add(q, p).Equal(identity) == 1
}

// parts decodes what a check needs: R, S, k = H(R || A || M) and A.
func (b *Ed25519Batch) parts(c *edCheck) (r *edwards25519.Point, s, k *edwards25519.Scalar, a *edwards25519.Point, ok bool) {
	key := b.key(c.pub)
	if !key.prime || !canonicalPoint(c.sig[:32]) {
		return nil, nil, nil, nil, false
	}
	a = key.p
	r, err := new(edwards25519.Point).SetBytes(c.sig[:32])
	if err != nil {
		return nil, nil, nil, nil, false
	}
	if s, err = edwards25519.NewScalar().SetCanonicalBytes(c.sig[32:]); err != nil {
		return nil, nil, nil, nil, false
	}
	h := sha512.New()
	h.Write(c.sig[:32])
	h.Write(c.pub)
	h.Write(c.msg)
	var d [sha512.Size]byte
	k, _ = edwards25519.NewScalar().SetUniformBytes(h.Sum(d[:0]))
	return r, s, k, a, true
}

var identity = edwards25519.NewIdentityPoint()

// one checks [8]([S]B - [k]A - R) = 0, or asks the library when the key is
// not one the equation checks.
func (b *Ed25519Batch) one(c *edCheck) bool {
	if key := b.key(c.pub); key.p != nil && !key.prime {
		return ed25519.Verify(c.pub, c.msg, c.sig)
	}
	r, s, k, a, ok := b.parts(c)
	if !ok {
		return false
	}
	minusA := new(edwards25519.Point).Negate(a)
	p := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, minusA, s)
	p.Subtract(p, r)
	return p.MultByCofactor(p).Equal(identity) == 1
}

// together checks [8](Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ - (Σ zᵢSᵢ)B) = 0 for random zᵢ. It
// is false when any signature is malformed, any key is not one the equation
// checks, or the sum is not zero; the caller then checks them one by one.
func (b *Ed25519Batch) together(batch []*edCheck) bool {
	var random [maxBatch * 16]byte
	if _, err := rand.Read(random[:16*len(batch)]); err != nil {
		return false
	}
	scalars := make([]*edwards25519.Scalar, 0, len(batch)+4)
	points := make([]*edwards25519.Point, 0, len(batch)+4)
	sumS := edwards25519.NewScalar()
	// A batch rarely holds more than one or two keys: a short list beats a map.
	var keyPoints []*edwards25519.Point
	var keyScalars []*edwards25519.Scalar
	for i, c := range batch {
		r, s, k, a, ok := b.parts(c)
		if !ok {
			return false
		}
		var zb [32]byte
		copy(zb[:16], random[16*i:16*i+16])
		z, _ := edwards25519.NewScalar().SetCanonicalBytes(zb[:]) // below 2^128: always canonical
		scalars = append(scalars, z)
		points = append(points, r)
		sumS.MultiplyAdd(z, s, sumS)
		zk := edwards25519.NewScalar().Multiply(z, k)
		j := 0
		for j < len(keyPoints) && keyPoints[j] != a {
			j++
		}
		if j == len(keyPoints) {
			keyPoints = append(keyPoints, a)
			keyScalars = append(keyScalars, edwards25519.NewScalar())
		}
		keyScalars[j].Add(keyScalars[j], zk)
	}
	scalars = append(scalars, keyScalars...)
	points = append(points, keyPoints...)
	scalars = append(scalars, edwards25519.NewScalar().Negate(sumS))
	points = append(points, edwards25519.NewGeneratorPoint())
	p := new(edwards25519.Point).VarTimeMultiScalarMult(scalars, points)
	return p.MultByCofactor(p).Equal(identity) == 1
}

// canonicalPoint reports whether e is the canonical encoding of a point's
// y and sign: y below 2^255-19, and no sign on x = 0 (y = ±1). The standard
// library refuses the others for R, by comparing encodings.
func canonicalPoint(e []byte) bool {
	if len(e) != 32 {
		return false
	}
	// y ≥ p: the low byte ≥ 0xed, the middle all ones, the top 0x7f.
	if e[0] >= 0xed && e[31]&0x7f == 0x7f && allOnes(e[1:31]) {
		return false
	}
	if e[31]&0x80 == 0 {
		return true
	}
	// A sign bit on y = 1 or y = p - 1, whose x is zero.
	yIsOne := e[0] == 1 && allZero(e[1:31]) && e[31]&0x7f == 0
	yIsMinusOne := e[0] == 0xec && allOnes(e[1:31]) && e[31]&0x7f == 0x7f
	return !yIsOne && !yIsMinusOne
}

func allOnes(b []byte) bool {
	for _, v := range b {
		if v != 0xff {
			return false
		}
	}
	return true
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}
