package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/loadgen"
)

// foreignIssuer is the region whose codes `loadgen --foreign-hub-down`
// verifies: 宣州区, the demo's neighbour of Ningguo.
const foreignIssuer = "341802"

// federationRig is what `loadgen --foreign-hub-down` starts besides its
// server: a hub, and a node of another region where the residents
// register; the server joins the hub with serverFlags.
type federationRig struct {
	hubURL, issuerURL string
	serverFlags       []string
	stopHub           context.CancelFunc
}

// startFederation enrols the server's region and the issuing region at a
// new hub (their federation keys come from their master keys, made here
// in their data directories), starts the hub and the issuing region's node
// (sargs are the server's own flags: the same limits and code lifetime).
func startFederation(ctx context.Context, wg *sync.WaitGroup, exe, dir string, sargs []string, cfg loadgen.Config, stderr io.Writer) (*federationRig, error) {
	hubDir, issuerDir := filepath.Join(dir, "hub"), filepath.Join(dir, "issuer")
	hubPEM := filepath.Join(dir, "hub.pem")
	run := func(f func(context.Context, []string, io.Writer, io.Writer) error, args ...string) error {
		var out bytes.Buffer
		if err := f(ctx, args, io.Discard, &out); err != nil {
			return fmt.Errorf("loadgen: %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run(hubCmd, "key", "--data-dir", hubDir, "--out", hubPEM); err != nil {
		return nil, err
	}
	for _, r := range []struct{ region, dir string }{{cfg.Region, dir}, {foreignIssuer, issuerDir}} {
		pem := filepath.Join(dir, r.region+".pem")
		if err := run(federationKeyCmd, "--data-dir", r.dir, "--region", r.region, "--out", pem); err != nil {
			return nil, err
		}
		if err := run(hubCmd, "enrol", "--data-dir", hubDir, "--region", r.region, "--key", pem); err != nil {
			return nil, err
		}
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	const hubReady = "healthcode hub is running at "
	hub, err := startChild(hubCtx, wg, exe, []string{"hub", "--addr", "127.0.0.1:0", "--data-dir", hubDir}, nil, stderr, hubReady)
	if err != nil {
		stopHub()
		return nil, err
	}
	f := &federationRig{stopHub: stopHub}
	f.hubURL, _, _ = strings.Cut(hub.lines[hubReady], " ")
	join := []string{"--hub", f.hubURL, "--hub-key", hubPEM, "--hub-pull", "1s"}
	// The hub reaches the issuing node for status at its public URL, so
	// its address is chosen before it starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	iargs := []string{"serve", "--addr", addr, "--public-url", "http://" + addr, "--data-dir", issuerDir, "--region", foreignIssuer}
	for i := 1; i < len(sargs); i++ {
		switch sargs[i] {
		case "--addr", "--data-dir", "--region", "--db", "--pprof-addr":
			i++ // the issuer's own, or none
		default:
			iargs = append(iargs, sargs[i])
		}
	}
	iargs = append(iargs, join...)
	fmt.Fprintf(stderr, "starting the issuing region's node: healthcode %s\n", strings.Join(redact(iargs), " "))
	const ready = "healthcode is running at "
	issuer, err := startChild(ctx, wg, exe, iargs, []string{"HEALTHCODE_ADMIN_PASSWORD=" + cfg.AdminPassword}, stderr, ready)
	if err != nil {
		return nil, err
	}
	f.issuerURL, _, _ = strings.Cut(issuer.lines[ready], " ")
	f.serverFlags = join
	return f, nil
}

// stopHubOnceKnown waits until the server holds the issuing region's keys
// (pulled from the hub), then stops the hub and waits until its port
// refuses connections: from then on every status query fails and the
// server falls back to the colour in the code.
func (f *federationRig) stopHubOnceKnown(ctx context.Context, serverURL, password string, stderr io.Writer) error {
	c := &http.Client{Timeout: 5 * time.Second}
	post := func(url string, body any, out any) error {
		b, _ := json.Marshal(body)
		res, err := c.Post(url, "application/json", bytes.NewReader(b))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		return json.NewDecoder(res.Body).Decode(out)
	}
	var login struct{ Token string }
	if err := post(serverURL+"/api/v1/auth/operator", map[string]string{"username": "admin", "password": password}, &login); err != nil || login.Token == "" {
		return fmt.Errorf("loadgen: log in to the server to watch its federation: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", serverURL+"/api/v1/admin/federation", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		var ov struct {
			Regions []struct {
				Region string
				Keys   []any
			}
		}
		if res, err := c.Do(req); err == nil {
			json.NewDecoder(res.Body).Decode(&ov)
			res.Body.Close()
		}
		known := false
		for _, r := range ov.Regions {
			known = known || (r.Region == foreignIssuer && len(r.Keys) > 0)
		}
		if known {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("loadgen: the server did not get region %s's keys from the hub within a minute", foreignIssuer)
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.stopHub()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := c.Get(f.hubURL + "/healthz")
		if err != nil {
			break
		}
		res.Body.Close()
		if time.Now().After(end) {
			return fmt.Errorf("loadgen: the hub at %s still answers 30 s after it was stopped", f.hubURL)
		}
	}
	fmt.Fprintf(stderr, "the server holds region %s's keys; the hub at %s is stopped\n", foreignIssuer, f.hubURL)
	return nil
}
