// Package servertest runs the product in-process for tests: a server on one
// engine behind a real listener, and a client that speaks the JSON API as
// phones, devices and operators do (the admin login, residents logged in
// through the SMS outbox, operators, venues, checkpoints).
//
// The server, web, loadgen and command tests share it; only tests import it.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/healthcode/healthcode/internal/api"
	"github.com/healthcode/healthcode/internal/api/apitest"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/demo"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/sms"
)

// AdminPassword is the first operator's ("admin") password.
const AdminPassword = "correct horse battery"

// Region is the deployment's region (宁国市).
const Region = "341881"

// Server is a product running in-process and a client for it.
type Server struct {
	*Client
	App *server.Server
}

// Option changes how Start runs the server.
type Option func(*setup)

type setup struct {
	mods          []func(*server.Config)
	demo          bool
	demoResidents int
	workers       bool
}

// WithConfig changes the configuration the server starts with.
func WithConfig(mods ...func(*server.Config)) Option {
	return func(s *setup) { s.mods = append(s.mods, mods...) }
}

// DemoResidents is the size of the demo's simulated history under test:
// enough for every screen to have data, small enough to cost little.
const DemoResidents = 300

// WithDemo loads the Ningguo demo, as `serve --demo` does, with a history
// of DemoResidents simulated residents.
func WithDemo() Option { return WithDemoResidents(DemoResidents) }

// WithDemoResidents loads the demo with a history of n simulated residents
// (0: none, for a test that counts what it does itself).
func WithDemoResidents(n int) Option { return func(s *setup) { s.demo, s.demoResidents = true, n } }

// WithWorkers runs the background workers (status recompute and scheduler,
// code-show counts, ...) as `serve` does; without it a test drives them.
func WithWorkers() Option { return func(s *setup) { s.workers = true } }

// Start runs a server on a fresh database of the engine; it stops when the
// test ends. Under -short a PostgreSQL server skips the test (see dbtest).
func Start(t testing.TB, engine db.Engine, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "hc.db")
	if engine == db.Postgres {
		dsn = dbtest.PostgresURL(t)
	}
	return start(t, server.Config{
		DataDir: dir, DB: dsn, AdminPassword: AdminPassword, Region: Region,
		// No waiting between one-time codes and no caps: tests log many
		// phones in at once, all from one address.
		Auth: auth.Config{OTPInterval: -1, OTPPerDay: -1, OTPPerAddr: -1, OTPPerMinute: -1, SMSBudget: -1},
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, opts)
}

// Another starts a second node on s's store and master key, as a deployment
// runs several `serve` processes on one database.
func (s *Server) Another(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return start(t, s.App.Config, opts)
}

func start(t testing.TB, cfg server.Config, opts []Option) *Server {
	t.Helper()
	var o setup
	for _, opt := range opts {
		opt(&o)
	}
	// The listener comes first so that the pages know their public address
	// (venue posters point phones there).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	if o.demo {
		if err := demo.Prepare(context.Background(), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range o.mods {
		m(&cfg)
	}
	app, err := server.New(context.Background(), cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	if _, err := app.EnsureAdmin(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.demo {
		if _, err := demo.Load(context.Background(), app, demo.Options{Residents: o.demoResidents}); err != nil {
			t.Fatal(err)
		}
	}
	if o.workers {
		ctx, stop := context.WithCancel(context.Background())
		app.Start(ctx)
		t.Cleanup(stop)
	}
	// Every request a test makes to the API, and every answer, is checked
	// against the OpenAPI document: a mismatch fails the test that made it.
	hs := httptest.NewUnstartedServer(apitest.Validating(t, api.OpenAPI(), app.Handler()))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return &Server{Client: NewClient(t, cfg.PublicURL), App: app}
}

// ForEach runs fn as a subtest on a fresh server of each engine of
// dbtest.Engines. The subtests run in parallel: fn must leave process-wide
// state alone (environment, package variables, fixed ports).
func ForEach(t *testing.T, fn func(t *testing.T, s *Server), opts ...Option) {
	t.Helper()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			fn(t, Start(t, engine, opts...))
		})
	}
}

// Count is the number of rows in a table. Check-ins and verifications
// answered so far are moved from the journal first, as the service's own
// reads do.
func (s *Server) Count(table string) int {
	s.t.Helper()
	if err := s.App.Checkins.Flush(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	var n int
	if err := s.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// OTP is the latest one-time code texted to phone, read from the outbox in
// the process, as the person would read their messages.
func (s *Server) OTP(phone string) string {
	s.t.Helper()
	items, err := s.App.Outbox.List(context.Background(), sms.Filter{To: phone, Limit: 1})
	if err != nil || len(items) == 0 {
		s.t.Fatalf("no message to %s in the outbox (%v)", phone, err)
	}
	return sixDigits.FindString(items[0].Body)
}
