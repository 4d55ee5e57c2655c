package codeformat

import (
	"errors"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Decoding is two passes. fxamacker/cbor's Wellformed checks each CBOR item
// against tight limits without allocating (so "not CBOR" is told apart from
// "CBOR of the wrong shape"), then cborReader walks the few shapes the
// format has, by hand: reflection-based unmarshalling costs more than the
// rest of the MAC path together.

// decMode's limits are far above what a code needs (the deepest item is
// four levels: tag, array, map, map) yet stop hostile nesting early.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		MaxNestedLevels:  8,
		MaxArrayElements: 16,
		MaxMapPairs:      32,
		IndefLength:      cbor.IndefLengthForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var errInvalidUTF8 = errors.New("text string is not UTF-8")

// cborReader reads definite-length CBOR from b. Every method returns false
// instead of reading past the end or accepting an unexpected type; callers
// run it only on well-formed input, but it stays safe on any input.
type cborReader struct {
	b   []byte
	off int
	// invalidText records that a failure was a text string that is not
	// UTF-8, which is invalid CBOR rather than a wrong shape.
	invalidText bool
}

const (
	majUint  = 0
	majNeg   = 1
	majBytes = 2
	majText  = 3
	majArray = 4
	majMap   = 5
	majTag   = 6
)

// head reads an initial byte and its argument. Indefinite lengths and the
// reserved additional-information values are refused.
func (r *cborReader) head() (major byte, arg uint64, ok bool) {
	if r.off >= len(r.b) {
		return 0, 0, false
	}
	ib := r.b[r.off]
	r.off++
	major, ai := ib>>5, ib&0x1f
	var n int
	switch {
	case ai < 24:
		return major, uint64(ai), true
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	default:
		return 0, 0, false
	}
	if len(r.b)-r.off < n {
		return 0, 0, false
	}
	for _, c := range r.b[r.off : r.off+n] {
		arg = arg<<8 | uint64(c)
	}
	r.off += n
	return major, arg, true
}

func (r *cborReader) peekMajor() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off] >> 5, true
}

func (r *cborReader) uint() (uint64, bool) {
	m, v, ok := r.head()
	return v, ok && m == majUint
}

// int reads an integer that fits an int64.
func (r *cborReader) int() (int64, bool) {
	m, v, ok := r.head()
	if !ok || v > 1<<63-1 {
		return 0, false
	}
	switch m {
	case majUint:
		return int64(v), true
	case majNeg:
		return -1 - int64(v), true
	}
	return 0, false
}

// label reads a map key that is an integer (isInt) or a text string (to be
// ignored). Other key types are a wrong shape for every map we read.
func (r *cborReader) label() (key int64, isInt, ok bool) {
	m, ok := r.peekMajor()
	if !ok {
		return 0, false, false
	}
	switch m {
	case majUint, majNeg:
		key, ok = r.int()
		return key, true, ok
	case majText:
		_, ok = r.text()
		return 0, false, ok
	}
	return 0, false, false
}

func (r *cborReader) str(major byte) ([]byte, bool) {
	m, n, ok := r.head()
	if !ok || m != major || n > uint64(len(r.b)-r.off) {
		return nil, false
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, true
}

func (r *cborReader) bytes() ([]byte, bool) { return r.str(majBytes) }

func (r *cborReader) text() ([]byte, bool) {
	s, ok := r.str(majText)
	if ok && !utf8.Valid(s) {
		r.invalidText = true
		return nil, false
	}
	return s, ok
}

func (r *cborReader) mapHeader() (uint64, bool) {
	m, n, ok := r.head()
	return n, ok && m == majMap && n <= uint64(len(r.b)-r.off)
}

// skip passes over one item of any type.
func (r *cborReader) skip() bool { return r.skipDepth(0) }

func (r *cborReader) skipDepth(depth int) bool {
	if depth > 8 {
		return false
	}
	m, v, ok := r.head()
	if !ok {
		return false
	}
	switch m {
	case majBytes, majText:
		if v > uint64(len(r.b)-r.off) {
			return false
		}
		r.off += int(v)
	case majArray, majMap:
		if v > uint64(len(r.b)-r.off) { // each item is at least one byte
			return false
		}
		if m == majMap {
			v *= 2
		}
		for ; v > 0; v-- {
			if !r.skipDepth(depth + 1) {
				return false
			}
		}
	case majTag:
		return r.skipDepth(depth + 1)
	}
	return true
}
