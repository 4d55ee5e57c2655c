package web

import (
	"strings"
	"testing"
)

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"same", "a\nb", "a\nb", "=a =b"},
		{"added", "a\nc", "a\nb\nc", "=a +b =c"},
		{"removed", "a\nb\nc", "a\nc", "=a -b =c"},
		{"changed", "a\nb\nc", "a\nx\nc", "=a -b +x =c"},
		{"all new", "", "x", "- +x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range diffLines(tc.a, tc.b) {
				got = append(got, l.Op+l.Text)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("diff %q → %q: %s, want %s", tc.a, tc.b, g, tc.want)
			}
		})
	}
	ctx := diffContext(diffLines("1\n2\n3\n4\n5\n6\n7", "1\n2\n3\nX\n5\n6\n7"), 1)
	var got []string
	for _, l := range ctx {
		got = append(got, l.Op+l.Text)
	}
	if g := strings.Join(got, " "); g != "… =3 -4 +X =5 …" {
		t.Fatalf("context: %s", g)
	}
}
