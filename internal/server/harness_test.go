package server_test

import (
	"testing"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// env is a running server on one engine and a client for it; the tests'
// own helpers (facts, tracing runs, ...) are its methods.
type env struct {
	*servertest.Server
	t testing.TB
}

type resp = servertest.Response

func newEnv(t *testing.T, engine db.Engine, mod ...func(*server.Config)) *env {
	t.Helper()
	return &env{Server: servertest.Start(t, engine, servertest.WithConfig(mod...)), t: t}
}

// forEach runs fn on a fresh server on each engine.
func forEach(t *testing.T, fn func(t *testing.T, e *env)) {
	forEachWith(t, func(*server.Config) {}, fn)
}

// forEachWith runs fn on a fresh server on each engine, configured by mod.
func forEachWith(t *testing.T, mod func(*server.Config), fn func(t *testing.T, e *env)) {
	t.Helper()
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) { fn(t, &env{Server: s, t: t}) }, servertest.WithConfig(mod))
}
