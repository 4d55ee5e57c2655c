package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/keys"
)

// verifyOutput is what `healthcode verify` prints. The claims are shown
// whenever the code could be decoded, for diagnosis; they are to be
// believed only when valid is true.
type verifyOutput struct {
	Valid         bool                `json:"valid"`
	Reasons       []codeformat.Reason `json:"reasons"`
	ByMAC         bool                `json:"by_mac,omitempty"`
	Kind          string              `json:"kind,omitempty"`
	Color         string              `json:"color,omitempty"` // at issue: an offline check cannot know the current one
	MaskedName    string              `json:"masked_name,omitempty"`
	Issuer        string              `json:"issuer,omitempty"`
	IssuedAt      *time.Time          `json:"issued_at,omitempty"`
	ExpiresAt     *time.Time          `json:"expires_at,omitempty"`
	KID           string              `json:"kid,omitempty"`
	StatusVersion *uint64             `json:"status_version,omitempty"`
	// Certificates only: negative (a test) or vaccinated, and when the
	// swab was taken or the latest dose given.
	Result    string     `json:"result,omitempty"`
	ResultAt  *time.Time `json:"result_at,omitempty"`
	Certifies string     `json:"certifies,omitempty"` // the site of a test, or "dose/doses product" of a vaccination
	CheckedAt time.Time  `json:"checked_at"`
}

func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "--foreign" || a == "-foreign" {
			return verifyForeignCmd(args, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: healthcode verify [--trust-list FILE | --server URL] [--at TIME] [--skew 30s] CODE\n\n"+
			"Checks a code offline against a trust list and prints the result as JSON; exits 1 when it is not\n"+
			"valid. CODE \"-\" (or none) reads the code from standard input. Care codes are only valid online.")
		fs.PrintDefaults()
	}
	trustFile := fs.String("trust-list", "", "trust list file (the JSON of GET /api/v1/trust-list)")
	serverURL := fs.String("server", "", "fetch the trust list from this healthcode server (used when --trust-list is not given)")
	atText := fs.String("at", "", "check at this time (RFC 3339) instead of now")
	skew := fs.Duration("skew", codeformat.DefaultSkew, "clock-skew allowance on issue and expiry times")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("verify: one code at a time (got %d arguments)", fs.NArg())
	}
	scanned := fs.Arg(0)
	if scanned == "" || scanned == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("verify: read the code from standard input: %w", err)
		}
		scanned = line
	}
	scanned = codes.TrimScanned(scanned)
	at := time.Now()
	if *atText != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, *atText); err != nil {
			return fmt.Errorf("--at: want an RFC 3339 time such as 2022-04-01T08:01:00+08:00: %w", err)
		}
	}
	var raw []byte
	var err error
	switch {
	case *trustFile != "":
		if raw, err = os.ReadFile(*trustFile); err != nil {
			return fmt.Errorf("--trust-list: %w", err)
		}
	case *serverURL != "":
		if raw, err = fetchTrustList(ctx, *serverURL); err != nil {
			return err
		}
	default:
		return fmt.Errorf("verify: give --trust-list FILE or --server URL")
	}
	var trust codeformat.TrustList
	if err := json.Unmarshal(raw, &trust); err != nil {
		return fmt.Errorf("verify: the trust list is not valid: %w", err)
	}
	if *skew == 0 {
		*skew = -1 // the verifier reads zero as the default
	}
	// Certificates (a test, a vaccination) verify offline like dynamic
	// codes; care codes need the online check of their revocation.
	res := codeformat.NewVerifier(trust, codeformat.Options{Skew: *skew,
		Kinds: []codeformat.Kind{codeformat.KindDynamic, codeformat.KindCertificate}}).Verify(scanned, at)
	out := verifyOutput{Valid: res.Valid, Reasons: res.Reasons, ByMAC: res.ByMAC, CheckedAt: at.UTC()}
	if out.Reasons == nil {
		out.Reasons = []codeformat.Reason{}
	}
	if d, err := codeformat.Decode(scanned); err == nil {
		c := d.Claims
		iat, exp, ver := c.IssuedAt.UTC(), c.Expires.UTC(), c.StatusVersion
		out.Kind, out.Color, out.MaskedName, out.Issuer = c.Kind.String(), c.Color.String(), c.MaskedName, c.Issuer
		out.IssuedAt, out.ExpiresAt, out.KID, out.StatusVersion = &iat, &exp, keys.KID(d.KeyID), &ver
		if c.Kind == codeformat.KindCertificate {
			t := c.SampledAt.UTC()
			out.Result, out.ResultAt, out.Certifies, out.Color = c.Result.String(), &t, c.Site, ""
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	if !res.Valid {
		return exitCode(1)
	}
	return nil
}

// fetchTrustList reads GET /api/v1/trust-list of a server; the URL may
// also be the trust list's own.
func fetchTrustList(ctx context.Context, base string) ([]byte, error) {
	u := strings.TrimRight(base, "/")
	if !strings.HasSuffix(u, "/trust-list") {
		u += "/api/v1/trust-list"
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("--server: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify: fetch the trust list: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("verify: fetch the trust list: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: %s answered %s", u, res.Status)
	}
	return body, nil
}
