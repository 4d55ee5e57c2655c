package web_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/healthcode/healthcode/internal/web"
)

// Every page in both languages: the walk logs in as a resident with
// dependents and as the administrator, opens every page the web server
// declares (and every page their links reach, demo data in them), in
// Chinese and in English, and fails on a string left in the other language:
// an English phrase or a bare code word (companion, otp, refused) in a
// Chinese page, a catalogue line's Chinese in an English page. Names,
// places and what the operator typed stay as they are; ids, rule ids and
// the compiler's words are marked as such (class mono, <code>).
func TestEveryPageInBothLanguages(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	t.Parallel()
	e := newEnv(t, true)
	clients := map[string]*http.Client{
		"public":   e.client(),
		"resident": residentClient(t, e, "13800000001"),
		"admin":    consoleClient(t, e, "admin", adminPassword),
	}
	starts := declaredPages(t)
	zhOf := web.CatalogZH()
	visited := 0
	var problems []string
	for _, who := range []string{"public", "resident", "admin"} {
		c := clients[who]
		seen := map[string]bool{}
		shapes := map[string]int{}
		queue := slices.Clone(starts)
		for len(queue) > 0 && len(seen) < 400 {
			p := queue[0]
			queue = queue[1:]
			if seen[p] || skipPage(p) {
				continue
			}
			seen[p] = true
			if shapes[shapeOf(p)]++; shapes[shapeOf(p)] > 2 {
				continue
			}
			for _, lang := range []string{"zh", "en"} {
				status, ctype, body := fetch(t, c, e.URL+p+sep(p)+"lang="+lang)
				if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
					continue
				}
				visited++
				for _, s := range untranslated(body, lang, zhOf) {
					problems = append(problems, who+" "+lang+" "+p+": "+s)
				}
				if lang == "zh" {
					queue = append(queue, links(body)...)
				}
			}
		}
	}
	if visited < 60 {
		t.Fatalf("the walk opened only %d pages; it is broken", visited)
	}
	slices.Sort(problems)
	problems = slices.Compact(problems)
	if len(problems) > 0 {
		t.Errorf("%d strings in the wrong language (%d pages opened); translate them in the catalogue, or mark an id or a code as class=\"mono\":\n  %s",
			len(problems), visited, strings.Join(problems, "\n  "))
	}
}

var (
	patternRe = regexp.MustCompile(`HandleFunc\("GET (/[^"{ ]*)(\{\$\})?"`)
	hrefRe    = regexp.MustCompile(`href="(/[^"#]*)"`)
	dropRe    = regexp.MustCompile(`(?is)<(script|style|code|pre|textarea|svg|title)\b.*?</(script|style|code|pre|textarea|svg|title)>`)
	// Marked as not words of the interface: ids and codes (class mono), a
	// message's text (msg), what someone typed (translate="no"), a name
	// given in English (lang="en").
	monoRe   = regexp.MustCompile(`(?is)<(span|td|dd|div|p|small|strong|a|li|th)\b[^>]*(class="[^"]*\b(mono|msg)\b[^"]*"|translate="no"|lang="en")[^>]*>.*?</(span|td|dd|div|p|small|strong|a|li|th)>`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
	phraseRe = regexp.MustCompile(`[A-Za-z]{2,}(?:[ ,';:-]+[A-Za-z]{2,}){2,}`)
	wordRe   = regexp.MustCompile(`^[a-z]+(?:[._][a-z]+)*$`)
)

// declaredPages are the web server's GET pages without a parameter, read
// from its source, so that a new page is walked without a word here.
func declaredPages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range patternRe.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "/") || m[2] != "" || m[1] == "/" {
				out = append(out, m[1])
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d pages in the source", len(out))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// skipPage leaves out what is not a page to read: assets, downloads, the
// one-time pages that end a session.
func skipPage(p string) bool {
	return strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") || strings.HasSuffix(p, ".csv") ||
		strings.HasSuffix(p, ".ico") || strings.HasSuffix(p, ".png") || strings.HasSuffix(p, ".svg") ||
		strings.Contains(p, "logout") || strings.HasPrefix(p, "/metrics") || strings.Contains(p, "/poster")
}

var idSegRe = regexp.MustCompile(`/[^/]*[0-9][^/]*`)

// shapeOf is a path with its ids blanked: two persons' pages are one shape.
func shapeOf(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return idSegRe.ReplaceAllString(p, "/_")
}

func sep(p string) string {
	if strings.Contains(p, "?") {
		return "&"
	}
	return "?"
}

func fetch(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func links(body string) []string {
	var out []string
	for _, m := range hrefRe.FindAllStringSubmatch(body, -1) {
		p := html.UnescapeString(m[1])
		p, _, _ = strings.Cut(p, "?")
		out = append(out, p)
	}
	return out
}

// untranslated lists the page's visible strings in the wrong language.
func untranslated(body, lang string, zhOf map[string]string) []string {
	if i := strings.Index(body, "<body"); i >= 0 {
		body = body[i:]
	}
	body = dropRe.ReplaceAllString(body, " ")
	for range 3 { // nested marks
		body = monoRe.ReplaceAllString(body, " ")
	}
	var out []string
	for _, node := range tagRe.Split(body, -1) {
		s := strings.TrimSpace(html.UnescapeString(node))
		if s == "" {
			continue
		}
		switch lang {
		case "zh":
			if m := phraseRe.FindString(s); m != "" && !allowedPhrase(m) {
				out = append(out, "English "+quote(s))
			} else if wordRe.MatchString(s) {
				out = append(out, "a code word "+quote(s))
			}
		case "en":
			if hasHan(s) {
				if _, ok := zhOf[s]; ok {
					out = append(out, "Chinese "+quote(s))
				}
			}
		}
	}
	return out
}

// allowedPhrase: names that are the same in both languages.
func allowedPhrase(s string) bool {
	for _, ok := range []string{"Health Code", "Language", "English"} {
		if strings.Contains(s, ok) {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "\"" + s + "\""
}

// A refused form says which field, and a rule set's problems read in the
// page's language with the compiler's own words set apart as code.
func TestFormErrorsNameTheFieldInTheirLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short")
	}
	t.Parallel()
	e := newEnv(t, true)
	c := residentClient(t, e, "13800000001")
	for _, tt := range []struct{ lang, temp, want string }{
		{"zh", "50", "体温（℃）：某项超出允许范围。"},
		{"zh", "abc", "体温（℃）：某项的格式不正确。"},
		{"en", "50", "temperature (°C): A field is out of range."},
	} {
		_, body := e.get(c, "/me/declare?lang="+tt.lang)
		res, body := e.post(c, "/me/declare?lang="+tt.lang, url.Values{"temperature": {tt.temp}, "exposure": {"false"}, "csrf": {csrfOf(body)}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("%s temperature %s: %d, want %q in %s", tt.lang, tt.temp, res.StatusCode, tt.want, errorOf(body))
		}
	}

	op := consoleClient(t, e, "admin", adminPassword)
	_, body := e.get(op, "/console/rules")
	set := `{"rules":[{"id":"x","color":"yellow","condition":"facts.exists(f, f.kind ==","reason":{"zh":"测试","en":"test"}}]}`
	res, body := e.post(op, "/console/rules/validate", url.Values{"body": {set}, "csrf": {csrfOf(body)}})
	if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusOK {
		t.Fatalf("validate: %d", res.StatusCode)
	}
	if !strings.Contains(body, "表达式有语法错误") {
		t.Errorf("a syntax error is not said in Chinese: %s", errorOf(body))
	}
	if bad := untranslated(body, "zh", web.CatalogZH()); len(bad) > 0 {
		t.Errorf("the rule problems hold English: %v", bad)
	}
}

var errorBoxRe = regexp.MustCompile(`(?s)<div class="error"[^>]*>.*?</div>`)

func errorOf(body string) string {
	if m := errorBoxRe.FindString(body); m != "" {
		return m
	}
	return "(no error box)"
}
