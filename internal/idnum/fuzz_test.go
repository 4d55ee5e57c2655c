package idnum

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
)

// FuzzParse: no input panics, every rejection is a client error, and an
// accepted number is canonical: parsing its Number gives the same ID.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		typ uint8
		s   string
	}{
		{0, "11010519491231002X"}, {0, "341881199001010211"}, {0, "34188119900101021x"},
		{0, "１１０１０５１９４９１２３１００２Ｘ"}, {0, "341881900101021"}, {0, "810000199408230021"},
		{0, "34188119900230021X"}, {0, "\ufeff341881199001010211"}, {0, ""}, {0, "\xff"},
		{1, "E12345678"}, {1, "ea1234567"}, {1, "00000000"}, {1, "ZHANGSAN"},
		{2, "H12345678"}, {2, "M1234567801"}, {2, "HA1234567"},
		{3, "12345678"}, {3, "1234567801"},
		{4, "931840198506120017"}, {4, "USA310085061201"}, {4, "DEU110000022901"},
		{5, "whatever"},
	}
	for _, s := range seeds {
		f.Add(s.typ, s.s)
	}
	types := append(Types(), Type("unknown"))
	f.Fuzz(func(t *testing.T, ti uint8, s string) {
		typ := types[int(ti)%len(types)]
		id, err := ParseAt(typ, s, now)
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("ParseAt(%s, %q): %v is not an *apierr.Error", typ, s, err)
			}
			return
		}
		if id.Type != typ {
			t.Fatalf("ParseAt(%s, %q).Type = %s", typ, s, id.Type)
		}
		for i := 0; i < len(id.Number); i++ {
			if c := id.Number[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				t.Fatalf("ParseAt(%s, %q).Number = %q has %q", typ, s, id.Number, c)
			}
		}
		again, err := ParseAt(typ, id.Number, now)
		if err != nil || again != id {
			t.Fatalf("re-parse of %q: %+v, %v; first parse %+v", id.Number, again, err, id)
		}
		if typ == ResidentID && (id.Region != id.Number[:6] || id.Birth.IsZero() || id.Sex == SexUnknown) {
			t.Fatalf("resident ID %q parsed without region, birth or sex: %+v", s, id)
		}
	})
}

func FuzzParseUSCC(f *testing.F) {
	for _, s := range publishedUSCC {
		f.Add(s)
	}
	for _, s := range []string{"", "91440300708461136t", "９１４４０３００７０８４６１１３６Ｔ", "440301103097413", "91440300708461I36T", "Y1100000MA2N3X4B0X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseUSCC(s)
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("ParseUSCC(%q): %v is not an *apierr.Error", s, err)
			}
			return
		}
		if len(code) != 18 {
			t.Fatalf("ParseUSCC(%q) = %q", s, code)
		}
		if again, err := ParseUSCC(code); err != nil || again != code {
			t.Fatalf("re-parse of %q: %q, %v", code, again, err)
		}
	})
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138-1234-5678", "0086 13812345678", "8613812345678", "＋８６１３８１２３４５６７８", "+1 415 555 0100", "", "+", "86", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePhone(s)
		if err != nil {
			if _, ok := apierr.As(err); !ok {
				t.Fatalf("NormalizePhone(%q): %v is not an *apierr.Error", s, err)
			}
			return
		}
		if len(p) != 11 || !isDigits(p) || p[0] != '1' {
			t.Fatalf("NormalizePhone(%q) = %q", s, p)
		}
		if again, err := NormalizePhone(p); err != nil || again != p {
			t.Fatalf("re-normalise of %q: %q, %v", p, again, err)
		}
		if m := MaskPhone(s); m != p[:3]+"****"+p[7:] {
			t.Fatalf("MaskPhone(%q) = %q", s, m)
		}
	})
}

// checkMasked asserts the privacy promise of every mask: valid UTF-8, and
// for inputs of more than 2 runes, never the input itself. An input that
// already holds the mask character may legitimately mask to itself (张*丰 is
// already masked), so it is exempt from the second rule.
func checkMasked(t *testing.T, fn, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q) = %q is not valid UTF-8", fn, in, out)
	}
	if utf8.RuneCountInString(in) > 2 && !strings.ContainsRune(in, maskRune) && out == in {
		t.Fatalf("%s(%q) returned its input", fn, in)
	}
}

func FuzzMaskName(f *testing.F) {
	for _, s := range []string{"张三丰", "张三", "欧阳娜娜", "张", "John Smith", "A B", "  ", "a\u0300b", "\xff\xfe\xfd", "爱新觉罗·溥仪", "김민수", " A  B "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := MaskName(s)
		checkMasked(t, "MaskName", s, out)
		// Masking what is already masked changes nothing, so a masked name
		// can be stored and shown again without degrading.
		if again := MaskName(out); again != out {
			t.Fatalf("MaskName(MaskName(%q)) = %q, want %q", s, again, out)
		}
	})
}

func FuzzMaskNumber(f *testing.F) {
	for _, s := range []string{"34188119900101021X", "E12345678", "123", "1234", "", "一二三四五", "\xff\xff\xff\xff", "13812345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMasked(t, "MaskNumber", s, MaskNumber(s))
		checkMasked(t, "MaskPhone", s, MaskPhone(s))
		// At least half of a number is hidden.
		out := []rune(MaskNumber(s))
		hidden := 0
		for _, r := range out {
			if r == maskRune {
				hidden++
			}
		}
		if 2*hidden < len(out) && !strings.ContainsRune(s, maskRune) {
			t.Fatalf("MaskNumber(%q) = %q hides less than half", s, string(out))
		}
	})
}
