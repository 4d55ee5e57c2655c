// Package api is the JSON API under /api/v1 and the gateway under
// /gateway/v1 (docs/API.md): routing, authentication of each request,
// strict decoding, and errors as {"error":{"code","message"}}. Handlers are
// thin: they decode into a request type, call a feature service and encode
// a response type. The route table and those types are the contract; the
// OpenAPI document is generated from them.
package api

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/audit"
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
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/transport"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/vaccine"
	"github.com/healthcode/healthcode/internal/venue"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// Config is what handlers need to know about the deployment.
type Config struct {
	Region        string  // the deployment's region
	PublicURL     string  // base URL residents' phones reach, for venue QR codes
	CoverageRatio float64 // default target ratio of the coverage table
}

// Server holds the services the handlers call.
type Server struct {
	Config      Config
	Log         *slog.Logger
	DB          *db.DB
	Regions     *region.Table
	Auth        *auth.Service
	Persons     *person.Service
	Venues      *venue.Service
	Checkpoints *checkpoint.Service
	Outbox      *sms.Outbox
	Checkins    *checkin.Service
	Tracing     *tracing.Service
	Codes       *codes.Service
	CodeKeys    *keys.Store
	AuditHeads  *audit.Anchor
	NAT         *nat.Service
	Status      *status.Service
	Orgs        *org.Service
	Gateway     *gateway.Service
	Pharmacy    *pharmacy.Service
	Clinic      *clinic.Service
	Hospital    *hospital.Service
	Ride        *ride.Service
	Booking     *booking.Service
	Hall        *hall.Service
	Transport   *transport.Service
	// Federation is nil on a deployment without a hub.
	Federation *federation.Node
	Entry      *entry.Service
	Vaccine    *vaccine.Service
	Isolation  *isolation.Service
	Hotline    *hotline.Service
	ColdChain  *coldchain.Service
	Employer   *employer.Service
	School     *school.Service
	RiskAreas  *riskarea.Service
	Trip       *trip.Service
	Grids      *grid.Service

	metrics *metrics
}

// Handler returns the API's handler, for Prefix and GatewayPrefix; reg
// receives its metrics (nil for none).
func (s *Server) Handler(reg prometheus.Registerer) http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.metrics = newMetrics(reg)
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		if err := rt.check(); err != nil {
			panic(err)
		}
		pattern := rt.Method + " " + fullPath(rt.Path)
		mux.Handle(pattern, s.instrument(pattern, rt.h))
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Log, ErrRouteNotFound.Withf("no API endpoint %s %s", r.Method, r.URL.Path))
	}
	mux.HandleFunc(Prefix+"/", notFound)
	mux.HandleFunc(GatewayPrefix, notFound)
	return mux
}

// instrument counts, times and guards a route: a panic becomes a logged 500.
func (s *Server) instrument(pattern string, h http.Handler) http.Handler {
	counter := s.metrics.requests.MustCurryWith(prometheus.Labels{"route": pattern})
	timer := s.metrics.duration.WithLabelValues(pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &httpmetric.Recorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				if ee, ok := p.(encodeError); ok {
					s.Log.Error("answer not encoded", "route", pattern, "err", ee.err)
				} else {
					s.Log.Error("panic in handler", "route", pattern, "panic", p, "stack", string(debug.Stack()))
				}
				if sw.Status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errInternal)
				}
			}
			code := sw.Code()
			counter.WithLabelValues(httpmetric.CodeLabel(code)).Inc()
			timer.Observe(time.Since(start).Seconds())
			if code >= 500 {
				s.Log.Warn("request", "route", pattern, "status", code, "took", time.Since(start))
			} else if s.Log.Enabled(r.Context(), slog.LevelDebug) {
				s.Log.Debug("request", "route", pattern, "status", code, "took", time.Since(start))
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// bearer extracts the credential from "Authorization: Bearer X".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// call adapts a handler that returns an error. It refuses paths and query
// parameters that hold invalid UTF-8 or NUL: no id or parameter value has
// them, and PostgreSQL fails on them (a 500) where SQLite would find nothing.
func (s *Server) call(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := checkText(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			writeError(w, r, s.Log, err)
		}
	}
}

func checkText(r *http.Request) error {
	if !validText(r.URL.Path) {
		return ErrInvalidPath
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if !validText(k) || !validText(v) {
				return ErrInvalidParameter.Withf("query parameter %q holds invalid UTF-8 or a NUL character", strings.ToValidUTF8(k, "?"))
			}
		}
	}
	return nil
}

func validText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

type authed func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error

func (s *Server) authenticate(r *http.Request) (*auth.Principal, error) {
	return s.Auth.Authenticate(r.Context(), bearer(r))
}

// resident requires a resident session.
func (s *Server) resident(h authed) http.HandlerFunc {
	return s.call(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p.Kind != auth.Resident {
			return auth.ErrResidentOnly
		}
		return h(w, r, p)
	})
}

// operator requires an operator session; perm, when given, refuses early
// a role that lacks it (the service checks it again: that is the check that
// holds).
func (s *Server) operator(perm auth.Permission, h authed) http.HandlerFunc {
	return s.call(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p.Kind != auth.Operator {
			return auth.ErrOperatorOnly
		}
		if perm != "" {
			if err := p.Require(perm); err != nil {
				return err
			}
		}
		return h(w, r, p)
	})
}

// apiKey requires an API key; the scope is refused early here and again by
// the service.
func (s *Server) apiKey(scope string, h authed) http.HandlerFunc {
	return s.call(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p.Kind != auth.APIKey {
			return auth.ErrAPIKeyOnly
		}
		if err := p.RequireScope(scope); err != nil {
			return err
		}
		return h(w, r, p)
	})
}
