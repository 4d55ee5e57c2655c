package person

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base32"
	"encoding/binary"
	"strings"
)

// Handles maps a person's dense internal number to the opaque handle that
// codes carry and the API uses as the person id, and back, without a table:
// the handle is a keyed permutation of the number (a 4-round Feistel network
// over 64 bits with AES as the round function). Dense numbers let the status
// cache be an array (a few bytes per resident); the permutation keeps them
// from leaking how many people registered before someone, or letting anyone
// enumerate handles.
type Handles struct {
	b cipher.Block
}

// NewHandles builds the permutation from a 32-byte key (derive it from the
// master key: every node must use the same one).
func NewHandles(key []byte) (*Handles, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &Handles{b: b}, nil
}

// round is the Feistel round function. buf is the caller's scratch: the
// block's buffers escape through the cipher.Block interface, so one scratch
// for all four rounds is one allocation per Handle or Num instead of eight
// (Num runs on every scan).
func (h *Handles) round(buf *[32]byte, i int, x uint32) uint32 {
	in, out := buf[:16], buf[16:]
	clear(in)
	in[0] = byte(i)
	binary.BigEndian.PutUint32(in[1:], x)
	h.b.Encrypt(out, in)
	return binary.BigEndian.Uint32(out)
}

// Handle is the 8-byte handle of a person number.
func (h *Handles) Handle(num int64) [8]byte {
	buf := new([32]byte)
	l, r := uint32(uint64(num)>>32), uint32(num)
	for i := 0; i < 4; i++ {
		l, r = r, l^h.round(buf, i, r)
	}
	var out [8]byte
	binary.BigEndian.PutUint32(out[:4], l)
	binary.BigEndian.PutUint32(out[4:], r)
	return out
}

// Num inverts Handle. Any 8 bytes give some number; callers check that a
// person with that number exists.
func (h *Handles) Num(handle [8]byte) int64 {
	buf := new([32]byte)
	l, r := binary.BigEndian.Uint32(handle[:4]), binary.BigEndian.Uint32(handle[4:])
	for i := 3; i >= 0; i-- {
		l, r = r^h.round(buf, i, l), l
	}
	return int64(uint64(l)<<32 | uint64(r))
}

var idEnc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// ID is the public person id: the handle in lower-case Crockford base32 (13 characters).
func (h *Handles) ID(num int64) string {
	hd := h.Handle(num)
	return idEnc.EncodeToString(hd[:])
}

// ParseID returns the number behind a public id. A malformed id is "not
// found", like an unknown one, so ids cannot be probed.
func (h *Handles) ParseID(id string) (int64, error) {
	if len(id) != 13 {
		return 0, ErrNotFound
	}
	b, err := idEnc.DecodeString(strings.ToLower(id))
	if err != nil || len(b) != 8 {
		return 0, ErrNotFound
	}
	num := h.Num([8]byte(b))
	if num <= 0 {
		return 0, ErrNotFound
	}
	return num, nil
}
