package codeformat

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"io"
	"sync"
)

// MaxCOSESize caps the inflated COSE message. Our codes are about 200
// bytes; the cap makes a zip bomb fail after 4 KiB of output.
const MaxCOSESize = 4096

var (
	errInflateTooBig = errors.New("inflates past MaxCOSESize")
	errTrailing      = errors.New("data after the zlib stream")
)

// Compress returns a zlib (RFC 1950) stream of cose made of stored deflate
// blocks. A code is signatures, keys ids and random ids around a few short
// strings: deflate finds nothing to squeeze (measured: every level gives 16
// bytes more than the input) and compress/zlib spends 9-20 us resetting
// its state per code, as long as the signature itself. Stored blocks are
// 11 bytes over the input, cost nothing, and every inflater reads them.
func Compress(cose []byte) []byte {
	out := make([]byte, 0, len(cose)+2+5*(len(cose)/0xffff+1)+4)
	out = append(out, 0x78, 0x01) // deflate, 32 KiB window, "fastest"; (0x7801 % 31 == 0)
	rest := cose
	for {
		n := min(len(rest), 0xffff)
		final := byte(0)
		if n == len(rest) {
			final = 1
		}
		out = append(out, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		out = append(out, rest[:n]...)
		rest = rest[n:]
		if final == 1 {
			break
		}
	}
	return binary.BigEndian.AppendUint32(out, adler32.Checksum(cose))
}

// Decompress inflates a zlib stream of at most MaxCOSESize bytes. Trailing
// bytes after the stream are an error: nothing may ride along unverified.
func Decompress(z []byte) ([]byte, error) {
	in := getInflater()
	defer inflaterPool.Put(in)
	out, err := in.inflate(make([]byte, 0, MaxCOSESize+1), z)
	if err != nil {
		return nil, err
	}
	return out, nil
}

type inflater struct {
	br bytes.Reader
	fr io.ReadCloser // flate reader; the zlib framing is checked by hand
}

var inflaterPool = sync.Pool{New: func() any { return newInflater() }}

func newInflater() *inflater {
	in := new(inflater)
	in.fr = flate.NewReader(&in.br)
	return in
}

func getInflater() *inflater { return inflaterPool.Get().(*inflater) }

var (
	errZlibHeader   = errors.New("not a zlib header (deflate, no preset dictionary)")
	errZlibChecksum = errors.New("zlib checksum mismatch")
)

// inflate appends the inflated z to dst, reading at most MaxCOSESize+1
// bytes of output: one byte past the cap is how a bomb is seen. The zlib
// framing (RFC 1950) is checked here rather than by compress/zlib, whose
// Reset allocates a checksum state per call.
func (in *inflater) inflate(dst, z []byte) ([]byte, error) {
	if len(z) < 2 || z[0]&0x0f != 8 || z[0]>>4 > 7 || (uint(z[0])<<8|uint(z[1]))%31 != 0 || z[1]&0x20 != 0 {
		return dst, errZlibHeader
	}
	in.br.Reset(z[2:])
	// bytes.Reader is an io.ByteReader, so flate reads it without a bufio
	// layer and stops exactly at the end of the deflate stream.
	if err := in.fr.(flate.Resetter).Reset(&in.br, nil); err != nil {
		return dst, err
	}
	start := len(dst)
	limit := start + MaxCOSESize + 1
	if cap(dst) < limit {
		dst = append(make([]byte, 0, limit), dst...)
	}
	for len(dst) < limit {
		n, err := in.fr.Read(dst[len(dst):limit])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, err
		}
	}
	if len(dst) == limit {
		return dst, errInflateTooBig
	}
	var sum [4]byte
	if _, err := io.ReadFull(&in.br, sum[:]); err != nil {
		return dst, io.ErrUnexpectedEOF
	}
	if binary.BigEndian.Uint32(sum[:]) != adler32.Checksum(dst[start:]) {
		return dst, errZlibChecksum
	}
	if in.br.Len() != 0 {
		return dst, errTrailing
	}
	return dst, nil
}
