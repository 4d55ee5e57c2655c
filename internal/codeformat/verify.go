package codeformat

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
	"time"
)

// DefaultSkew is the clock-skew allowance applied to issued-at and expiry.
const DefaultSkew = 30 * time.Second

// Keys finds the trusted public key for a key id. TrustList implements it;
// the key store may implement it over its own cache.
type Keys interface {
	Key(kid KeyID) (PublicKey, bool)
}

// Options configure a Verifier. The zero value verifies offline: signature,
// times, and dynamic codes only.
type Options struct {
	// MACKeys maps an issuer (region code) to its region MAC key. Only
	// the issuing region's own nodes have it. A code from such an issuer
	// that carries a correct MAC is accepted without its signature; a
	// missing or wrong MAC falls back to the signature, so a MAC can never
	// make a code valid that the signature would not (except that the MAC
	// is the cheaper proof), and a code made under a just-rotated MAC key
	// still verifies.
	MACKeys map[string][]byte
	// Skew is the clock-skew allowance; zero means DefaultSkew and a
	// negative value means none.
	Skew time.Duration
	// Revoked reports whether an authentic code has been revoked (care
	// codes are revoked by Claims.ID). It is not called for codes whose
	// signature or MAC failed.
	Revoked func(c *Claims) bool
	// Kinds lists the kinds this verifier accepts; nil means dynamic and
	// care codes. A care code is never accepted without a Revoked check: it
	// lives for days and is only valid with an online check. Certificates
	// (KindCertificate) are accepted only when listed, so a verifier of
	// health codes never takes a test certificate for one.
	Kinds []Kind
	// SignatureCache is how many verified signatures to remember (0: none),
	// so that a code scanned again is not checked again by its signature.
	SignatureCache int
	// Ed25519Batch, when set, checks Ed25519 signatures of concurrent
	// verifications together (a server's verifiers share one); nil checks
	// each alone with the standard library.
	Ed25519Batch *Ed25519Batch
}

// Verifier checks codes against a trust list. It is safe for concurrent use.
type Verifier struct {
	keys    Keys
	macs    map[string]*macKey
	skew    time.Duration
	revoked func(*Claims) bool
	kinds   [KindCertificate + 1]bool
	sigs    *sigCache
	batch   *Ed25519Batch
}

// NewVerifier returns a verifier trusting keys (nil: none).
func NewVerifier(keys Keys, o Options) *Verifier {
	if keys == nil {
		keys = TrustList{}
	}
	v := &Verifier{keys: keys, skew: o.Skew, revoked: o.Revoked, sigs: newSigCache(o.SignatureCache),
		batch: o.Ed25519Batch}
	switch {
	case v.skew == 0:
		v.skew = DefaultSkew
	case v.skew < 0:
		v.skew = 0
	}
	if o.Kinds == nil {
		v.kinds[KindDynamic], v.kinds[KindCare] = true, true
	}
	for _, k := range o.Kinds {
		if k >= KindDynamic && k <= KindCertificate {
			v.kinds[k] = true
		}
	}
	if o.Revoked == nil {
		v.kinds[KindCare] = false
	}
	if len(o.MACKeys) > 0 {
		v.macs = make(map[string]*macKey, len(o.MACKeys))
		for iss, key := range o.MACKeys {
			if len(key) > 0 {
				v.macs[iss] = newMACKey(key)
			}
		}
	}
	return v
}

// Result is the outcome of Verify.
type Result struct {
	Valid bool
	// Claims are whatever the code says once it could be decoded (zero
	// otherwise). Believe them only when Valid.
	Claims  Claims
	Reasons []Reason // empty exactly when Valid, in the order of Reasons
	ByMAC   bool     // authenticated by the region MAC, signature not checked
}

// Verify decodes s and checks it at time at: structure, trusted key, the
// region MAC or the signature, validity times, revocation and kind. It never
// panics, whatever s holds.
func (v *Verifier) Verify(s string, at time.Time) Result {
	sc := getScratch()
	defer scratchPool.Put(sc)
	var m Sign1
	var raw rawClaims
	if r, _ := sc.decode(s, &m, &raw); r != "" {
		return Result{Reasons: []Reason{r}}
	}
	key, ok := v.keys.Key(m.KeyID)
	var res Result
	raw.fill(&res.Claims, key.Issuer)
	c := &res.Claims

	var reasons [6]Reason
	n := 0
	authentic := false
	switch {
	case !ok || key.Issuer != c.Issuer ||
		!key.NotBefore.IsZero() && c.IssuedAt.Before(key.NotBefore) ||
		!key.NotAfter.IsZero() && c.IssuedAt.After(key.NotAfter):
		reasons[n], n = ReasonUnknownKey, n+1
	case key.Alg != m.Alg:
		reasons[n], n = ReasonAlgMismatch, n+1
	default:
		sc.tbs = AppendSigStructure(sc.tbs[:0], m.Protected, m.Payload)
		// A signature no verifier could accept is refused before the MAC
		// is consulted: the same bytes get the same verdict everywhere.
		if !wellFormedSignature(key.Alg, m.Signature) {
			reasons[n], n = ReasonBadSignature, n+1
			break
		}
		if m.MAC != nil {
			if mk := v.macs[c.Issuer]; mk != nil && mk.verify(sc.tbs, m.Signature, m.MAC) {
				res.ByMAC, authentic = true, true
			}
		}
		if !authentic {
			authentic = verifySignatureCached(v.sigs, v.batch, key.Alg, key.Key, sc.tbs, m.Signature)
		}
		if !authentic {
			reasons[n], n = ReasonBadSignature, n+1
		}
	}
	if !at.Before(c.Expires.Add(v.skew)) {
		reasons[n], n = ReasonExpired, n+1
	}
	if at.Before(c.IssuedAt.Add(-v.skew)) {
		reasons[n], n = ReasonNotYetValid, n+1
	}
	if authentic && v.revoked != nil {
		// A copy, so that res itself does not escape to the heap.
		cc := res.Claims
		if v.revoked(&cc) {
			reasons[n], n = ReasonRevoked, n+1
		}
	}
	if !v.kinds[c.Kind] {
		reasons[n], n = ReasonWrongKind, n+1
	}
	if n == 0 {
		res.Valid = true
	} else {
		res.Reasons = append([]Reason(nil), reasons[:n]...)
	}
	return res
}

// macKey pools keyed HMAC states: hmac.New costs more than the MAC of a
// code, and Reset returns a used state to just after the key.
type macKey struct {
	pool sync.Pool
}

type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

func newMACKey(key []byte) *macKey {
	key = append([]byte(nil), key...)
	return &macKey{pool: sync.Pool{New: func() any {
		return &macState{h: hmac.New(sha256.New, key)}
	}}}
}

func (k *macKey) verify(tbs, sig, mac []byte) bool {
	st := k.pool.Get().(*macState)
	defer k.pool.Put(st)
	st.h.Reset()
	st.h.Write(tbs)
	st.h.Write(sig)
	return hmac.Equal(st.h.Sum(st.sum[:0])[:MACSize], mac)
}
