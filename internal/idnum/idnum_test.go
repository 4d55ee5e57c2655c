package idnum

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
)

// now is a fixed clock: 2024-06-15 10:00 in Beijing.
var now = time.Date(2024, 6, 15, 2, 0, 0, 0, time.UTC)

// withCheck completes a 17-digit body with its GB 11643 check character.
func withCheck(t testing.TB, body string) string {
	t.Helper()
	c, err := ResidentCheckChar(body)
	if err != nil {
		t.Fatalf("ResidentCheckChar(%q): %v", body, err)
	}
	return body + string(c)
}

// wantCode fails unless err is a 400 *apierr.Error with the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok {
		t.Fatalf("error %v is not an *apierr.Error, want code %s", err, code)
	}
	if e.Code != code || e.Status != http.StatusBadRequest {
		t.Fatalf("got %d %s (%s), want 400 %s", e.Status, e.Code, e.Message, code)
	}
	if e.Message == "" {
		t.Fatalf("%s has no message", code)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseType(t *testing.T) {
	for _, s := range []string{"resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent_residence", " Passport "} {
		if _, err := ParseType(s); err != nil {
			t.Errorf("ParseType(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "id_card", "residentid", "身份证"} {
		_, err := ParseType(s)
		wantCode(t, err, "id_type_unknown")
	}
	_, err := ParseAt(Type("driving_licence"), "123456", now)
	wantCode(t, err, "id_type_unknown")
}

func TestParseResidentID(t *testing.T) {
	tests := []struct {
		in     string
		number string
		region string
		birth  time.Time
		sex    Sex
	}{
		// The example of GB 11643-1999 itself.
		{"11010519491231002X", "11010519491231002X", "110105", date(1949, 12, 31), Female},
		{"341881199001010211", "341881199001010211", "341881", date(1990, 1, 1), Male},
		{" 11010519491231002x\t", "11010519491231002X", "110105", date(1949, 12, 31), Female},
		{"１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", "110105", date(1949, 12, 31), Female},
		{"\ufeff341881199001010211\u200b", "341881199001010211", "341881", date(1990, 1, 1), Male},
		// Residence permits for Hong Kong and Taiwan residents.
		{"810000199408230021", "810000199408230021", "810000", date(1994, 8, 23), Female},
		{"830000199201300022", "830000199201300022", "830000", date(1992, 1, 30), Female},
		// An address code that no longer exists (巢湖地区, abolished 2011).
		{withCheck(t, "34250119800101001"), withCheck(t, "34250119800101001"), "342501", date(1980, 1, 1), Male},
		// Leap day, and born today in Beijing although it is still
		// yesterday in UTC at 02:00.
		{withCheck(t, "34188120000229002"), withCheck(t, "34188120000229002"), "341881", date(2000, 2, 29), Female},
		{withCheck(t, "34188120240615003"), withCheck(t, "34188120240615003"), "341881", date(2024, 6, 15), Male},
		{withCheck(t, "34188119000101001"), withCheck(t, "34188119000101001"), "341881", date(1900, 1, 1), Male},
	}
	for _, tt := range tests {
		id, err := ParseAt(ResidentID, tt.in, now)
		if err != nil {
			t.Errorf("ParseAt(%q): %v", tt.in, err)
			continue
		}
		want := ID{Type: ResidentID, Number: tt.number, Region: tt.region, Birth: tt.birth, Sex: tt.sex}
		if id != want {
			t.Errorf("ParseAt(%q) = %+v, want %+v", tt.in, id, want)
		}
	}
}

func TestParseResidentIDErrors(t *testing.T) {
	tests := []struct {
		name, in, code string
	}{
		{"empty", "", "id_required"},
		{"blank", " \u3000 ", "id_required"},
		{"first generation", "341881900101021", "id_length"},
		{"short", "34188119900101021", "id_length"},
		{"long", "3418811990010102111", "id_length"},
		{"inner space", "341881 199001010211", "id_format"},
		{"punctuation", "341881-19900101021", "id_format"},
		{"letter inside", "3418811990O1010211", "id_format"},
		{"X not last", "34188119900101X211", "id_format"},
		{"invalid utf-8", "34188119900101021\xff", "id_format"},
		{"no province 00", withCheck(t, "00188119900101021"), "id_region"},
		{"no province 91", withCheck(t, "91188119900101021"), "id_region"},
		{"no province 66", withCheck(t, "66188119900101021"), "id_region"},
		{"month 13", withCheck(t, "34188119901301021"), "id_birth_date"},
		{"month 00", withCheck(t, "34188119900001021"), "id_birth_date"},
		{"day 00", withCheck(t, "34188119900100021"), "id_birth_date"},
		{"31 April", withCheck(t, "34188119900431021"), "id_birth_date"},
		{"29 Feb 1900", withCheck(t, "34188119000229021"), "id_birth_date"},
		{"29 Feb 2023", withCheck(t, "34188120230229021"), "id_birth_date"},
		{"tomorrow", withCheck(t, "34188120240616021"), "id_birth_range"},
		{"far future", withCheck(t, "34188129990101021"), "id_birth_range"},
		{"before 1900", withCheck(t, "34188118991231021"), "id_birth_range"},
		{"GB 11643 example born 1880", "440524188001010014", "id_birth_range"},
		{"wrong check", "341881199001010212", "id_check_digit"},
		{"X where a digit belongs", "34188119900101021X", "id_check_digit"},
		{"swapped digits", "341881199001012011", "id_check_digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAt(ResidentID, tt.in, now)
			wantCode(t, err, tt.code)
		})
	}
}

func TestResidentCheckCharCatchesEverySingleDigitTypo(t *testing.T) {
	good := "341881199001010211"
	for i := 0; i < 17; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if d == good[i] {
				continue
			}
			bad := good[:i] + string(d) + good[i+1:]
			if _, err := ParseAt(ResidentID, bad, now); err == nil {
				t.Errorf("%s (position %d changed) was accepted", bad, i+1)
			}
		}
	}
	if _, err := ResidentCheckChar("1234"); err == nil {
		t.Error("ResidentCheckChar accepted a short body")
	}
}

func TestParseForeignPermanentResidence(t *testing.T) {
	n18 := withCheck(t, "93184019850612001") // 9, Shanghai, USA (840), 1985-06-12, 001
	tests := []struct {
		in   string
		want ID
	}{
		{n18, ID{Type: ForeignPermanentResidence, Number: n18, Birth: date(1985, 6, 12), Sex: Male}},
		{"usa310085061201", ID{Type: ForeignPermanentResidence, Number: "USA310085061201"}},
		// 00-02-29 is a date in 2000 only.
		{"DEU110000022901", ID{Type: ForeignPermanentResidence, Number: "DEU110000022901"}},
		// The sample number of a public implementation.
		{"KAZ110090123105", ID{Type: ForeignPermanentResidence, Number: "KAZ110090123105"}},
	}
	for _, tt := range tests {
		got, err := ParseAt(ForeignPermanentResidence, tt.in, now)
		if err != nil {
			t.Errorf("ParseAt(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAt(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}

	errs := []struct {
		name, in, code string
	}{
		{"empty", "", "id_required"},
		{"length", "USA3100850612", "id_length"},
		{"resident ID instead", "341881199001010211", "id_format"},
		{"18 with letters", "9318401985061200A1", "id_format"},
		{"15 digits only", "123310085061201", "id_format"},
		{"15 with letter in digits", "USA31008506120A", "id_format"},
		{"18 province", withCheck(t, "97184019850612001"), "id_region"},
		{"18 Hong Kong is not a place of acceptance", withCheck(t, "98184019850612001"), "id_region"},
		{"15 province", "USA990085061201", "id_region"},
		{"18 nationality 000", withCheck(t, "93100019850612001"), "id_format"},
		{"18 birth date", withCheck(t, "93184019850230001"), "id_birth_date"},
		{"18 birth future", withCheck(t, "93184020250101001"), "id_birth_range"},
		{"15 birth date", "USA310085023001", "id_birth_date"},
		{"15 Feb 29 in neither century", "USA310001022901", "id_birth_date"},
		{"18 check", "931840198506120010", "id_check_digit"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if tt.code == "id_check_digit" && tt.in == withCheck(t, tt.in[:17]) {
				t.Fatalf("test number %s has a valid check character", tt.in)
			}
			_, err := ParseAt(ForeignPermanentResidence, tt.in, now)
			wantCode(t, err, tt.code)
		})
	}
}

func TestParsePermitsAndPassports(t *testing.T) {
	ok := []struct {
		typ    Type
		in     string
		number string
	}{
		{HKMacaoPermit, "H12345678", "H12345678"},
		{HKMacaoPermit, "m87654321", "M87654321"},
		{HKMacaoPermit, "H1234567801", "H1234567801"},
		{HKMacaoPermit, "HA1234567", "HA1234567"},
		{HKMacaoPermit, "MA7654321", "MA7654321"},
		{TaiwanPermit, "12345678", "12345678"},
		{TaiwanPermit, "1234567801", "1234567801"},
		{TaiwanPermit, "１２３４５６７８", "12345678"},
		{Passport, "E12345678", "E12345678"},
		{Passport, "ea1234567", "EA1234567"},
		{Passport, "G12345678", "G12345678"},
		{Passport, "DE1234567", "DE1234567"},
		{Passport, "P1234567", "P1234567"},
		{Passport, "K12345678", "K12345678"}, // Hong Kong SAR
		{Passport, "E1234567", "E1234567"},   // India
		{Passport, "C01X00T47", "C01X00T47"}, // Germany
		{Passport, "123456789", "123456789"}, // United States
		{Passport, "TR1234567", "TR1234567"}, // Japan
		{Passport, "ab12345", "AB12345"},     // generic short
		{Passport, "AB1234567890123456", "AB1234567890123456"},
	}
	for _, tt := range ok {
		id, err := ParseAt(tt.typ, tt.in, now)
		if err != nil {
			t.Errorf("ParseAt(%s, %q): %v", tt.typ, tt.in, err)
			continue
		}
		want := ID{Type: tt.typ, Number: tt.number}
		if id != want {
			t.Errorf("ParseAt(%s, %q) = %+v, want %+v", tt.typ, tt.in, id, want)
		}
	}

	bad := []struct {
		typ      Type
		in, code string
	}{
		{HKMacaoPermit, "", "id_required"},
		{HKMacaoPermit, "H1234567", "id_length"},
		{HKMacaoPermit, "H123456789", "id_length"},
		{HKMacaoPermit, "K12345678", "id_format"},
		{HKMacaoPermit, "H1234567A", "id_format"},
		{HKMacaoPermit, "HB1234567", "id_format"},
		{HKMacaoPermit, "HA123456789", "id_format"},
		{HKMacaoPermit, "H 12345678", "id_format"},
		{HKMacaoPermit, "H12345678(01)", "id_format"},
		{TaiwanPermit, "1234567", "id_length"},
		{TaiwanPermit, "123456789", "id_length"},
		{TaiwanPermit, "1234567A", "id_format"},
		{TaiwanPermit, "T12345678", "id_length"},
		{Passport, "E123", "id_length"},
		{Passport, "E12345678901234567890", "id_length"},
		{Passport, "ZHANGSAN", "id_format"},
		{Passport, "00000000", "id_format"},
		{Passport, "E1234-5678", "id_format"},
		{Passport, "E１２３４ 5678", "id_format"},
	}
	for _, tt := range bad {
		_, err := ParseAt(tt.typ, tt.in, now)
		if err == nil {
			t.Errorf("ParseAt(%s, %q) accepted", tt.typ, tt.in)
			continue
		}
		e, _ := apierr.As(err)
		if e == nil || e.Code != tt.code {
			t.Errorf("ParseAt(%s, %q) = %v, want code %s", tt.typ, tt.in, err, tt.code)
		}
	}
}

func TestParseUsesTodaysDate(t *testing.T) {
	tomorrow := time.Now().In(chinaTime).AddDate(0, 0, 1).Format("20060102")
	_, err := Parse(ResidentID, withCheck(t, "341881"+tomorrow+"001"))
	wantCode(t, err, "id_birth_range")
	if _, err := Parse(ResidentID, "341881199001010211"); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAreAPIErrors(t *testing.T) {
	// Every rejection must be a client error, never a 500.
	inputs := []string{"", "x", "341881199001010212", "H1", "\xff\xfe", strings.Repeat("9", 100)}
	for _, typ := range Types() {
		for _, in := range inputs {
			_, err := ParseAt(typ, in, now)
			var e *apierr.Error
			if err != nil && !errors.As(err, &e) {
				t.Errorf("ParseAt(%s, %q) = %v, not an *apierr.Error", typ, in, err)
			}
		}
	}
}
