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
