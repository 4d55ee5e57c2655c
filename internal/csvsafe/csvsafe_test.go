package csvsafe

import "testing"

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"西津采样点":                          "西津采样点",
		"=HYPERLINK(\"http://x\",\"a\")": "'=HYPERLINK(\"http://x\",\"a\")",
		"+86 563":                        "'+86 563",
		"-1+1":                           "'-1+1",
		"@SUM(A1)":                       "'@SUM(A1)",
		"\tx":                            "'\tx",
		"\rx":                            "'\rx",
		"a=b":                            "a=b",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}
