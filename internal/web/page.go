package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
)

// page is what every template receives.
type page struct {
	Lang    Lang
	Title   string
	Path    string // the request path with its query, for ?next= and the language switch
	CSRF    string // the token forms carry
	Demo    bool
	Flash   string // a one-off notice after a redirect
	Err     string // what went wrong, in the reader's language
	ErrCode string
	Body    string // extra class on <body>: "resident", "console", "scan", "print"

	Resident *auth.Principal
	Op       *auth.Principal
	Unit     *unitFrame // a unit account's pages
	Nav      []navItem
	NavOn    string

	Data      any
	MoreLinks []navItem // the resident's other pages, for the code page
	assets    map[string]string
	actors    map[string]auth.ActorName // named by nameActors, for Actor
	regions   *region.Table
	now       time.Time
	loc       *time.Location
}

type navItem struct {
	Key, Href string
}

func (s *Server) newPage(r *http.Request) *page {
	return &page{Lang: langOf(r), Path: r.URL.RequestURI(), assets: s.assets, regions: s.Regions, now: s.now(), loc: s.Config.Location, Body: "resident"}
}

// Tab is the resident tab the page belongs to ("code", "family" or
// "more"), marked current in the tab bar; "" outside the tabs.
func (p *page) Tab() string {
	pth, _, _ := strings.Cut(p.Path, "?")
	switch {
	case pth == "/me" || pth == "/me/card":
		return "code"
	case pth == "/me/dependents" || strings.HasPrefix(pth, "/me/dependents/"):
		return "family"
	case strings.HasPrefix(pth, "/me/"):
		return "more"
	}
	return ""
}

// T is the message key in the page's language.
func (p *page) T(key string, args ...any) string { return p.Lang.T(key, args...) }

// Has reports whether the catalogue has the key (for optional hints).
func (p *page) Has(key string) bool { _, ok := catalog[key]; return ok }

// Asset is the versioned URL of a static file.
func (p *page) Asset(name string) string {
	if u, ok := p.assets[name]; ok {
		return u
	}
	return "/static/" + name
}

// Other is the language a switch link offers.
func (p *page) Other() Lang {
	if p.Lang == EN {
		return ZH
	}
	return EN
}

// SwitchURL is the current page in the other language.
func (p *page) SwitchURL() string {
	u := p.Path
	if i := strings.Index(u, "?"); i >= 0 {
		q := u[i+1:]
		var keep []string
		for _, kv := range strings.Split(q, "&") {
			if !strings.HasPrefix(kv, "lang=") && kv != "" {
				keep = append(keep, kv)
			}
		}
		u = u[:i]
		if len(keep) > 0 {
			u += "?" + strings.Join(keep, "&")
		}
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "lang=" + p.Other().Code()
}

// Time shows a time in the deployment's zone.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("2006-01-02 15:04")
}

// Clock shows a time with seconds.
func (p *page) Clock(t time.Time) string { return t.In(p.loc).Format("2006-01-02 15:04:05") }

// Date shows a day.
func (p *page) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(p.loc).Format("2006-01-02")
}

// Region is the short name of a region code.
func (p *page) Region(code string) string {
	if r, ok := p.regions.Lookup(code); ok {
		return r.Name
	}
	return code
}

// Offset is the deployment zone's offset from UTC in minutes, for scripts.
func (p *page) Offset() int {
	_, off := p.now.In(p.loc).Zone()
	return off / 60
}

// Now is the page's time.
func (p *page) Now() time.Time { return p.now }

// Can reports whether the console's operator has a permission.
func (p *page) Can(perm string) bool { return p.Op != nil && p.Op.Can(auth.Permission(perm)) }

// SetError shows err on the page: a caller's error in the reader's language
// when the catalogue knows its code, otherwise its English message.
func (p *page) SetError(err error) {
	if err == nil {
		p.Err, p.ErrCode = "", ""
		return
	}
	if e, ok := apierr.As(err); ok {
		p.ErrCode = e.Code
		if _, known := catalog["err."+e.Code]; known {
			p.Err = p.T("err." + e.Code)
			// Which field, in the reader's words: "体温：某项超出允许范围。"
			var ae *fact.AttrError
			if errors.As(err, &ae) && ae.Attr != nil && ae.Attr.Label.ZH != "" {
				p.Err = p.T("error.field", label(p.Lang, ae.Attr.Label)) + p.Err
			}
			if p.Lang == EN {
				p.Err += detail(e)
			}
			return
		}
		p.Err = p.T("error.generic") + " " + e.Message
		return
	}
	p.Err = p.T("error.internal")
}

// ProblemText is a rule set's problem in the reader's language: its
// problem code's line, or its error code's ("" for neither).
func (p *page) ProblemText(code string) string {
	for _, k := range []string{"problem." + code, "err." + code} {
		if _, ok := catalog[k]; ok {
			return p.T(k)
		}
	}
	return ""
}

// ProblemDetail is what the compiler said of a problem, shown beside its
// line where it says more than the line (where in an expression, which
// example decided what); "" where the line says it all.
func (p *page) ProblemDetail(code, message string) string {
	switch code {
	case rules.CodeSyntax, rules.CodeTypeCheck, rules.CodeResultType, rules.CodeExprInvalid, rules.CodeTooCostly,
		rules.CodeExampleFact, rules.CodeExampleFailed:
		return message
	}
	if p.ProblemText(code) == "" {
		return message
	}
	return ""
}

// LineText is why a line of an upload was refused, in the reader's
// language where the catalogue knows the case (the English message adds
// which field in English).
func (p *page) LineText(code, message string) string {
	if _, ok := catalog["err."+code]; !ok {
		return message
	}
	if p.Lang == EN {
		return p.T("err."+code) + " (" + message + ")"
	}
	return p.T("err." + code)
}

// detail adds the English message when it says more than the catalogue's
// line (which field, how many attempts left).
func detail(e *apierr.Error) string {
	if strings.ContainsAny(e.Message, "0123456789\"") {
		return " (" + e.Message + ")"
	}
	return ""
}

// JSON embeds data for a script as an inert JSON block.
func (p *page) JSON(v any) template.JS {
	b, _ := json.Marshal(v)
	return template.JS(b)
}

var funcs = template.FuncMap{
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"add": func(a, b int) int { return a + b },
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
	"join": strings.Join,
	"list": func(v ...string) []string { return v },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"svg": func(s string) template.HTML { return template.HTML(s) }, // only for SVG this package draws
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// parseTemplates builds one template set per page: the layout plus the
// page's own file and the shared partials.
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		out[name] = t
	}
	return out, nil
}

// versionAssets gives each static file a URL with its content hash.
func versionAssets() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		out[name] = "/" + p + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}
