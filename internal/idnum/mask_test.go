package idnum

import "testing"

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"张三丰":             "张*丰",
		"张三":              "张*",
		"欧阳娜娜":            "欧**娜",
		"张":               "张",
		"":                "",
		"  李四  ":          "李*",
		"爱新觉罗·溥仪":         "爱*****仪",
		"买买提·艾力":          "买****力",
		"John Smith":      "J**n S***h",
		"John  Smith ":    "J**n S***h",
		"Li Na":           "L* N*",
		"Jo":              "J*",
		"A B":             "A *",
		"A B C":           "A * *",
		"Mary Ann O Neil": "M**y A*n O N**l",
		"김민수":             "김*수",
		"さくら":             "さ*ら",
		"Zoë":             "Z*ë",
		"\xff\xfe张三":      "\ufffd*三",
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{
		"34188119900101021X": "3418**********021X",
		"USA310085061201":    "USA*********201",
		"E12345678":          "E1*****78",
		"H12345678":          "H1*****78",
		"12345678":           "12****78",
		"1234567":            "1*****7",
		"1234":               "1**4",
		"123":                "***",
		"1":                  "*",
		"":                   "",
		" 12345678 ":         "12****78",
		"一二三四五六七八":           "一二****七八",
	} {
		if got := MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":       "138****5678",
		"+86 138 1234 5678": "138****5678",
		"0563-4012345":      "056******345",
		"":                  "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  张三  ", "张三"},
		{"Zoe\u0301", "Zoé"}, // NFC
		{"👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"张\u202e三", ""},
		{"evil\u2066x\u2069", ""},
		{"a\u200fb", ""},
		{"a\u0085b", ""},
		{"a\u2028b", ""},
		{"a\u00adb", ""},
		{"a\x07b", ""},
	} {
		got, err := CleanText("name", tc.in)
		if tc.want == "" && err == nil || tc.want != "" && (err != nil || got != tc.want) {
			t.Errorf("CleanText(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
