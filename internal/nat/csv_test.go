package nat

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitCSV(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		err  bool
	}{
		{"a,b,c", []string{"a", "b", "c"}, false},
		{" a , b ,c ", []string{"a", "b", "c"}, false},
		{`"a,b",c`, []string{"a,b", "c"}, false},
		{`"say ""hi""", x`, []string{`say "hi"`, "x"}, false},
		{`a,,`, []string{"a", "", ""}, false},
		{`""`, []string{""}, false},
		{` "q" ,z`, []string{"q", "z"}, false},
		{`"open`, nil, true},
		{`a"b,c`, nil, true},
		{`"a"b,c`, nil, true},
		{"", []string{""}, false},
	} {
		got, err := splitCSV(tc.line)
		if (err != nil) != tc.err || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%q: %q %v, want %q (error %v)", tc.line, got, err, tc.want, tc.err)
		}
	}
}

func TestReadCSVLineNumbers(t *testing.T) {
	lines := readCSV([]byte("\xef\xbb\xbfh1,h2\r\n\r\na,b\n  \n\"x\ny\n\xff,1\n"))
	want := []struct {
		num int
		err bool
	}{{1, false}, {3, false}, {5, true}, {6, false}, {7, true}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for i, w := range want {
		if lines[i].num != w.num || (lines[i].err != nil) != w.err {
			t.Errorf("line %d: %+v, want number %d error %v", i, lines[i], w.num, w.err)
		}
	}
	if lines[0].fields[0] != "h1" {
		t.Errorf("byte order mark kept: %q", lines[0].fields[0])
	}
}

// FuzzSplitCSV checks the line parser against encoding/csv: whatever a CSV
// writer makes of a record, the parser reads back (up to the white space
// around a field, which uploads trim), and it never panics on anything.
func FuzzSplitCSV(f *testing.F) {
	for _, s := range []string{"a,b", `"a,b",c`, `"x""y"`, " a ,b", "NG1,阴性", `"`, `a"`, ",,", "\t\"q\"\t,z"} {
		f.Add(s, "negative")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		splitCSV(a) // must not panic on any line
		if strings.ContainsAny(a+b, "\r\n") || !utf8.ValidString(a+b) {
			return
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{a, b})
		w.Flush()
		line := strings.TrimSuffix(buf.String(), "\n")
		got, err := splitCSV(line)
		if err != nil {
			t.Fatalf("%q (from %q, %q): %v", line, a, b, err)
		}
		want := []string{a, b}
		if len(got) != 2 {
			t.Fatalf("%q: %d fields %q", line, len(got), got)
		}
		for i := range want {
			// A quoted field keeps its inner white space; an unquoted one is
			// trimmed. csv.Writer quotes fields with a leading space.
			if got[i] != want[i] && got[i] != strings.TrimSpace(want[i]) {
				t.Fatalf("%q: field %d %q, want %q", line, i, got[i], want[i])
			}
		}
	})
}
