package idnum

import (
	"strings"
	"unicode"
)

// NormalizePhone checks a mainland mobile number and returns its 11 digits,
// the form used to send SMS, to hash for login and to compare. People write
// "+86 138-1234-5678", "0086 13812345678" or "86 13812345678": the country
// prefix, spaces and hyphens are dropped; anything else is refused, since
// only mainland mobiles can receive the one-time codes.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimFunc(s, isTrimmable)
	if s == "" {
		return "", ErrPhoneRequired
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		r = foldWidth(r)
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == '＋':
			if b.Len() != 0 || i != 0 {
				return "", ErrPhoneFormat.Withf("+ may only start a phone number")
			}
			b.WriteByte('+')
		case r == '-' || r == '‐' || r == '－' || unicode.IsSpace(r):
		default:
			return "", ErrPhoneFormat
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+"):
		if !strings.HasPrefix(d, "+86") {
			return "", ErrPhoneCountry
		}
		d = d[3:]
	case strings.HasPrefix(d, "00"):
		if !strings.HasPrefix(d, "0086") {
			return "", ErrPhoneCountry
		}
		d = d[4:]
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		// An 11-digit mobile never starts with 8, so 86 + 11 digits is
		// unambiguous.
		d = d[2:]
	}
	if len(d) != 11 {
		return "", ErrPhoneLength.Withf("a mobile number has 11 digits, not %d", len(d))
	}
	if d[0] != '1' || d[1] < '3' {
		return "", ErrPhonePrefix
	}
	return d, nil
}
