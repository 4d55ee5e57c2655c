package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/server"
)

// The profiler is served only on its own listener, never on the public
// address, and without the process's command line.
func TestPprofOnlyOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, DB: "sqlite:" + filepath.Join(dir, "hc.db"),
		Addr: "127.0.0.1:0", PprofAddr: "127.0.0.1:0", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, func(a net.Addr) { ready <- a }) }()
	var public net.Addr
	select {
	case public = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("not listening")
	}
	get := func(url string) int {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if srv.PprofAddr() == nil {
		t.Fatal("no profiler address")
	}
	// The command line can hold a password (--admin-password): not served.
	for _, a := range []string{public.String(), srv.PprofAddr().String()} {
		if code := get("http://" + a + "/debug/pprof/cmdline"); code != http.StatusNotFound {
			t.Errorf("%s serves the command line: %d", a, code)
		}
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if code := get("http://" + public.String() + p); code != http.StatusNotFound {
			t.Errorf("public %s: %d", p, code)
		}
		if code := get("http://" + srv.PprofAddr().String() + p); code != http.StatusOK {
			t.Errorf("profiler %s: %d", p, code)
		}
	}
	if code := get("http://" + srv.PprofAddr().String() + "/api/v1/trust-list"); code != http.StatusNotFound {
		t.Errorf("the profiler's listener serves the API: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
