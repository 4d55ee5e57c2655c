// Package csvsafe makes text safe in CSV files that people open in a
// spreadsheet program. Every CSV export of the product writes its free-text
// cells (names, addresses, anything typed by someone) through Text.
package csvsafe

import "strings"

// Text returns s as a cell a spreadsheet shows as text. A cell that starts
// with = + - @ or a tab or carriage return would be run as a formula (CSV
// injection: =HYPERLINK(...) in a venue's name), so it gets a leading
// apostrophe, which spreadsheets do not show. Numbers, ids and times are
// written as they are: a negative coordinate must stay a number.
func Text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
