package idnum

import "testing"

// Published codes: the four companies' codes appear on their business
// licences and annual reports; the others are codes of national bodies
// (region 100000) found in public registers. Each passes both check
// characters, which a guessed code does with probability 1/341.
var publishedUSCC = []string{
	"91440300708461136T", // 腾讯科技(深圳)有限公司
	"914403001922038216", // 华为技术有限公司
	"91330100799655058B", // 阿里巴巴(中国)有限公司
	"91110108551385082Q", // 小米科技有限责任公司
	"91310000MA1FL1MMXL", // a Shanghai company, organisation code with MA prefix
	"12100000400000624D", // a central 事业单位
	"53100000500021676K", // a national foundation
	"111000000000131433", // a central government organ
}

func TestParseUSCCPublished(t *testing.T) {
	for _, code := range publishedUSCC {
		got, err := ParseUSCC(code)
		if err != nil {
			t.Errorf("ParseUSCC(%q): %v", code, err)
		} else if got != code {
			t.Errorf("ParseUSCC(%q) = %q", code, got)
		}
	}
}

func TestParseUSCCNormalises(t *testing.T) {
	for in, want := range map[string]string{
		" 91440300708461136t ": "91440300708461136T",
		"９１４４０３００７０８４６１１３６Ｔ":       "91440300708461136T",
		"91310000ma1fl1mmxl\u200b": "91310000MA1FL1MMXL",
	} {
		got, err := ParseUSCC(in)
		if err != nil || got != want {
			t.Errorf("ParseUSCC(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// usccWith builds a code with valid check characters from its parts, so
// each error test breaks exactly one rule.
func usccWith(t *testing.T, authType, region, orgBody string) string {
	t.Helper()
	body := authType + region + orgBody + string(orgCheck(orgBody))
	c, err := USCCCheckChar(body)
	if err != nil {
		t.Fatalf("USCCCheckChar(%q): %v", body, err)
	}
	return body + string(c)
}

func TestParseUSCCErrors(t *testing.T) {
	tests := []struct {
		name, in, code string
	}{
		{"empty", "", "uscc_required"},
		{"inner space", "9144030070846 1136T", "uscc_format"},
		{"short", "9144030070846113", "uscc_length"},
		{"old 15-digit licence number", "440301103097413", "uscc_length"},
		{"organisation code alone", "70846113-6", "uscc_format"},
		{"letter I", "91440300708461I36T", "uscc_format"},
		{"letter O", "9144030070846113OT", "uscc_format"},
		{"letter Z", "Z1440300708461136T", "uscc_format"},
		{"authority 0", usccWith(t, "01", "440300", "70846113"), "uscc_authority"},
		{"authority B", usccWith(t, "B1", "440300", "70846113"), "uscc_authority"},
		{"type 0", usccWith(t, "90", "440300", "70846113"), "uscc_type"},
		{"type 4 of 工商", usccWith(t, "94", "440300", "70846113"), "uscc_type"},
		{"type letter", usccWith(t, "9A", "440300", "70846113"), "uscc_type"},
		{"type 2 of 其他", usccWith(t, "Y2", "440300", "70846113"), "uscc_type"},
		{"region 00", usccWith(t, "91", "000000", "70846113"), "uscc_region"},
		{"region 99", usccWith(t, "91", "990000", "70846113"), "uscc_region"},
		{"region with letter", usccWith(t, "91", "44A300", "70846113"), "uscc_region"},
		{"organisation check", "91440300708461137T", "uscc_org_check_char"},
		{"final check", "91440300708461136U", "uscc_check_char"},
		{"swapped region digits", "91443000708461136T", "uscc_check_char"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseUSCC(tt.in)
			wantCode(t, err, tt.code)
		})
	}
}

// The credit code shares the identity number's normaliser: reporting its
// errors under uscc_ codes must leave the identity number's own alone.
func TestParseUSCCLeavesIDErrorsAlone(t *testing.T) {
	for _, in := range []string{"", "9144 0300"} {
		if _, err := ParseUSCC(in); err == nil {
			t.Fatalf("ParseUSCC(%q) accepted", in)
		}
	}
	_, err := Parse(ResidentID, "")
	wantCode(t, err, "id_required")
	_, err = Parse(ResidentID, "1101 0519")
	wantCode(t, err, "id_format")
}

func TestParseUSCCAuthorities(t *testing.T) {
	// One valid code per registration authority and type, to keep the
	// table honest when codes are added.
	for auth, types := range usccTypes {
		for i := 0; i < len(types); i++ {
			code := usccWith(t, string(auth)+types[i:i+1], "341881", "MA2N3X4B")
			if _, err := ParseUSCC(code); err != nil {
				t.Errorf("ParseUSCC(%q): %v", code, err)
			}
		}
	}
	// National and 兵团 registration offices.
	for _, region := range []string{"100000", "660000", "659001"} {
		if _, err := ParseUSCC(usccWith(t, "91", region, "12345678")); err != nil {
			t.Errorf("region %s: %v", region, err)
		}
	}
}

func TestUSCCCheckCharCatchesEverySingleTypo(t *testing.T) {
	good := publishedUSCC[0]
	for i := 0; i < 18; i++ {
		for j := 0; j < len(usccAlphabet); j++ {
			c := usccAlphabet[j]
			if c == good[i] {
				continue
			}
			bad := good[:i] + string(c) + good[i+1:]
			if _, err := ParseUSCC(bad); err == nil {
				t.Errorf("%s (position %d changed) was accepted", bad, i+1)
			}
		}
	}
	if _, err := USCCCheckChar("9144030070846113"); err == nil {
		t.Error("USCCCheckChar accepted 16 characters")
	}
	if _, err := USCCCheckChar("91440300708461I36"); err == nil {
		t.Error("USCCCheckChar accepted an I")
	}
}

func TestBuildUSCCMakesCodesThatParse(t *testing.T) {
	for _, body := range []string{"MA2N7T1D", "00000001", "70846113"} {
		code, err := BuildUSCC("91", "341881", body)
		if err != nil {
			t.Fatalf("BuildUSCC(%s): %v", body, err)
		}
		if len(code) != 18 || code[:8] != "91341881" || code[8:16] != body {
			t.Fatalf("BuildUSCC(%s) = %s", body, code)
		}
	}
	// The published code rebuilt from its parts is itself.
	if code, err := BuildUSCC("91", "440300", "70846113"); err != nil || code != "91440300708461136T" {
		t.Fatalf("rebuilt 腾讯: %s, %v", code, err)
	}
	if _, err := BuildUSCC("91", "341881", "MA2N7T1I"); err == nil {
		t.Fatal("an organisation code with I was accepted")
	}
}
