package web

import (
	"fmt"
	"net/http"
	"strings"
)

// Lang is a language the pages speak. Chinese is the default; English is
// chosen with ?lang=en (remembered in a cookie).
type Lang int

// Languages.
const (
	ZH Lang = iota
	EN
)

const langCookie = "hc_lang"

// Code is the value of ?lang= and of the cookie.
func (l Lang) Code() string {
	if l == EN {
		return "en"
	}
	return "zh"
}

// Tag is the BCP 47 tag for <html lang>.
func (l Lang) Tag() string {
	if l == EN {
		return "en"
	}
	return "zh-CN"
}

// Name is how a switch link names the language, in that language.
func (l Lang) Name() string {
	if l == EN {
		return "English"
	}
	return "中文"
}

func parseLang(s string) (Lang, bool) {
	switch strings.ToLower(s) {
	case "zh", "zh-cn", "cn":
		return ZH, true
	case "en":
		return EN, true
	}
	return ZH, false
}

// langOf is the request's language: ?lang=, then the cookie, then Chinese.
// The browser's Accept-Language is not consulted: the product is Chinese
// first, and a resident's phone set to English still gets Chinese until
// they choose, so that staff and residents see the same words.
func langOf(r *http.Request) Lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	return ZH
}

// T returns the message for key in l, formatted with args. A missing key
// shows as itself, which the tests forbid.
func (l Lang) T(key string, args ...any) string {
	m, ok := catalog[key]
	if !ok {
		return key
	}
	s := m[l]
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// strings for scripts: the subset of the catalogue a script needs, in the
// page's language.
func (l Lang) subset(prefix string) map[string]string {
	out := map[string]string{}
	for k, m := range catalog {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = m[l]
		}
	}
	return out
}
