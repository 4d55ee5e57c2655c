package entry

import "strings"

// alpha3 maps ISO 3166 alpha-2 country codes (what a DCC's iss and co
// carry) to the alpha-3 codes (GB/T 2659) facts record: the EU and EEA
// states, the other countries connected to the DCC gateway, and China's
// frequent origins. A country missing here is given in alpha-3 by the desk.
var alpha3 = map[string]string{
	"AD": "AND", "AE": "ARE", "AL": "ALB", "AM": "ARM", "AR": "ARG", "AT": "AUT", "AU": "AUS", "BA": "BIH", "BD": "BGD",
	"BE": "BEL", "BG": "BGR", "BR": "BRA", "BY": "BLR", "CA": "CAN", "CH": "CHE", "CL": "CHL", "CN": "CHN", "CO": "COL",
	"CV": "CPV", "CY": "CYP", "CZ": "CZE", "DE": "DEU", "DK": "DNK", "EE": "EST", "EG": "EGY", "ES": "ESP", "FI": "FIN",
	"FO": "FRO", "FR": "FRA", "GB": "GBR", "GE": "GEO", "GR": "GRC", "HK": "HKG", "HR": "HRV", "HU": "HUN", "ID": "IDN",
	"IE": "IRL", "IL": "ISR", "IN": "IND", "IS": "ISL", "IT": "ITA", "JO": "JOR", "JP": "JPN", "KH": "KHM", "KR": "KOR",
	"KZ": "KAZ", "LA": "LAO", "LB": "LBN", "LI": "LIE", "LK": "LKA", "LT": "LTU", "LU": "LUX", "LV": "LVA", "MA": "MAR",
	"MC": "MCO", "MD": "MDA", "ME": "MNE", "MG": "MDG", "MK": "MKD", "MM": "MMR", "MN": "MNG", "MO": "MAC", "MT": "MLT",
	"MX": "MEX", "MY": "MYS", "NG": "NGA", "NL": "NLD", "NO": "NOR", "NP": "NPL", "NZ": "NZL", "PA": "PAN", "PE": "PER",
	"PH": "PHL", "PK": "PAK", "PL": "POL", "PT": "PRT", "QA": "QAT", "RO": "ROU", "RS": "SRB", "RU": "RUS", "SA": "SAU",
	"SE": "SWE", "SG": "SGP", "SI": "SVN", "SK": "SVK", "SM": "SMR", "SN": "SEN", "SV": "SLV", "TG": "TGO", "TH": "THA",
	"TN": "TUN", "TR": "TUR", "TW": "TWN", "TZ": "TZA", "UA": "UKR", "US": "USA", "UY": "URY", "UZ": "UZB", "VA": "VAT",
	"VN": "VNM", "ZA": "ZAF",
}

// Alpha3 returns the alpha-3 code of an alpha-2 or alpha-3 country code
// ("" when it is neither).
func Alpha3(code string) string {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch len(c) {
	case 2:
		return alpha3[c]
	case 3:
		for _, r := range c {
			if r < 'A' || r > 'Z' {
				return ""
			}
		}
		return c
	}
	return ""
}
