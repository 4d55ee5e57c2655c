package codes

import (
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/fact"
)

// Text is a message in the two languages the product speaks.
type Text = fact.Text

// reasonTexts is what a scanner shows for each reason a verification can
// give, so that every page and device says the same thing.
var reasonTexts = map[string]Text{
	string(codeformat.ReasonBadPrefix):    {ZH: "不是健康码", EN: "not a health code"},
	string(codeformat.ReasonBadBase45):    {ZH: "码内容损坏，请重新扫描", EN: "damaged code, scan again"},
	string(codeformat.ReasonBadZlib):      {ZH: "码内容损坏，请重新扫描", EN: "damaged code, scan again"},
	string(codeformat.ReasonBadCBOR):      {ZH: "码内容损坏，请重新扫描", EN: "damaged code, scan again"},
	string(codeformat.ReasonBadCOSE):      {ZH: "码格式无效", EN: "malformed code"},
	string(codeformat.ReasonUnknownKey):   {ZH: "签发机构不可信或密钥已失效", EN: "issuer not trusted or key retired"},
	string(codeformat.ReasonAlgMismatch):  {ZH: "签名算法不符", EN: "signature algorithm mismatch"},
	string(codeformat.ReasonBadSignature): {ZH: "签名无效，码可能被篡改", EN: "bad signature: the code may have been altered"},
	string(codeformat.ReasonExpired):      {ZH: "码已过期，请刷新后重新出示", EN: "code expired: refresh and show it again"},
	string(codeformat.ReasonNotYetValid):  {ZH: "码尚未生效，请检查设备时间", EN: "code not yet valid: check the device clock"},
	string(codeformat.ReasonRevoked):      {ZH: "该爱心码已作废", EN: "this care code was revoked"},
	string(codeformat.ReasonWrongKind):    {ZH: "此类码不能在此核验", EN: "this kind of code is not accepted here"},
	ReasonFever:                           {ZH: "体温异常（≥37.3℃），不予通行", EN: "fever (37.3 °C or more): not admitted"},
	ReasonYellow:                          {ZH: "黄码，不予通行", EN: "yellow code: not admitted"},
	ReasonRed:                             {ZH: "红码，不予通行", EN: "red code: not admitted"},
	"id_not_registered":                   {ZH: "该证件号未登记", EN: "identity number not registered"},
	ReasonLiveStatusUnavailable:           {ZH: "签发地区未及时返回实时状态，显示码内颜色", EN: "the issuing region did not answer in time: the colour shown is the one in the code"},
	ReasonVenueRefused + "starred":        {ZH: "行程卡带星号（到过中高风险地区所在城市），本场所不予通行", EN: "trip card starred (a city with a medium- or high-risk area): this venue does not admit you"},
	ReasonVenueRefused + "untested":       {ZH: "无近期核酸阴性结果，本场所不予通行", EN: "no recent negative nucleic-acid test: this venue does not admit you"},
}

// ReasonText is the message for a reason, and whether the reason is known.
func ReasonText(reason string) (Text, bool) {
	t, ok := reasonTexts[reason]
	return t, ok
}

// Reasons lists every reason a verification can give, in report order.
func Reasons() []string {
	out := make([]string, 0, len(codeformat.Reasons)+4)
	for _, r := range codeformat.Reasons {
		out = append(out, string(r))
	}
	return append(out, ReasonFever, ReasonYellow, ReasonRed, "id_not_registered", ReasonLiveStatusUnavailable,
		ReasonVenueRefused+"starred", ReasonVenueRefused+"untested")
}
