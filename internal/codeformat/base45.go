package codeformat

import "errors"

// base45Alphabet is RFC 9285's table. It is exactly the QR alphanumeric
// character set, which is why the format uses base45 rather than base64: a
// QR symbol holds 45 alphanumeric characters in 5.5 bits each.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var errBase45 = errors.New("invalid base45")

// base45Values maps a byte to its value in the alphabet, or 0xff.
var base45Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = byte(i)
	}
	return t
}()

// Base45Encode encodes b as RFC 9285 base45.
func Base45Encode(b []byte) string {
	return string(appendBase45(make([]byte, 0, base45EncodedLen(len(b))), b))
}

func base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

func appendBase45(dst, b []byte) []byte {
	for len(b) >= 2 {
		n := uint(b[0])<<8 | uint(b[1])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
		b = b[2:]
	}
	if len(b) == 1 {
		n := uint(b[0])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return dst
}

// Base45Decode decodes RFC 9285 base45. It rejects characters outside the
// alphabet, a dangling single character, and groups whose value does not
// fit their byte count (RFC 9285 section 6 makes those errors, and accepting
// them would give one code several spellings).
func Base45Decode(s string) ([]byte, error) {
	return appendBase45Decode(make([]byte, 0, len(s)/3*2+1), s)
}

func appendBase45Decode(dst []byte, s string) ([]byte, error) {
	for len(s) >= 3 {
		c, d, e := base45Values[s[0]], base45Values[s[1]], base45Values[s[2]]
		if c|d|e == 0xff { // any invalid character; valid values are < 64
			return dst, errBase45
		}
		n := uint(c) + uint(d)*45 + uint(e)*2025
		if n > 0xffff {
			return dst, errBase45
		}
		dst = append(dst, byte(n>>8), byte(n))
		s = s[3:]
	}
	switch len(s) {
	case 1:
		return dst, errBase45
	case 2:
		c, d := base45Values[s[0]], base45Values[s[1]]
		if c == 0xff || d == 0xff {
			return dst, errBase45
		}
		n := uint(c) + uint(d)*45
		if n > 0xff {
			return dst, errBase45
		}
		dst = append(dst, byte(n))
	}
	return dst, nil
}
