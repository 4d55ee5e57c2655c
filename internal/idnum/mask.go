package idnum

import (
	"strings"
	"unicode"
)

// maskRune stands for every hidden character, one per rune, so a masked
// value keeps the length of the original.
const maskRune = '*'

// MaskName hides a name for display on codes, scanner screens and lists,
// keeping enough for the holder to recognise it as theirs.
//
// A name written with Han characters keeps its first and last character:
// 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜; a two-character name keeps the surname
// only: 张三 → 张*. A name in another script is masked word by word, each
// word keeping its first and (from three letters) its last letter:
// John Smith → J**n S***h, Li Na → L* N*. If every word is a single letter,
// all words but the first are hidden. A single character is returned as is:
// there is nothing to hide that would leave anything to show.
//
// The result is valid UTF-8 even when s is not, and surrounding spaces are
// dropped (runs of inner spaces in non-Han names become one).
func MaskName(s string) string {
	r := []rune(strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")))
	switch {
	case len(r) <= 1:
		return string(r)
	case hasHan(r):
		return string(keepEnds(r, 1, 1))
	}
	words := strings.Fields(string(r))
	masked := false
	for i, w := range words {
		wr := []rune(w)
		if len(wr) > 1 {
			words[i] = string(keepEnds(wr, 1, 1))
			masked = true
		}
	}
	if !masked {
		for i := 1; i < len(words); i++ {
			words[i] = string(maskRune)
		}
	}
	return strings.Join(words, " ")
}

func hasHan(r []rune) bool {
	for _, c := range r {
		if unicode.Is(unicode.Han, c) {
			return true
		}
	}
	return false
}

// keepEnds shows head runes at the start and tail at the end and masks the
// rest. A two-rune input keeps only its first rune, so the ends never cover
// the whole value.
func keepEnds(r []rune, head, tail int) []rune {
	if head+tail >= len(r) {
		head = min(head, len(r)-1)
		tail = 0
	}
	out := make([]rune, len(r))
	for i := range r {
		if i < head || i >= len(r)-tail {
			out[i] = r[i]
		} else {
			out[i] = maskRune
		}
	}
	return out
}

// MaskNumber hides an identity or document number, keeping the first and
// last four characters of long numbers: 34188119900101021X →
// 3418**********021X. Shorter numbers keep a quarter at each end (a 9-
// character passport number keeps 2 + 2), so at least half is always hidden;
// numbers of up to 3 characters are hidden entirely.
func MaskNumber(s string) string {
	r := []rune(strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD")))
	k := min(4, len(r)/4)
	if k == 0 {
		return strings.Repeat(string(maskRune), len(r))
	}
	return string(keepEnds(r, k, k))
}

// MaskPhone hides the middle four digits of a mobile number, as Chinese
// apps and operators do: 13812345678 → 138****5678. Input that is not a
// mainland mobile is masked like a document number.
func MaskPhone(s string) string {
	p, err := NormalizePhone(s)
	if err != nil {
		return MaskNumber(s)
	}
	return p[:3] + "****" + p[7:]
}
