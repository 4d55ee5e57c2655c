package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/ids"
)

// Cookies. Resident and operator sessions are separate cookies (one phone
// may be both a resident and a sampling operator); the operator's is sent
// only to /console. Each holds the same bearer token the API issues, so a
// page session is an auth.Service session like any other.
const (
	residentCookie = "hc_r"
	operatorCookie = "hc_o"
	anonCookie     = "hc_a" // a random value that anchors the CSRF token of forms shown before login
	flashCookie    = "hc_flash"
	consolePath    = "/console"
	maxForm        = 1 << 20
	maxUpload      = 32 << 20
)

// handler is a page handler; an error is shown on the error page.
type handler func(w http.ResponseWriter, r *http.Request, p *page) error

// csrfToken is the form token for a session secret: an HMAC, so nothing
// needs storing, and it changes whenever the session does.
func (s *Server) csrfToken(secret string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	s.setCookie(w, r, name, "", path, -1)
}

func cookie(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// anonSecret returns the visitor's anonymous secret, creating it.
func (s *Server) anonSecret(w http.ResponseWriter, r *http.Request) string {
	if v := cookie(r, anonCookie); len(v) >= 20 {
		return v
	}
	v := ids.Secret("")
	s.setCookie(w, r, anonCookie, v, "/", 0)
	r.AddCookie(&http.Cookie{Name: anonCookie, Value: v})
	return v
}

// checkPost refuses a form without the right token, and any cross-site
// POST, which browsers flag with Origin or Sec-Fetch-Site.
func (s *Server) checkPost(r *http.Request, secret string) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return ErrCSRFFailed
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return ErrCSRFFailed.Withf("the form came from another site")
		}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(maxUpload); err != nil {
			return ErrFormInvalid.Withf("the form could not be read: %v", err)
		}
	} else {
		r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			return ErrFormInvalid.Withf("the form could not be read: %v", err)
		}
	}
	got := r.PostFormValue("csrf")
	if secret == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(secret))) != 1 {
		return ErrCSRFFailed.Withf("the form has expired; reload the page and try again")
	}
	return nil
}

// flash leaves a notice (a catalogue key and an optional argument) for the
// next page.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, key string, arg string) {
	v := key
	if arg != "" {
		v += "|" + base64.RawURLEncoding.EncodeToString([]byte(arg))
	}
	s.setCookie(w, r, flashCookie, v, "/", 60)
}

func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request, p *page) {
	v := cookie(r, flashCookie)
	if v == "" {
		return
	}
	s.clearCookie(w, r, flashCookie, "/")
	key, enc, _ := strings.Cut(v, "|")
	if _, ok := catalog[key]; !ok || !strings.HasPrefix(key, "flash.") {
		return
	}
	arg, _ := base64.RawURLEncoding.DecodeString(enc)
	if strings.Contains(p.Lang.T(key), "%") {
		p.Flash = p.T(key, string(arg))
	} else {
		p.Flash = p.T(key)
	}
}

// public is a page anyone may see; its forms carry the anonymous token.
func (s *Server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		secret := s.anonSecret(w, r)
		if r.Method == http.MethodPost {
			if err := s.checkPost(r, secret); err != nil {
				s.fail(w, r, p, err)
				return
			}
		}
		p.CSRF = s.csrfToken(secret)
		p.Resident = s.residentOf(r)
		s.takeFlash(w, r, p)
		if err := h(w, r, p); err != nil {
			s.fail(w, r, p, err)
		}
	}
}

// residentOf is the logged-in resident, or nil.
func (s *Server) residentOf(r *http.Request) *auth.Principal {
	tok := cookie(r, residentCookie)
	if tok == "" {
		return nil
	}
	pr, err := s.Auth.Authenticate(r.Context(), tok)
	if err != nil || pr.Kind != auth.Resident {
		return nil
	}
	return pr
}

// resident is a page for a logged-in resident; others are sent to log in
// and brought back.
func (s *Server) resident(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		tok := cookie(r, residentCookie)
		pr := s.residentOf(r)
		if pr == nil {
			if tok != "" {
				s.clearCookie(w, r, residentCookie, "/")
			}
			if r.Method == http.MethodGet {
				redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			s.fail(w, r, p, ErrLoginRequired)
			return
		}
		if r.Method == http.MethodPost {
			if err := s.checkPost(r, tok); err != nil {
				s.fail(w, r, p, err)
				return
			}
		}
		p.Resident, p.CSRF = pr, s.csrfToken(tok)
		s.takeFlash(w, r, p)
		if err := h(w, r, p); err != nil {
			s.fail(w, r, p, err)
		}
	}
}

// console is an operator page; perm ("" for any operator) refuses early a
// role that lacks it, and hides forms it could not use. The service behind
// the page checks again: that is the check that holds.
func (s *Server) console(perm auth.Permission, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(r)
		p.Body = "console"
		tok := cookie(r, operatorCookie)
		var op *auth.Principal
		if tok != "" {
			if pr, err := s.Auth.Authenticate(r.Context(), tok); err == nil && pr.Kind == auth.Operator {
				op = pr
			} else {
				s.clearCookie(w, r, operatorCookie, consolePath)
			}
		}
		if op == nil {
			if r.Method == http.MethodGet {
				redirect(w, r, consolePath+"/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			s.fail(w, r, p, ErrLoginRequired)
			return
		}
		p.Op, p.CSRF = op, s.csrfToken(tok)
		p.Nav = s.nav(op)
		if r.Method == http.MethodPost {
			if err := s.checkPost(r, tok); err != nil {
				s.fail(w, r, p, err)
				return
			}
		}
		if op.MustEnrol && !strings.HasPrefix(r.URL.Path, "/console/totp") && r.URL.Path != "/console/logout" {
			// An admin without the second factor the deployment requires
			// does nothing else until they enrol one.
			if r.Method == http.MethodGet {
				redirect(w, r, "/console/totp")
				return
			}
			s.fail(w, r, p, auth.ErrTOTPEnrolRequired)
			return
		}
		if perm != "" {
			if err := op.Require(perm); err != nil {
				s.fail(w, r, p, err)
				return
			}
		}
		s.takeFlash(w, r, p)
		if err := h(w, r, p); err != nil {
			s.fail(w, r, p, err)
		}
	}
}

// sessionCookieAge is how long the browser keeps a resident's cookie: as
// long as the session it holds.
func sessionCookieAge(exp time.Time, now time.Time) int {
	if d := exp.Sub(now); d > 0 {
		return int(d.Seconds())
	}
	return 0
}
