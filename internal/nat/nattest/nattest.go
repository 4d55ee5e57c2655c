// Package nattest has in-memory stand-ins for the services nucleic-acid
// testing calls, for tests: a fact recorder that keeps what it is given the
// way the status engine's contract says (idempotent by person and key,
// recorded_at set by the store) and evaluates colours with the real rules
// package, and a code resolver that issues and checks real signed codes.
// The status and codes features build the real services; these let the nat
// tests assert colours and scans without them.
package nattest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// Recorder keeps recorded facts per person, in recording order.
type Recorder struct {
	mu    sync.Mutex
	now   func() time.Time
	facts map[int64][]fact.Fact
	keys  map[int64]map[string]bool
	// Calls counts Record calls, Batches their sizes.
	Calls   int
	Batches []int
	// Fail, when set, makes Record fail (as an unreachable status engine).
	Fail error
	prog *rules.Program
}

// NewRecorder returns a recorder whose clock stamps recorded_at.
func NewRecorder(now func() time.Time) *Recorder {
	p, err := rules.Compile(rules.Default(), rules.Options{})
	if err != nil {
		panic("nattest: the default rules do not compile: " + err.Error())
	}
	return &Recorder{now: now, facts: map[int64][]fact.Fact{}, keys: map[int64]map[string]bool{}, prog: p}
}

// Record validates and keeps facts, skipping any whose (Person, Key) was
// recorded before, as the status engine does. The whole batch is refused
// if one fact is invalid.
func (r *Recorder) Record(ctx context.Context, facts ...status.NewFact) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Calls++
	r.Batches = append(r.Batches, len(facts))
	if r.Fail != nil {
		return 0, r.Fail
	}
	for _, f := range facts {
		if err := f.Fact.Validate(); err != nil {
			return 0, err
		}
		if f.Person <= 0 || f.RecordedBy == "" {
			return 0, ErrFactInvalid
		}
	}
	created := 0
	at := r.now().UTC()
	for _, f := range facts {
		if f.Key != "" {
			if r.keys[f.Person] == nil {
				r.keys[f.Person] = map[string]bool{}
			}
			if r.keys[f.Person][f.Key] {
				continue
			}
			r.keys[f.Person][f.Key] = true
		}
		ff := f.Fact
		ff.RecordedAt = at
		r.facts[f.Person] = append(r.facts[f.Person], ff)
		created++
	}
	return created, nil
}

// Add records a fact of another feature (a contact, a case), for setting
// the scene.
func (r *Recorder) Add(num int64, f fact.Fact) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.RecordedAt = r.now().UTC()
	r.facts[num] = append(r.facts[num], f)
}

// Facts returns a copy of a person's facts.
func (r *Recorder) Facts(num int64) []fact.Fact {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.facts[num])
}

// Total counts all facts recorded.
func (r *Recorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, fs := range r.facts {
		n += len(fs)
	}
	return n
}

// Decide evaluates the default rule set over a person's facts at now, as
// the status engine would.
func (r *Recorder) Decide(num int64, now time.Time) rules.Decision {
	return r.prog.Eval(r.Facts(num), now)
}

// Colour is the person's colour at now.
func (r *Recorder) Color(num int64, now time.Time) rules.Color { return r.Decide(num, now).Color }

// Codes issues real signed codes and resolves them as the codes service
// does: signature, expiry, kind, and the handle back to the person.
type Codes struct {
	// Clock is what Resolve checks expiry against (time.Now by default).
	Clock    func() time.Time
	signer   *codeformat.Signer
	verifier *codeformat.Verifier
	handles  *person.Handles
	mu       sync.Mutex
	revoked  map[[8]byte]bool
}

// NewCodes returns a resolver with a fresh Ed25519 key for region 341881.
func NewCodes(handles *person.Handles) *Codes {
	key, err := codeformat.GenerateKey(codeformat.AlgEdDSA)
	if err != nil {
		panic(err)
	}
	s, err := codeformat.NewSigner(key)
	if err != nil {
		panic(err)
	}
	c := &Codes{Clock: time.Now, signer: s, handles: handles, revoked: map[[8]byte]bool{}}
	c.verifier = codeformat.NewVerifier(c.TrustList(), codeformat.Options{Revoked: func(cl *codeformat.Claims) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.revoked[cl.ID]
	}})
	return c
}

// Signer is the key the codes are signed with; it also satisfies
// nat.SignerSource, as the key store does.
func (c *Codes) Signer() *codeformat.Signer { return c.signer }

// TrustList is what an offline verifier of these codes and certificates
// trusts.
func (c *Codes) TrustList() codeformat.TrustList {
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: c.signer.KeyID(), Alg: c.signer.Alg(), Key: c.signer.Public(), Issuer: "341881"}); err != nil {
		panic(err)
	}
	return tl
}

// Issue returns a code for the person, valid from at for ttl.
func (c *Codes) Issue(num int64, kind codeformat.Kind, at time.Time, ttl time.Duration) string {
	cl := codeformat.Claims{Issuer: "341881", IssuedAt: at, Expires: at.Add(ttl), ID: codeformat.NewID(),
		Handle: c.handles.Handle(num), MaskedName: "张*", Kind: kind}
	if kind == codeformat.KindDynamic {
		cl.Color = codeformat.ColorGreen
	}
	s, err := codeformat.Encode(cl, c.signer, nil)
	if err != nil {
		panic(err)
	}
	return s
}

// Revoke revokes a code (care codes are revoked by id).
func (c *Codes) Revoke(s string) {
	d, err := codeformat.Decode(s)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked[d.Claims.ID] = true
}

// Resolve verifies a scanned code and returns its person; an invalid code
// is a 400 code_invalid naming the reasons, as the contract says.
func (c *Codes) Resolve(ctx context.Context, scanned string) (int64, codeformat.Kind, error) {
	r := c.verifier.Verify(scanned, c.Clock())
	if !r.Valid {
		return 0, 0, ErrCodeInvalid.Withf("the code is not valid: %v", r.Reasons)
	}
	return c.handles.Num(r.Claims.Handle), r.Claims.Kind, nil
}
