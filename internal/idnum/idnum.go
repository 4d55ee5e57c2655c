package idnum

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type is the kind of identity document, as the API's id_type names it.
type Type string

const (
	ResidentID                Type = "resident_id"                 // 居民身份证, GB 11643-1999
	Passport                  Type = "passport"                    // any country's passport
	HKMacaoPermit             Type = "hk_macao_permit"             // 港澳居民来往内地通行证
	TaiwanPermit              Type = "taiwan_permit"               // 台湾居民来往大陆通行证
	ForeignPermanentResidence Type = "foreign_permanent_residence" // 外国人永久居留身份证
)

// Types lists every Type in the order forms should offer them.
func Types() []Type {
	return []Type{ResidentID, Passport, HKMacaoPermit, TaiwanPermit, ForeignPermanentResidence}
}

// ParseType accepts the API's id_type values. Surrounding spaces and case
// are forgiven because clients hand-write these strings.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Types() {
		if t == known {
			return t, nil
		}
	}
	if t == "" {
		return "", ErrIDTypeUnknown
	}
	return "", ErrIDTypeUnknown.Withf("unknown id_type %q; one of resident_id, passport, hk_macao_permit, taiwan_permit, foreign_permanent_residence", truncate(s, 40))
}

// Sex is read from the numbers that encode it (the parity of the sequence
// code); it is empty for documents whose number does not.
type Sex string

const (
	SexUnknown Sex = ""
	Male       Sex = "male"
	Female     Sex = "female"
)

// ID is a checked identity number. Number is the normalised form that
// should be stored, hashed for the blind index and compared; parsing it
// again gives the same ID.
type ID struct {
	Type   Type
	Number string
	// Region is the 6-digit GB/T 2260 address code of a resident ID: where
	// the number was first issued, possibly a county abolished since.
	Region string
	// Birth is the birth date (midnight UTC of that day) for resident IDs and
	// 18-digit permanent residence IDs; zero otherwise.
	Birth time.Time
	Sex   Sex
}

// Parse checks s as a number of type t against today's date.
func Parse(t Type, s string) (ID, error) {
	return ParseAt(t, s, time.Now())
}

// ParseAt is Parse with the clock passed in: a birth date after now (in
// China's time zone, where the number was issued) is rejected.
func ParseAt(t Type, s string, now time.Time) (ID, error) {
	n, err := normalize(s)
	if err != nil {
		return ID{}, err
	}
	switch t {
	case ResidentID:
		return parseResident(n, now)
	case ForeignPermanentResidence:
		return parseForeignPermanent(n, now)
	case HKMacaoPermit:
		return parseHKMacao(n)
	case TaiwanPermit:
		return parseTaiwan(n)
	case Passport:
		return parsePassport(n)
	}
	return ID{}, ErrIDTypeUnknown.Withf("unknown id_type %q", truncate(string(t), 40))
}

// normalize turns what people type or paste into the canonical form: no
// surrounding spaces, ASCII, upper case. Full-width forms come from Chinese
// input methods and are not a different number, so they are folded; a space
// inside a number is rejected rather than dropped, because it usually means
// two fields were pasted together.
func normalize(s string) (string, error) {
	s = strings.TrimFunc(s, isTrimmable)
	if s == "" {
		return "", ErrIDRequired
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if r == utf8.RuneError && isInvalidAt(s, i) {
			return "", ErrIDFormat.Withf("id_number is not valid UTF-8")
		}
		r = foldWidth(r)
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case unicode.IsSpace(r):
			return "", ErrIDFormat.Withf("id_number must not contain spaces")
		default:
			return "", ErrIDFormat.Withf("id_number may contain only letters and digits, found %q", r)
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}

func isTrimmable(r rune) bool {
	// Zero-width spaces and byte-order marks ride along when numbers are
	// copied out of chat apps and spreadsheets.
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size <= 1
}

// foldWidth maps full-width digits and Latin letters (U+FF10-FF5A) to ASCII.
func foldWidth(r rune) rune {
	switch {
	case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ':
		return r - '０' + '0'
	}
	return r
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truncate keeps error messages short when echoing hostile input.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// parseHKMacao accepts the card number (H/M + 8 digits), the older permit
// number with its 2-digit renewal count (H/M + 10 digits), and the permit
// for non-Chinese permanent residents (HA/MA + 7 digits).
func parseHKMacao(n string) (ID, error) {
	if len(n) != 9 && len(n) != 11 {
		return ID{}, ErrIDLength.Withf("a Hong Kong/Macao permit number has 9 characters (H12345678, HA1234567) or 11 on older permits, not %d", len(n))
	}
	if n[0] != 'H' && n[0] != 'M' {
		return ID{}, ErrIDFormat.Withf("a Hong Kong/Macao permit number starts with H (Hong Kong) or M (Macao)")
	}
	switch {
	case isDigits(n[1:]):
	case len(n) == 9 && n[1] == 'A' && isDigits(n[2:]):
	default:
		return ID{}, ErrIDFormat.Withf("a Hong Kong/Macao permit number is H or M followed by 8 or 10 digits, or HA or MA followed by 7 digits")
	}
	return ID{Type: HKMacaoPermit, Number: n}, nil
}

// parseTaiwan accepts the card number (8 digits) and the booklet number (10).
func parseTaiwan(n string) (ID, error) {
	if len(n) != 8 && len(n) != 10 {
		return ID{}, ErrIDLength.Withf("a Taiwan permit number has 8 digits (10 on the old booklet), not %d characters", len(n))
	}
	if !isDigits(n) {
		return ID{}, ErrIDFormat.Withf("a Taiwan permit number has only digits")
	}
	return ID{Type: TaiwanPermit, Number: n}, nil
}

// parsePassport applies the only rule that holds for every issuing country.
// A number with no digit is almost always a name typed into the wrong field,
// and one repeated character is a placeholder, so both are refused.
func parsePassport(n string) (ID, error) {
	if len(n) < 5 || len(n) > 20 {
		return ID{}, ErrIDLength.Withf("a passport number has 5 to 20 letters and digits, not %d", len(n))
	}
	if strings.IndexFunc(n, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 {
		return ID{}, ErrIDFormat.Withf("a passport number contains digits")
	}
	if strings.Count(n, n[:1]) == len(n) {
		return ID{}, ErrIDFormat.Withf("a passport number is not one repeated character")
	}
	return ID{Type: Passport, Number: n}, nil
}
