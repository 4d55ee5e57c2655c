package idnum

import "testing"

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":       "13812345678",
		" 13812345678 ":     "13812345678",
		"138 1234 5678":     "13812345678",
		"138-1234-5678":     "13812345678",
		"+86 138 1234 5678": "13812345678",
		"+8613812345678":    "13812345678",
		"8613812345678":     "13812345678",
		"86 138-1234-5678":  "13812345678",
		"0086 13812345678":  "13812345678",
		"＋８６　１３８１２３４５６７８": "13812345678",
		"19912345678": "19912345678",
		"16612345678": "16612345678",
	} {
		got, err := NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizePhoneErrors(t *testing.T) {
	tests := []struct {
		in, code string
	}{
		{"", "phone_required"},
		{"   ", "phone_required"},
		{"138.1234.5678", "phone_format"},
		{"(0563)4012345", "phone_format"},
		{"1381234567x", "phone_format"},
		{"138+12345678", "phone_format"},
		{"++8613812345678", "phone_format"},
		{"tel:13812345678", "phone_format"},
		{"+1 415 555 0100", "phone_country"},
		{"+852 9123 4567", "phone_country"},
		{"00852 91234567", "phone_country"},
		{"1381234567", "phone_length"},
		{"138123456789", "phone_length"},
		{"+86 1381234567", "phone_length"},
		{"0563-4012345", "phone_prefix"}, // a landline has 11 digits too
		{"12812345678", "phone_prefix"},
		{"10086100861", "phone_prefix"},
		{"23812345678", "phone_prefix"},
	}
	for _, tt := range tests {
		_, err := NormalizePhone(tt.in)
		if err == nil {
			t.Errorf("NormalizePhone(%q) accepted", tt.in)
			continue
		}
		t.Run(tt.in, func(t *testing.T) { wantCode(t, err, tt.code) })
	}
}
