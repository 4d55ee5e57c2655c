// Package web is the product's server-rendered pages: the resident's phone
// pages (log in, register, the code, dependents, check-in, declaration,
// tests, appeals), the checkpoint scanner, venue posters and the operators'
// console. Pages are html/template with embedded CSS and a little vanilla
// JavaScript (no CDN: the product runs offline), Chinese first with English
// switchable, and call the same Go services the API does. Pages use cookie
// sessions that hold the same tokens the API hands out, with a CSRF token
// derived from the session in every form.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/httpmetric"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/transport"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/vaccine"
	"github.com/healthcode/healthcode/internal/venue"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the pages need to know about the deployment.
type Config struct {
	Region        string         // the deployment's region
	PublicURL     string         // base URL phones reach: venue QR codes point there
	CoverageRatio float64        // default target ratio of the coverage table
	Location      *time.Location // for showing times and "today" (Asia/Shanghai by default)
	// Metrics receives the pages' request metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// Deps are the services the pages call. They are the same the API calls.
type Deps struct {
	Config      Config
	Log         *slog.Logger
	DB          *db.DB
	Keys        *secret.Keyring
	Regions     *region.Table
	Auth        *auth.Service
	Persons     *person.Service
	Venues      *venue.Service
	Checkpoints *checkpoint.Service
	Outbox      *sms.Outbox
	Facts       FactPoster // the status service
	Codes       *codes.Service
	NAT         *nat.Service
	Status      *status.Service
	Checkins    *checkin.Service
	Tracing     *tracing.Service
	Orgs        *org.Service
	Gateway     *gateway.Service
	Pharmacy    *pharmacy.Service
	Clinic      *clinic.Service
	Hospital    *hospital.Service
	Ride        *ride.Service
	// Federation is nil on a deployment without a hub.
	Federation *federation.Node
	Entry      *entry.Service
	Vaccine    *vaccine.Service
	Isolation  *isolation.Service
	Hotline    *hotline.Service
	ColdChain  *coldchain.Service
	Booking    *booking.Service
	Hall       *hall.Service
	Employer   *employer.Service
	Transport  *transport.Service
	School     *school.Service
	RiskAreas  *riskarea.Service
	Trip       *trip.Service
	Grids      *grid.Service
}

// Server renders the pages.
type Server struct {
	Deps
	csrfKey []byte
	pages   map[string]*template.Template
	assets  map[string]string // file name -> versioned URL
	handler http.Handler
	now     func() time.Time
	metrics *metrics

	demoMu    sync.Mutex
	demo      bool
	demoCheck time.Time
}

// New builds the pages; it fails only if the embedded templates are broken.
func New(d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Config.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		d.Config.Location = loc
	}
	if d.Config.CoverageRatio == 0 {
		d.Config.CoverageRatio = 0.9
	}
	s := &Server{Deps: d, now: time.Now, metrics: newMetrics(d.Config.Metrics)}
	s.csrfKey = d.Keys.Derive("web/csrf", 32)
	var err error
	if s.assets, err = versionAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *Server) SetClock(now func() time.Time) { s.now = now }

// Handler serves every page; mount it at "/".
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// URLs carry a content hash (?v=), so a file can be cached for good.
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.assets["icon.svg"], http.StatusMovedPermanently)
	})

	s.residentRoutes(mux)
	s.consoleRoutes(mux)
	s.extraRoutes(mux)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, s.newPage(r), ErrPageNotFound.Withf("no page %s", r.URL.Path))
	})
	return s.guard(mux)
}

// guard sets the headers every page carries, remembers a ?lang= choice,
// turns a panic into a logged 500 page and counts the request by the route
// pattern the mux chose.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &httpmetric.Recorder{ResponseWriter: rw}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.Error("panic in page", "route", r.Pattern, "panic", p, "stack", string(debug.Stack()))
				http.Error(w, "internal error / 服务器内部错误", http.StatusInternalServerError)
				w.Status = http.StatusInternalServerError
			}
			s.metrics.observe(r.Pattern, w.Code(), time.Since(start))
		}()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// Camera for the scanner; everything else the pages never use.
		h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		// Scripts and styles only from this server; inline JSON data blocks
		// are not scripts. Images may be data: URLs (QR codes).
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		if v := r.URL.Query().Get("lang"); v != "" {
			if l, ok := parseLang(v); ok {
				http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l.Code(), Path: "/", MaxAge: 365 * 24 * 3600,
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
				r.AddCookie(&http.Cookie{Name: langCookie, Value: l.Code()})
			}
		}
		next.ServeHTTP(w, r)
	})
}

// extraRoutes registers pages of features; each feature adds a line here.
func (s *Server) extraRoutes(mux *http.ServeMux) {
	s.venueRoutes(mux)
	s.scanRoutes(mux)
	s.natRoutes(mux)
	s.statusRoutes(mux)
	s.checkinRoutes(mux)
	s.gatewayRoutes(mux)
	s.vaccinationRoutes(mux)
	s.tripRoutes(mux)
	s.coldChainRoutes(mux)
	s.visitRoutes(mux)
}

// secure reports whether cookies must be Secure: the request came over
// HTTPS (directly or through a proxy that says so), or the deployment's
// public URL is HTTPS.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") ||
		strings.HasPrefix(s.Config.PublicURL, "https://")
}

// demoMode reports whether the Ningguo demo is loaded; the login page then
// says where the one-time code goes. The answer is cached for a while.
func (s *Server) demoMode(ctx context.Context) bool {
	s.demoMu.Lock()
	defer s.demoMu.Unlock()
	if s.demo || s.now().Before(s.demoCheck) {
		return s.demo
	}
	if n, err := db.Counter(ctx, s.DB, "demo_loaded"); err == nil {
		s.demo = n > 0
	}
	s.demoCheck = s.now().Add(10 * time.Second)
	return s.demo
}

// fail shows an error page (or the error on the form that caused it, when
// the handler re-renders). Caller errors keep their 4xx status; anything
// else is logged and shown as a 500 without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p *page, err error) {
	status := http.StatusInternalServerError
	if db.IsStatementTimeout(err) {
		s.Log.WarnContext(r.Context(), "page timed out in the store", "method", r.Method, "path", r.URL.Path, "err", err)
		err = db.ErrBusy
		w.Header().Set("Retry-After", "1")
	}
	if e, ok := apierr.As(err); ok {
		status = e.Status
	} else if httpmetric.Abandoned(r, err) {
		// Counted as its own outcome, not as a failure of the server.
		w.WriteHeader(httpmetric.StatusClientClosed)
		return
	} else {
		s.Log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.SetError(err)
	if p.Title == "" {
		p.Title = p.T("error.title")
	}
	s.render(w, r, status, "error", p)
}

// render writes a page with its status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	s.renderNamed(w, r, status, name, "page", p)
}

// renderNamed writes one template of a page's set: the whole page, or a
// fragment that a script swaps in.
func (s *Server) renderNamed(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, p *page) {
	t, ok := s.pages[name]
	if !ok {
		panic(fmt.Sprintf("web: no template %q", name))
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, tmpl, p); err != nil {
		s.Log.ErrorContext(r.Context(), "template failed", "page", name, "err", err)
		http.Error(w, "internal error / 服务器内部错误", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang.Tag())
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// redirect answers a POST with 303 so a reload does not resend the form.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath keeps a ?next= target on this site: a path, never a URL or a
// protocol-relative //host.
func localPath(next, def string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return def
	}
	return next
}
