package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/healthcode/healthcode/internal/api"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/secret"
)

// HubConfig configures `healthcode hub`: its own store and master key.
type HubConfig struct {
	Addr      string // default 127.0.0.1:8090
	DB        string // default sqlite:DATADIR/hub.db
	DataDir   string // default ./hub-data
	MasterKey string // base64; if empty, read or create DATADIR/master.key
	Log       *slog.Logger
}

// HubServer is the federation hub, assembled.
type HubServer struct {
	Config HubConfig
	DB     *db.DB
	Hub    *federation.Hub
	Log    *slog.Logger
}

// NewHub opens the hub's store, migrates it and builds the hub.
func NewHub(ctx context.Context, cfg HubConfig) (*HubServer, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8090"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "hub-data"
	}
	if cfg.DB == "" {
		cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "hub.db")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*HubServer, error) {
		d.Close()
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		return fail(err)
	}
	var ring *secret.Keyring
	if cfg.MasterKey != "" {
		master, err := secret.Parse(cfg.MasterKey)
		if err != nil {
			return fail(err)
		}
		if ring, err = secret.New(master); err != nil {
			return fail(err)
		}
	} else if ring, _, err = secret.LoadOrCreate(filepath.Join(cfg.DataDir, "master.key")); err != nil {
		return fail(err)
	}
	h, err := federation.NewHub(ctx, d, ring)
	if err != nil {
		return fail(err)
	}
	return &HubServer{Config: cfg, DB: d, Hub: h, Log: cfg.Log}, nil
}

// Handler is the hub's HTTP surface: the federation protocol and a health
// check.
func (h *HubServer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/federation/v1/", api.HubHandler(h.Hub, h.Log))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	return mux
}

// ListenAndServe serves until ctx ends. ready, if not nil, receives the
// bound address once listening.
func (h *HubServer) ListenAndServe(ctx context.Context, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", h.Config.Addr)
	if err != nil {
		return fmt.Errorf("hub: listen on %s: %w", h.Config.Addr, err)
	}
	hs := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, ErrorLog: slog.NewLogLogger(h.Log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the store.
func (h *HubServer) Close() error { return h.DB.Close() }
