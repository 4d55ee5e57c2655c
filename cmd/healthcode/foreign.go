package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthcode/healthcode/internal/api"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/server"
)

// verifyForeignCmd is `healthcode verify --foreign`: an EU DCC or a SMART
// Health Card checked offline against trust files.
func verifyForeignCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError) // the name parseFlags lets take an argument
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: healthcode verify --foreign [--trust-cert FILE]... [--trust-jwks [ISS=]FILE]... [--at TIME] CREDENTIAL\n\n"+
			"Checks an EU Digital COVID Certificate (HC1:...) or a SMART Health Card (shc:/..., a compact JWS, or a\n"+
			".smart-health-card file's content) offline and prints the result as JSON; exits 1 when it is not valid.\n"+
			"CREDENTIAL \"-\" (or none) reads it from standard input, @FILE from a file. A JWKS file does not name its\n"+
			"issuer: ISS=FILE trusts it for that iss only, FILE for whatever iss a card names.")
		fs.PrintDefaults()
	}
	fs.Bool("foreign", true, "check a foreign credential (EU DCC or SMART Health Card)")
	var certs, jwks multiFlag
	fs.Var(&certs, "trust-cert", "DCC signer certificates, PEM or base64 DER (repeatable)")
	fs.Var(&jwks, "trust-jwks", "an SHC issuer's public JWKS, as [ISS=]FILE (repeatable)")
	atText := fs.String("at", "", "check at this time (RFC 3339) instead of now")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("verify --foreign: one credential at a time (got %d arguments)", fs.NArg())
	}
	cred := fs.Arg(0)
	switch {
	case cred == "" || cred == "-":
		b, err := io.ReadAll(io.LimitReader(os.Stdin, foreign.MaxSize+1))
		if err != nil {
			return fmt.Errorf("verify --foreign: read standard input: %w", err)
		}
		cred = string(b)
	case strings.HasPrefix(cred, "@"):
		b, err := os.ReadFile(cred[1:])
		if err != nil {
			return fmt.Errorf("verify --foreign: %w", err)
		}
		cred = string(b)
	}
	at := time.Now()
	if *atText != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, *atText); err != nil {
			return fmt.Errorf("--at: want an RFC 3339 time such as 2021-06-01T08:00:00Z: %w", err)
		}
	}
	if len(certs) == 0 && len(jwks) == 0 {
		return fmt.Errorf("verify --foreign: give --trust-cert FILE or --trust-jwks FILE")
	}
	trust := &foreign.Trust{}
	for _, f := range certs {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--trust-cert: %w", err)
		}
		cs, err := foreign.ParseCertificates(b)
		if err != nil {
			return fmt.Errorf("--trust-cert %s: %w", f, err)
		}
		for _, c := range cs {
			trust.AddCertificate(c)
		}
	}
	for _, v := range jwks {
		iss, file := foreign.AnyIssuer, v
		if i := strings.LastIndex(v, "="); i > 0 {
			iss, file = v[:i], v[i+1:]
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--trust-jwks: %w", err)
		}
		keys, err := foreign.ParseJWKS(b)
		if err != nil {
			return fmt.Errorf("--trust-jwks %s: %w", file, err)
		}
		trust.AddIssuer(iss, "", keys)
	}
	res := (&foreign.Verifier{Trust: trust}).Verify(cred, at)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(api.ForeignResponse(&res)); err != nil {
		return err
	}
	if !res.Valid {
		return exitCode(1)
	}
	return nil
}

const trustUsage = `usage: healthcode trust import [--cert FILE]... [--jwks FILE --iss URL [--country CC]] [--crl FILE --iss URL] [store flags]
       healthcode trust list [--json] [store flags]`

// trustCmd imports and lists the trust material POST /verify/foreign and
// the border desk check foreign credentials against. Running nodes see an
// import within 30 s.
func trustCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "list") {
		fmt.Fprintln(stderr, trustUsage)
		return fmt.Errorf("trust: want a subcommand: import or list")
	}
	sub := args[0]
	fs := flag.NewFlagSet("trust "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	var certs multiFlag
	jwks, crl, iss, country, asJSON := new(string), new(string), new(string), new(string), new(bool)
	if sub == "import" {
		fs.Var(&certs, "cert", "EU DCC signer certificates: PEM or base64 DER, one a line (repeatable)")
		fs.StringVar(jwks, "jwks", "", "a SMART Health Card issuer's public JWKS (with --iss)")
		fs.StringVar(crl, "crl", "", "a SMART Health Card issuer's revocation list (with --iss; after its JWKS)")
		fs.StringVar(iss, "iss", "", "the SHC issuer's iss URL")
		fs.StringVar(country, "country", "", "the SHC issuer's country (ISO 3166), answered as issuer_country")
	} else {
		fs.BoolVar(asJSON, "json", false, "print JSON instead of a table")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if sub == "import" && len(certs) == 0 && *jwks == "" && *crl == "" {
		return fmt.Errorf("trust import: give --cert FILE, --jwks FILE --iss URL or --crl FILE --iss URL")
	}
	d, _, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	svc := entry.New(d, nil, nil, nil, cfg.Region, nil)
	if sub == "list" {
		es, err := svc.TrustEntries(ctx)
		if err != nil {
			return err
		}
		return printTrust(stdout, es, *asJSON)
	}
	const actor = "cli"
	var added []entry.TrustEntry
	for _, f := range certs {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--cert: %w", err)
		}
		es, err := svc.ImportCertificates(ctx, actor, b)
		if err != nil {
			return fmt.Errorf("--cert %s: %w", f, err)
		}
		added = append(added, es...)
	}
	if *jwks != "" {
		b, err := os.ReadFile(*jwks)
		if err != nil {
			return fmt.Errorf("--jwks: %w", err)
		}
		e, err := svc.ImportJWKS(ctx, actor, *iss, *country, b)
		if err != nil {
			return fmt.Errorf("--jwks %s: %w", *jwks, err)
		}
		added = append(added, e)
	}
	if *crl != "" {
		b, err := os.ReadFile(*crl)
		if err != nil {
			return fmt.Errorf("--crl: %w", err)
		}
		e, err := svc.ImportCRL(ctx, actor, *iss, b)
		if err != nil {
			return fmt.Errorf("--crl %s: %w", *crl, err)
		}
		added = append(added, e)
	}
	return printTrust(stdout, added, false)
}

type trustJSON struct {
	Format   string     `json:"format"`
	Kind     string     `json:"kind"`
	Issuer   string     `json:"issuer"`
	Country  string     `json:"country"`
	KID      string     `json:"kid"`
	NotAfter *time.Time `json:"not_after,omitempty"`
	AddedAt  time.Time  `json:"added_at"`
	AddedBy  string     `json:"added_by"`
}

func printTrust(w io.Writer, es []entry.TrustEntry, asJSON bool) error {
	if asJSON {
		out := make([]trustJSON, len(es))
		for i, e := range es {
			out[i] = trustJSON{Format: string(e.Format), Kind: e.Kind, Issuer: e.Issuer, Country: e.Country, KID: e.KID, AddedAt: e.AddedAt, AddedBy: e.AddedBy}
			if !e.NotAfter.IsZero() {
				t := e.NotAfter
				out[i].NotAfter = &t
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FORMAT\tKIND\tISSUER\tCOUNTRY\tKID\tNOT AFTER")
	for _, e := range es {
		na := ""
		if !e.NotAfter.IsZero() {
			na = e.NotAfter.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Format, e.Kind, e.Issuer, e.Country, e.KID, na)
	}
	return tw.Flush()
}
