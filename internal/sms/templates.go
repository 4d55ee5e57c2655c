package sms

import (
	"fmt"
	"strings"
	"text/template"
)

// Kinds of message (Message.Purpose), each with a template per language.
const (
	KindLoginCode    = "otp"    // vars: code, minutes
	KindColourChange = "status" // vars: name (masked), old, new (green|yellow|red), reason, advice
	// KindManagerRequest tells a dependent's managers that someone asks to
	// manage them too; KindManagerAdded that someone now does. vars: name
	// (the dependent, masked), phone (the requester's, masked).
	KindManagerRequest = "manager_request"
	KindManagerAdded   = "manager_added"
	// KindVaccinationReminder is sent the day before an appointment.
	KindVaccinationReminder = "vaccination" // vars: name (masked), time, site, dose
)

// Languages of the templates.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// templates are the texts per kind and language. The 【健康码】 signature
// leads the Chinese texts, as carriers in China require of every message;
// a login code fits one UCS-2 message (70 characters).
var templates = map[string]map[string]string{
	KindLoginCode: {
		LangZH: `【健康码】您的验证码是{{.code}}，{{.minutes}}分钟内有效，请勿告诉他人。`,
		LangEN: `[Health Code] Your login code is {{.code}}, valid for {{.minutes}} minutes. Do not share it.`,
	},
	KindColourChange: {
		LangZH: `【健康码】{{.name}}的健康码已由{{colour .old}}转为{{colour .new}}。原因：{{or .reason "原有风险信息已解除或到期。"}}` +
			`{{with .advice}}处理建议：{{.}}{{end}}`,
		// The reasons are written in Chinese by the rules; they are quoted
		// as they are.
		LangEN: `[Health Code] The health code of {{.name}} changed from {{colour .old}} to {{colour .new}}. ` +
			`Reason: {{or .reason "the earlier risk has been cleared or has expired."}}{{with .advice}} Advice: {{.}}{{end}}`,
	},
	KindManagerRequest: {
		LangZH: `【健康码】手机号{{.phone}}申请代办{{.name}}的健康码。如是您认识的家人，请在“我的代办”中同意；否则请拒绝。`,
		LangEN: `[Health Code] The phone {{.phone}} asks to manage the health code of {{.name}}. Approve it under "My dependents" only if you know them; otherwise refuse.`,
	},
	KindManagerAdded: {
		LangZH: `【健康码】手机号{{.phone}}已成为{{.name}}的代办人，可查看其健康码和检测结果。如有疑问请联系社区服务台。`,
		LangEN: `[Health Code] The phone {{.phone}} now manages {{.name}} and can see their health code and test results. If this is wrong, contact a service desk.`,
	},
	KindVaccinationReminder: vaccinationTemplates,
}

var vaccinationTemplates = map[string]string{
	LangZH: `【健康码】提醒：{{.name}}已预约明天{{.time}}在{{.site}}接种第{{.dose}}剂疫苗，请携带身份证件并出示健康码。如不能前往，请提前取消预约。`,
	LangEN: `[Health Code] Reminder: {{.name}} is booked for vaccine dose {{.dose}} tomorrow at {{.time}} at {{.site}}. ` +
		`Bring an ID and show the health code. If you cannot come, please cancel the appointment.`,
}

var colourWords = map[string]map[string]string{
	LangZH: {"green": "绿码", "yellow": "黄码", "red": "红码"},
	LangEN: {"green": "green", "yellow": "yellow", "red": "red"},
}

var parsed = func() map[string]map[string]*template.Template {
	out := map[string]map[string]*template.Template{}
	for kind, byLang := range templates {
		out[kind] = map[string]*template.Template{}
		for lang, text := range byLang {
			words := colourWords[lang]
			fm := template.FuncMap{"colour": func(c string) string {
				return words[c]
			}}
			out[kind][lang] = template.Must(template.New(kind + "." + lang).Option("missingkey=zero").Funcs(fm).Parse(text))
		}
	}
	return out
}()

// NormLang maps a language tag to one the templates speak: English for
// "en" and its variants, Chinese for anything else.
func NormLang(lang string) string {
	if l := strings.ToLower(lang); l == "en" || strings.HasPrefix(l, "en-") {
		return LangEN
	}
	return LangZH
}

// CheckLang accepts "" (the default), "zh-CN" and "en".
func CheckLang(lang string) error {
	switch lang {
	case "", LangZH, LangEN:
		return nil
	}
	return ErrLangUnknown.Withf("unknown language %q: use zh-CN or en", lang)
}

// Render is the text of a message of kind in lang with vars.
func Render(kind, lang string, vars map[string]string) (string, error) {
	byLang, ok := parsed[kind]
	if !ok {
		return "", ErrTemplateUnknown.Withf("no template for messages of kind %q", kind)
	}
	var b strings.Builder
	if err := byLang[NormLang(lang)].Execute(&b, vars); err != nil {
		return "", fmt.Errorf("sms: render %s: %w", kind, err)
	}
	return b.String(), nil
}
