package entry

import (
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/foreign"
)

// reasonTexts is what a border desk or scanner shows for each reason a
// foreign credential is refused.
var reasonTexts = map[foreign.Reason]fact.Text{
	foreign.ReasonEmpty:          {ZH: "未提供凭证", EN: "no credential given"},
	foreign.ReasonBadPrefix:      {ZH: "不是欧盟数字新冠证书或SMART健康卡", EN: "neither an EU Digital COVID Certificate nor a SMART Health Card"},
	foreign.ReasonBadBase45:      {ZH: "证书内容损坏（Base45），请重新扫描", EN: "damaged certificate (base45): scan again"},
	foreign.ReasonBadCompression: {ZH: "凭证内容损坏（压缩数据），请重新扫描", EN: "damaged credential (compressed data): scan again"},
	foreign.ReasonBadCOSE:        {ZH: "证书签名结构（COSE）无效", EN: "malformed certificate signature structure (COSE)"},
	foreign.ReasonBadCBOR:        {ZH: "证书内容（CBOR/CWT）无效", EN: "malformed certificate content (CBOR/CWT)"},
	foreign.ReasonBadNumeric:     {ZH: "健康卡二维码数字内容无效（多段二维码请合并后扫描）", EN: "malformed health card QR digits (scan a multi-part card as a whole)"},
	foreign.ReasonBadJWS:         {ZH: "健康卡签名格式（JWS）无效", EN: "malformed health card signature (JWS)"},
	foreign.ReasonBadJSON:        {ZH: "健康卡内容无效", EN: "malformed health card content"},
	foreign.ReasonUnknownKey:     {ZH: "签发机构不在信任列表中", EN: "issuer not in the trust list"},
	foreign.ReasonBadSignature:   {ZH: "签名无效，凭证可能被篡改", EN: "bad signature: the credential may have been altered"},
	foreign.ReasonExpired:        {ZH: "凭证已过期", EN: "credential expired"},
	foreign.ReasonNotYetValid:    {ZH: "凭证尚未生效", EN: "credential not yet valid"},
	foreign.ReasonKeyUsage:       {ZH: "签发证书无权签发此类证明（检测/接种/康复）", EN: "the signer certificate may not sign this kind (test, vaccination, recovery)"},
	foreign.ReasonSchemaInvalid:  {ZH: "证书内容不符合欧盟DCC格式规范", EN: "the certificate breaks the EU DCC schema"},
	foreign.ReasonVCType:         {ZH: "不是健康卡（类型不符）", EN: "not typed as a health card"},
	foreign.ReasonRevoked:        {ZH: "签发机构已撤销该健康卡", EN: "the issuer revoked this card"},
}

// ReasonText is the message for a foreign credential's reason.
func ReasonText(r string) (fact.Text, bool) {
	t, ok := reasonTexts[foreign.Reason(r)]
	return t, ok
}

// Reasons lists every reason a foreign credential can be refused for.
func Reasons() []string {
	out := make([]string, len(foreign.Reasons))
	for i, r := range foreign.Reasons {
		out[i] = string(r)
	}
	return out
}
