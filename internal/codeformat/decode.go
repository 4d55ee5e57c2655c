package codeformat

import (
	"errors"
	"strings"
	"sync"
)

// Prefix starts every code. It is ours rather than the EU DCC's "HC1:" so a
// DCC verifier refuses our codes instead of misreading them, yet it stays in
// the QR alphanumeric set.
const Prefix = "JKM1:"

// MaxCodeLen caps the input, prefix included. Our codes are about 250
// characters; the cap bounds the work a hostile string can cause.
const MaxCodeLen = 1024

var (
	errPrefix  = errors.New("the prefix " + Prefix + " is missing")
	errTooLong = errors.New("longer than MaxCodeLen")
)

// Decoded is a code taken apart without any cryptographic check.
type Decoded struct {
	Sign1
	Claims Claims
}

// Decode unpacks a code: prefix, base45, zlib, COSE_Sign1 and the claims.
// It checks structure only; use a Verifier to know whether to believe it.
// A failure is an *Error carrying the reason.
func Decode(s string) (*Decoded, error) {
	sc := getScratch()
	defer scratchPool.Put(sc)
	var d Decoded
	var raw rawClaims
	if r, err := sc.decode(s, &d.Sign1, &raw); r != "" {
		return nil, &Error{Reason: r, Err: err}
	}
	raw.fill(&d.Claims, "")
	// Detach from the pooled buffers.
	buf := make([]byte, 0, len(d.Protected)+len(d.Payload)+len(d.Signature)+len(d.MAC))
	clone := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		buf = append(buf, b...)
		return buf[len(buf)-len(b) : len(buf) : len(buf)]
	}
	d.Protected, d.Payload, d.Signature, d.MAC = clone(d.Protected), clone(d.Payload), clone(d.Signature), clone(d.MAC)
	return &d, nil
}

// scratch holds the buffers and zlib state one decode needs, so the hot
// path allocates nothing of its own.
type scratch struct {
	*inflater
	b45  []byte
	cose []byte
	tbs  []byte
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{
		inflater: newInflater(),
		b45:      make([]byte, 0, MaxCodeLen),
		cose:     make([]byte, 0, MaxCOSESize+1),
		tbs:      make([]byte, 0, MaxCOSESize+64),
	}
}}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// decode runs the structural pipeline; m and c point into sc afterwards.
func (sc *scratch) decode(s string, m *Sign1, c *rawClaims) (Reason, error) {
	if !strings.HasPrefix(s, Prefix) {
		return ReasonBadPrefix, errPrefix
	}
	if len(s) > MaxCodeLen {
		return ReasonBadBase45, errTooLong
	}
	z, err := appendBase45Decode(sc.b45[:0], s[len(Prefix):])
	if err != nil {
		return ReasonBadBase45, err
	}
	cose, err := sc.inflate(sc.cose[:0], z)
	if err != nil {
		return ReasonBadZlib, err
	}
	if err := decMode.Wellformed(cose); err != nil {
		return ReasonBadCBOR, err
	}
	if r, err := parseSign1(cose, m); r != "" {
		return r, err
	}
	if err := decMode.Wellformed(m.Payload); err != nil {
		return ReasonBadCBOR, err
	}
	return c.parse(m.Payload)
}
