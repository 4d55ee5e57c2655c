package idnum

import "time"

// chinaTime is where a birth date is "today": a baby born at 01:00 in
// Beijing is born on a date UTC has not reached yet. A fixed zone avoids
// depending on the tzdata of the host; China has no daylight saving.
var chinaTime = time.FixedZone("CST", 8*60*60)

// earliestBirth: nobody alive was born before it, and a number that says so
// is a typo.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// mainland lists the province-level codes of GB/T 2260 on the mainland.
var mainland = codeSet("11", "12", "13", "14", "15", "21", "22", "23",
	"31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46",
	"50", "51", "52", "53", "54", "61", "62", "63", "64", "65")

// residentPrefixes are the first two digits a GB 11643 number can have:
// the mainland provinces, Taiwan (71), Hong Kong (81) and Macao (82), and 83,
// which residence permits for Taiwan residents use (830000) although it is
// no province code.
var residentPrefixes = codeSet(append(keys(mainland), "71", "81", "82", "83")...)

func codeSet(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// mod112Weights are 2^(17-i) mod 11, the ISO 7064 MOD 11-2 weights of
// positions 1 to 17.
var mod112Weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// ResidentCheckChar computes the GB 11643 (ISO 7064 MOD 11-2) check
// character for the first 17 digits of a resident or 18-digit permanent
// residence number. Exported for tools that generate test and demo people.
func ResidentCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 || !isDigits(first17) {
		return 0, ErrIDFormat.Withf("the body of a GB 11643 number is 17 digits")
	}
	return mod112(first17), nil
}

func mod112(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * mod112Weights[i]
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

func checkMOD112(n string) error {
	if want := mod112(n[:17]); n[17] != want {
		return ErrIDCheckDigit
	}
	return nil
}

// parseResident checks a GB 11643-1999 number. The address code is not
// looked up in today's region table: it records where the number was first
// issued, and many counties have been merged or renamed since.
func parseResident(n string, now time.Time) (ID, error) {
	if len(n) != 18 {
		if len(n) == 15 && isDigits(n) {
			return ID{}, ErrIDLength.Withf("15-digit first-generation ID numbers are no longer valid (since 2013); enter the 18-character number")
		}
		return ID{}, ErrIDLength.Withf("a resident ID number has 18 characters, not %d", len(n))
	}
	if !isDigits(n[:17]) || !(isDigits(n[17:]) || n[17] == 'X') {
		return ID{}, ErrIDFormat.Withf("a resident ID number is 17 digits followed by a digit or X")
	}
	if !residentPrefixes[n[:2]] {
		return ID{}, ErrIDRegion.Withf("a resident ID number cannot start with %s: the first two digits are a province code", n[:2])
	}
	birth, err := birthDate(n[6:14], now)
	if err != nil {
		return ID{}, err
	}
	if err := checkMOD112(n); err != nil {
		return ID{}, err
	}
	return ID{Type: ResidentID, Number: n, Region: n[:6], Birth: birth, Sex: sexOf(n[16])}, nil
}

// parseForeignPermanent accepts both numbers in use: the 18-digit number of
// the 2023 card and the 15-character number of the older cards, which stay
// valid until they expire.
func parseForeignPermanent(n string, now time.Time) (ID, error) {
	switch len(n) {
	case 18:
		// 9, acceptance province (2), ISO 3166 numeric nationality (3),
		// birth date (8), sequence (3, sex in the parity), check.
		if !isDigits(n[:17]) || !(isDigits(n[17:]) || n[17] == 'X') {
			return ID{}, ErrIDFormat.Withf("an 18-character permanent residence number is 17 digits followed by a digit or X")
		}
		if n[0] != '9' {
			return ID{}, ErrIDFormat.Withf("an 18-digit permanent residence number starts with 9 (a number starting otherwise is a resident ID)")
		}
		if !mainland[n[1:3]] {
			return ID{}, ErrIDRegion.Withf("digits 2-3 of a permanent residence number are a province code, not %s", n[1:3])
		}
		if n[3:6] == "000" {
			return ID{}, ErrIDFormat.Withf("digits 4-6 of a permanent residence number are a nationality code, not 000")
		}
		birth, err := birthDate(n[6:14], now)
		if err != nil {
			return ID{}, err
		}
		if err := checkMOD112(n); err != nil {
			return ID{}, err
		}
		return ID{Type: ForeignPermanentResidence, Number: n, Birth: birth, Sex: sexOf(n[16])}, nil
	case 15:
		// Nationality (3 letters), acceptance place (4 digits, province
		// first), birth date YYMMDD, sequence, check.
		if !isLetters(n[:3]) || !isDigits(n[3:]) {
			return ID{}, ErrIDFormat.Withf("a 15-character permanent residence number is 3 letters (nationality) followed by 12 digits")
		}
		if !mainland[n[3:5]] {
			return ID{}, ErrIDRegion.Withf("digits 4-5 of a permanent residence number are a province code, not %s", n[3:5])
		}
		// The century is not written; the number is plausible if either
		// reading is a real date that has passed.
		_, err19 := birthDate("19"+n[7:13], now)
		_, err20 := birthDate("20"+n[7:13], now)
		if err19 != nil && err20 != nil {
			return ID{}, err19
		}
		return ID{Type: ForeignPermanentResidence, Number: n}, nil
	}
	return ID{}, ErrIDLength.Withf("a permanent residence number has 18 digits, or 15 characters on cards issued before December 2023, not %d", len(n))
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func sexOf(d byte) Sex {
	if (d-'0')%2 == 1 {
		return Male
	}
	return Female
}

// birthDate reads YYYYMMDD and checks it is a real calendar date between
// 1900-01-01 and today in China.
func birthDate(s string, now time.Time) (time.Time, error) {
	y := atoi(s[0:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if m < 1 || m > 12 || t.Day() != d || t.Month() != time.Month(m) {
		return time.Time{}, ErrIDBirthDate.Withf("the birth date %s-%s-%s in the number is not a calendar date", s[0:4], s[4:6], s[6:8])
	}
	ny, nm, nd := now.In(chinaTime).Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
	if t.After(today) {
		return time.Time{}, ErrIDBirthRange.Withf("the birth date %s in the number is in the future", t.Format(time.DateOnly))
	}
	if t.Before(earliestBirth) {
		return time.Time{}, ErrIDBirthRange.Withf("the birth date %s in the number is before 1900", t.Format(time.DateOnly))
	}
	return t, nil
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
