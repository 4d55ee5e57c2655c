package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/server"
)

// demoNeighbour is the region the demo hub holds beside Ningguo (宣州区).
const demoNeighbour = "341802"

// startDemoHub runs a federation hub in the process for `serve --demo`
// without --hub, so that the console's federation page has something in it:
// the hub (own store under DATA-DIR/demo-hub) with Ningguo and a neighbouring
// region enrolled, the neighbour's trust list (an SM2 key) uploaded. It sets
// the hub's address and key in the node's configuration and returns the hub,
// where serve enrols Ningguo once its federation key exists; the hub stops
// with ctx.
func startDemoHub(ctx context.Context, cfg *server.Config) (*federation.Hub, error) {
	dir := filepath.Join(cfg.DataDir, "demo-hub")
	h, err := server.NewHub(ctx, server.HubConfig{DataDir: dir, Log: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("demo hub: %w", err)
	}
	// The neighbour's keys are derived from the hub's store directory's own
	// master key, so they stay the same across restarts.
	nring, _, err := secret.LoadOrCreate(filepath.Join(dir, "neighbour.key"))
	if err != nil {
		h.Close()
		return nil, err
	}
	nfed := federation.Key(nring)
	if err := h.Hub.Enrol(ctx, demoNeighbour, federation.MarshalPublicPEM(nfed.Public().(ed25519.PublicKey)), "demo"); err != nil {
		h.Close()
		return nil, err
	}
	if err := uploadNeighbour(ctx, h.Hub, nfed); err != nil {
		cfg.Log.Warn("demo hub: the neighbour's trust list was not uploaded", "err", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		return nil, err
	}
	hs := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
		h.Close()
	}()
	cfg.Hub = "http://" + ln.Addr().String()
	cfg.HubKey = federation.MarshalPublicPEM(h.Hub.PublicKey())
	return h.Hub, nil
}

// uploadNeighbour signs and uploads the neighbour's package: one SM2
// code-signing key derived from its master key.
func uploadNeighbour(ctx context.Context, hub *federation.Hub, fed ed25519.PrivateKey) error {
	sk, err := codeformat.GenerateKey(codeformat.AlgSM2)
	if err != nil {
		return err
	}
	signer, err := codeformat.NewSigner(sk)
	if err != nil {
		return err
	}
	tl := codeformat.TrustList{}
	if err := tl.Add(codeformat.PublicKey{KID: signer.KeyID(), Alg: signer.Alg(), Key: signer.Public(), Issuer: demoNeighbour}); err != nil {
		return err
	}
	tj, err := tl.MarshalJSON()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	body, err := json.Marshal(federation.Package{Region: demoNeighbour, Seq: now.UnixMilli(), IssuedAt: now, TrustList: tj, Revoked: []string{}})
	if err != nil {
		return err
	}
	env, err := json.Marshal(federation.Sign(fed, demoNeighbour, federation.PurposePackage, body))
	if err != nil {
		return err
	}
	return hub.Upload(ctx, env)
}
