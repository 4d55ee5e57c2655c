package codes

import "github.com/healthcode/healthcode/internal/code"

// Text is a message in the two languages the product speaks.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// reasonTexts is what a scanner shows for each reason a verification can
// give, so that every page and device says the same thing.
var reasonTexts = map[string]Text{
	string(code.ReasonBadPrefix):    {"不是健康码", "not a health code"},
	string(code.ReasonBadBase45):    {"码内容损坏，请重新扫描", "damaged code, scan again"},
	string(code.ReasonBadZlib):      {"码内容损坏，请重新扫描", "damaged code, scan again"},
	string(code.ReasonBadCBOR):      {"码内容损坏，请重新扫描", "damaged code, scan again"},
	string(code.ReasonBadCOSE):      {"码格式无效", "malformed code"},
	string(code.ReasonUnknownKey):   {"签发机构不可信或密钥已失效", "issuer not trusted or key retired"},
	string(code.ReasonAlgMismatch):  {"签名算法不符", "signature algorithm mismatch"},
	string(code.ReasonBadSignature): {"签名无效，码可能被篡改", "bad signature: the code may have been altered"},
	string(code.ReasonExpired):      {"码已过期，请刷新后重新出示", "code expired: refresh and show it again"},
	string(code.ReasonNotYetValid):  {"码尚未生效，请检查设备时间", "code not yet valid: check the device clock"},
	string(code.ReasonRevoked):      {"该爱心码已作废", "this care code was revoked"},
	string(code.ReasonWrongKind):    {"此类码不能在此核验", "this kind of code is not accepted here"},
	ReasonFever:                     {"体温异常（≥37.3℃），不予通行", "fever (37.3 °C or more): not admitted"},
	ReasonYellow:                    {"黄码，不予通行", "yellow code: not admitted"},
	ReasonRed:                       {"红码，不予通行", "red code: not admitted"},
	"id_not_registered":             {"该证件号未登记", "identity number not registered"},
}

// ReasonText is the message for a reason, and whether the reason is known.
func ReasonText(reason string) (Text, bool) {
	t, ok := reasonTexts[reason]
	return t, ok
}

// Reasons lists every reason a verification can give, in report order.
func Reasons() []string {
	out := make([]string, 0, len(code.Reasons)+4)
	for _, r := range code.Reasons {
		out = append(out, string(r))
	}
	return append(out, ReasonFever, ReasonYellow, ReasonRed, "id_not_registered")
}
