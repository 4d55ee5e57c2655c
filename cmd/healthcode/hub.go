package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/server"
)

const hubUsage = `usage: healthcode hub [--addr 127.0.0.1:8090] [hub store flags]      run the federation hub
       healthcode hub enrol --region CODE --key FILE [hub store flags]  enrol a region's federation key
       healthcode hub host --region CODE --out FILE [hub store flags]   host a region without a deployment of its own (path 3)
       healthcode hub key [--out FILE] [hub store flags]                print the hub's public key (nodes' --hub-key)
       healthcode hub list [hub store flags]                            regions enrolled and their last upload`

func hubStoreFlags(fs *flag.FlagSet, cfg *server.HubConfig) {
	fs.StringVar(&cfg.DB, "db", "", "the hub's database: sqlite:PATH or postgres://... (default sqlite:DATA-DIR/hub.db)")
	fs.StringVar(&cfg.DataDir, "data-dir", "hub-data", "directory for the hub's embedded database and master key")
	fs.StringVar(&cfg.MasterKey, "master-key", "", "the hub's master key, base64 (default: DATA-DIR/master.key, created if missing)")
}

// hubCmd runs the federation hub, or one of its operator's tools.
func hubCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "serve"
	if len(args) > 0 && (args[0] == "enrol" || args[0] == "host" || args[0] == "key" || args[0] == "list" || args[0] == "serve") {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("hub "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, hubUsage); fs.PrintDefaults() }
	var cfg server.HubConfig
	hubStoreFlags(fs, &cfg)
	var regionCode, keyFile, out string
	switch sub {
	case "serve":
		fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8090", "listen address")
	case "enrol":
		fs.StringVar(&regionCode, "region", "", "the region's code (GB/T 2260)")
		fs.StringVar(&keyFile, "key", "", "file with the region's federation public key (PEM, from `healthcode keys federation`)")
	case "host":
		fs.StringVar(&regionCode, "region", "", "the region's code (GB/T 2260)")
		fs.StringVar(&out, "out", "", "file for the master key of the region's node (serve --key-file), written with mode 0600")
	case "key":
		fs.StringVar(&out, "out", "", "write the PEM to this file instead of standard output")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, "info", "text")
	if err != nil {
		return err
	}
	cfg.Log = log
	h, err := server.NewHub(ctx, cfg)
	if err != nil {
		return err
	}
	defer h.Close()
	switch sub {
	case "enrol":
		if regionCode == "" || keyFile == "" {
			return fmt.Errorf("hub enrol: --region and --key are required")
		}
		pem, err := os.ReadFile(keyFile)
		if err != nil {
			return err
		}
		if err := h.Hub.Enrol(ctx, regionCode, pem, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Enrolled region %s; its nodes may now upload their trust list.\n", regionCode)
		return nil
	case "host":
		if regionCode == "" || out == "" {
			return fmt.Errorf("hub host: --region and --out are required")
		}
		master, err := h.Hub.Host(ctx, regionCode, "cli")
		if err != nil {
			return err
		}
		if err := os.WriteFile(out, []byte(base64.StdEncoding.EncodeToString(master)+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Enrolled region %s on the hub's trust; its node's master key is in %s.\n"+
			"Start the node: healthcode serve --region %s --key-file %s --hub HUB-URL --hub-key HUB-KEY.pem --public-url NODE-URL\n",
			regionCode, out, regionCode, out)
		return nil
	case "key":
		return writePEM(stdout, out, federation.MarshalPublicPEM(h.Hub.PublicKey()))
	case "list":
		rs, err := h.Hub.Regions(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			up := "never uploaded"
			if !r.UploadedAt.IsZero() {
				up = "uploaded " + r.UploadedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			if r.Hosted {
				up += ", hosted by this hub"
			}
			fmt.Fprintf(stdout, "%s  %s\n", r.Region, up)
		}
		return nil
	}
	return h.ListenAndServe(ctx, func(addr net.Addr) {
		fmt.Fprintf(stdout, "healthcode hub is running at http://%s (bundle at %s)\n", addr, federation.PathTrustLists)
	})
}

// federationKeyCmd prints the deployment's federation public key, derived
// from its master key, for the hub operator to enrol.
func federationKeyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys federation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	out := fs.String("out", "", "write the PEM to this file instead of standard output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, ring, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	d.Close()
	return writePEM(stdout, *out, federation.MarshalPublicPEM(federation.Key(ring).Public().(ed25519.PublicKey)))
}

func writePEM(stdout io.Writer, path string, pem []byte) error {
	if path == "" {
		_, err := stdout.Write(pem)
		return err
	}
	return os.WriteFile(path, pem, 0o644)
}
