package idnum

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// CleanText readies a name or an address typed by someone for storing and
// showing to others: NFC-normalised (the same name typed on two phones is
// the same bytes) and trimmed. It refuses text holding control characters,
// line or paragraph separators, or invisible format characters, the bidi
// overrides among them (U+202E makes "gpj.exe" read "exe.jpg" and a name
// read as another's on an operator's screen). The zero-width joiner stays:
// emoji sequences need it.
func CleanText(field, s string) (string, error) {
	s = strings.TrimSpace(norm.NFC.String(s))
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return "", ErrTextInvalid.Withf("%s holds a control or invisible formatting character (U+%04X)", field, r)
		}
	}
	return s, nil
}
