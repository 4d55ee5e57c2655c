// Package idnum parses and checks the identity numbers residents register
// with, the unified social credit codes venues register with, and mainland
// mobile numbers, and masks names and numbers for display.
//
// It is a leaf: no database, no HTTP, no clock except the one a caller
// passes to ParseAt. Every error a caller can fix is an *apierr.Error with a
// stable code, so the API can tell a resident which part of a number is
// wrong. docs/IDNUMBERS.md lists the formats, codes and rules in full.
//
// Sources:
//   - Resident ID: GB 11643-1999 公民身份号码 (6-digit address code, 8-digit
//     birth date, 3-digit sequence with sex in its parity, ISO 7064:1983
//     MOD 11-2 check character). Residence permits for Hong Kong, Macao and
//     Taiwan residents (港澳台居民居住证, 2018) use the same scheme with the
//     address codes 810000, 820000 and 830000.
//   - Foreign permanent residence ID (外国人永久居留身份证): National
//     Immigration Administration, 新版外国人永久居留身份证机读信息规则 (2023):
//     the 2023 card changed the number "from 15 characters (3 Latin letters +
//     12 digits) to 18 (17 digits + 1 check character)", the first digit is 9,
//     and the check character is MOD 11-2 as for resident IDs. The layout of
//     the digits (acceptance province, ISO 3166 numeric nationality, birth
//     date, sequence) and of the 15-character number (ISO 3166 alpha-3
//     nationality, 4-digit acceptance place, YYMMDD birth date, sequence,
//     check) follows public implementations (xiahaimoyu credentialkit); the
//     algorithm of the old 15th character is not published by the NIA, so it
//     is not enforced.
//   - Mainland travel permit for Hong Kong and Macao residents
//     (港澳居民来往内地通行证): H or M + 8 digits on the card issued since
//     2013, H or M + 10 digits on older permits (the last two digits count
//     renewals), and since 2024-07-10 HA or MA + 7 digits for non-Chinese
//     permanent residents (NIA announcement, 2024-07-01: "证件号码共9位 ...
//     HA字头 ... MA字头").
//   - Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证):
//     8 digits on the card issued since 2015, 10 digits on the older booklet.
//   - Passports: ICAO Doc 9303 puts no check digit in the printed number.
//     Chinese passports use E + 8 digits, E + letter + 7 digits, G + 8 digits
//     (2006-2012), and D, S, P prefixes for diplomatic, service and public
//     affairs passports; foreign numbers are 5 to 20 letters and digits in
//     practice. Since the API does not say which country issued a passport,
//     only the generic rule can be enforced: a stricter Chinese rule would
//     reject genuine foreign numbers such as an Indian E1234567.
//   - Unified social credit code: GB 32100-2015 法人和其他组织统一社会信用代码
//     编码规则, with the registration authority codes added since; the
//     organisation code inside it carries a GB 11714-1997 check character.
//   - Mobile numbers: 11 digits starting 13-19 (MIIT numbering plan).
package idnum
