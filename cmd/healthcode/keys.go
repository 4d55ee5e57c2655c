package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/emergency"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/server"
)

// codeFlags are the code lifetimes; serve and keys rotate share them, since
// a retired key stays published as long as the longest code lives.
func codeFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.DurationVar(&cfg.CodeTTL, "code-ttl", codes.DefaultTTL, "lifetime of a dynamic code (亮码)")
	fs.DurationVar(&cfg.CareCodeTTL, "care-code-ttl", codes.DefaultCareTTL, "lifetime of a printed care code (爱心码)")
}

const keysUsage = `usage: healthcode keys generate [--alg ed25519|es256|sm2] [store flags]
       healthcode keys rotate [--alg ed25519|es256|sm2] [--grace 1m] [store flags]
       healthcode keys list [--json] [store flags]
       healthcode keys federation [--out FILE] [store flags]   (the federation public key the hub enrols)`

func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "federation" {
		return federationKeyCmd(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "generate" && args[0] != "rotate" && args[0] != "list") {
		fmt.Fprintln(stderr, keysUsage)
		return fmt.Errorf("keys: want a subcommand: generate, rotate, list or federation")
	}
	sub := args[0]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	algName, grace, asJSON := new(string), new(time.Duration), new(bool)
	switch sub {
	case "generate":
		fs.StringVar(algName, "alg", "ed25519", "signature algorithm: ed25519, es256 (ECDSA P-256) or sm2 (国密)")
	case "rotate":
		fs.StringVar(algName, "alg", "", "algorithm of the new key: ed25519, es256 or sm2 (default: that of the current key)")
		fs.DurationVar(grace, "grace", keys.DefaultGrace, "delay before the new key signs; longer than the nodes' reload period (30 s)")
		codeFlags(fs, &cfg)
	case "list":
		fs.BoolVar(asJSON, "json", false, "print JSON instead of a table")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var alg codeformat.Alg
	if *algName != "" {
		var err error
		if alg, err = keys.ParseAlg(*algName); err != nil {
			return err
		}
	}
	if *grace < keys.ReloadPeriod && sub == "rotate" {
		return fmt.Errorf("--grace %v is shorter than the nodes' key reload period (%v): some nodes would not trust the new key when it starts signing", *grace, keys.ReloadPeriod)
	}
	d, ring, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if sub != "list" {
		// After the wind-down the current key's public half verifies the
		// destruction report: a rotation would retire it from the trust list.
		em, err := emergency.Open(ctx, d)
		if err != nil {
			return err
		}
		if end, ok := em.Ending(); ok {
			return fmt.Errorf("keys %s: the emergency ended on %s (wind-down): no key is made or retired any more", sub, end.At.Format(time.RFC3339))
		}
	}
	codeCfg := codes.Config{TTL: cfg.CodeTTL, CareTTL: cfg.CareCodeTTL}
	st, err := keys.Open(ctx, d, ring, keys.Config{Region: cfg.Region, Retain: codeCfg.MaxLifetime(), Grace: *grace})
	if err != nil {
		return err
	}
	switch sub {
	case "generate":
		k, err := st.Generate(ctx, alg, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Generated signing key %s (%v) for region %s; it signs from now.\n", k.KID, k.Alg, k.Issuer)
	case "rotate":
		r, err := st.Rotate(ctx, alg, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "New signing key %s (%v) is published now and signs from %s.\n", r.New.KID, r.New.Alg, r.SwitchAt.Format(time.RFC3339))
		fmt.Fprintf(stdout, "Key %s (%v) signs until then and stays in the trust list until %s, when every code it signed has expired.\n",
			r.Old.KID, r.Old.Alg, r.Old.PublishUntil.Format(time.RFC3339))
	case "list":
		ks, err := st.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"keys": ks})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tALG\tSTATE\tSIGNS FROM\tSIGNS UNTIL\tPUBLISHED UNTIL\tCREATED BY")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State, stamp(k.NotBefore), stamp(k.NotAfter), stamp(k.PublishUntil), k.CreatedBy)
		}
		return tw.Flush()
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// openStore opens and migrates the database and loads the master keyring
// as serve does (creating the key file on a fresh data directory), without
// the rest of the server: the first key must not be made by a server start
// before `keys generate` chooses its algorithm.
func openStore(ctx context.Context, cfg *server.Config) (*db.DB, *secret.Keyring, error) {
	if cfg.DB == "" {
		cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "healthcode.db")
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = filepath.Join(cfg.DataDir, "master.key")
	}
	if cfg.Region == "" {
		cfg.Region = "341881"
	}
	var ring *secret.Keyring
	if cfg.MasterKey != "" {
		master, err := secret.Parse(cfg.MasterKey)
		if err != nil {
			return nil, nil, err
		}
		if ring, err = secret.New(master); err != nil {
			return nil, nil, err
		}
	} else {
		var err error
		if ring, _, err = secret.LoadOrCreate(cfg.KeyFile); err != nil {
			return nil, nil, err
		}
	}
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, ring, nil
}
