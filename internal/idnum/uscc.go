package idnum

import (
	"errors"
	"strings"

	"github.com/healthcode/healthcode/internal/apierr"
)

// usccAlphabet is the GB 32100-2015 character set: digits and the capital
// letters without I, O, S, V and Z, which are too easily read as 1, 0, 5, U
// and 2. A character's value is its index.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31 for positions 1 to 17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

var usccValue = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		v[usccAlphabet[i]] = int8(i)
	}
	return v
}()

// usccTypes maps each registration authority (position 1) to the
// organisation types (position 2) it registers: GB 32100-2015 table 1 and the
// authority codes assigned since (judicial administration, tourism, religion,
// trade unions, the military, public security, housing, agriculture,
// overseas Chinese federations). Every authority uses 9 for "other".
var usccTypes = map[byte]string{
	'1': "1239",    // 机构编制: 机关, 事业单位, 群众团体, 其他
	'2': "19",      // 外交: 外国常驻新闻机构
	'3': "1234569", // 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 商事调解组织
	'4': "19",      // 文化: 外国在华文化中心
	'5': "123459",  // 民政: 社会团体, 民办非企业单位, 基金会, 村民委员会, 居民委员会
	'6': "129",     // 旅游: 外国和港澳台旅游部门常驻代表机构
	'7': "129",     // 宗教: 宗教活动场所, 宗教院校
	'8': "129",     // 工会: 基层工会, 非法人工会组织
	'9': "1239",    // 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
	'A': "19",      // 中央军委改革和编制办公室: 军队事业单位
	'G': "19",      // 公安: 境外非政府组织代表机构
	'J': "19",      // 住房城乡建设: 业主大会
	'N': "1239",    // 农业农村: 组级, 村级, 乡镇级集体经济组织
	'Q': "1239",    // 侨联: 区县级, 乡镇级, 村级侨联组织
	'Y': "1",       // 其他
}

// usccRegionPrefixes are the first two digits of the registering
// authority's region code: the mainland provinces, 10 for national
// authorities (100000), and 66 for the Xinjiang Production and
// Construction Corps, whose registration offices have codes of their own.
var usccRegionPrefixes = codeSet(append(keys(mainland), "10", "66")...)

// USCCCheckChar computes the GB 32100 check character for the first 17
// characters of a unified social credit code. Exported for tools that
// generate test and demo venues.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, ErrUSCCLength.Withf("the body of a unified social credit code is 17 characters")
	}
	for i := 0; i < 17; i++ {
		if usccValue[first17[i]] < 0 {
			return 0, ErrUSCCFormat.Withf("%q is not a character of a unified social credit code", first17[i])
		}
	}
	return usccCheck(first17), nil
}

func usccCheck(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(usccValue[first17[i]]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// BuildUSCC makes a unified social credit code with valid check
// characters from its parts: the authority and type ("91"), the region
// (6 digits) and the 8-character organisation code body. For tools that
// generate test and demo organisations.
func BuildUSCC(authType, region, orgBody string) (string, error) {
	if len(authType) != 2 || len(region) != 6 || len(orgBody) != 8 {
		return "", ErrUSCCLength.Withf("a unified social credit code is built from 2, 6 and 8 characters")
	}
	for i := 0; i < 8; i++ {
		if c := orgBody[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", ErrUSCCFormat.Withf("%q is not a character of an organisation code", c)
		}
	}
	first17 := authType + region + orgBody + string(orgCheck(orgBody))
	c, err := USCCCheckChar(first17)
	if err != nil {
		return "", err
	}
	return ParseUSCC(first17 + string(c))
}

// orgCodeWeights are the GB 11714-1997 weights of the 8-character body of an
// organisation code.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgCheck computes the GB 11714 check character: digits count as
// themselves and letters as A=10 ... Z=35.
func orgCheck(body string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * orgCodeWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// ParseUSCC checks a unified social credit code (统一社会信用代码) and
// returns it normalised (upper case, ASCII). The two check characters catch
// typos; the authority, type and region checks catch codes from another
// scheme (a 15-digit business licence number, an organisation code alone).
func ParseUSCC(s string) (string, error) {
	n, err := normalize(s)
	if err != nil {
		// Same reasons, reported under this field's codes.
		if e, ok := apierr.As(err); ok {
			msg := strings.Replace(e.Message, "id_number", "the unified social credit code", 1)
			if errors.Is(err, ErrIDRequired) {
				return "", ErrUSCCRequired.Withf("%s", msg)
			}
			return "", ErrUSCCFormat.Withf("%s", msg)
		}
		return "", err
	}
	if len(n) != 18 {
		return "", ErrUSCCLength.Withf("a unified social credit code has 18 characters, not %d", len(n))
	}
	for i := 0; i < 18; i++ {
		if usccValue[n[i]] < 0 {
			return "", ErrUSCCFormat.Withf("%q at position %d is not used in unified social credit codes (no I, O, S, V or Z)", n[i], i+1)
		}
	}
	types, ok := usccTypes[n[0]]
	if !ok {
		return "", ErrUSCCAuthority.Withf("%q is not a registration authority code", n[0])
	}
	if strings.IndexByte(types, n[1]) < 0 {
		return "", ErrUSCCType.Withf("%q is not an organisation type of registration authority %q", n[1], n[0])
	}
	if !isDigits(n[2:8]) || !usccRegionPrefixes[n[2:4]] {
		return "", ErrUSCCRegion.Withf("positions 3-8 of a unified social credit code are a region code, not %s", n[2:8])
	}
	if orgCheck(n[8:16]) != n[16] {
		return "", ErrUSCCOrgCheckChar
	}
	if usccCheck(n[:17]) != n[17] {
		return "", ErrUSCCCheckChar
	}
	return n, nil
}
