package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/loadgen"
)

// loadgenCmd measures a server against a bare net/http handler
// (docs/PERFORMANCE.md). Without --url it starts the server itself, as a
// child process on a fresh embedded database with the per-phone one-time
// code limits off; the bare handler always runs as a child process
// (`healthcode loadgen bare`), so both are separate processes measured
// with the same client.
func loadgenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bare" {
		return bareServer(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	url := fs.String("url", "", "a running server to measure; it must run with --otp-interval -1s --otp-per-day -1 --otp-per-address -1 --otp-per-minute -1 --sms-budget -1 (default: start one)")
	fs.StringVar(&cfg.AdminUser, "admin-user", "admin", "operator that creates checkpoints and venues and reads the outbox (needs those permissions)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", "", "that operator's password (with --url)")
	fs.StringVar(&cfg.Region, "region", "341881", "region of the checkpoints, venues and residents")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "requests in flight, for the bare handler and the server alike (docs/PERFORMANCE.md: why 32)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time of each path per round")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured lead-in of each path")
	fs.DurationVar(&cfg.Slice, "slice", time.Second, "each path is measured in slices of this length alternating with slices of the bare handler")
	paths := fs.String("paths", "code,verify,scan,checkin", "paths to measure after the bare handler: code, verify, scan (POST /gateway/v1/scan), checkin")
	mix := fs.String("mix", "", "also measure the paths at once in this mix, e.g. verify=70,code=20,checkin=10")
	fs.IntVar(&cfg.Residents, "residents", 1000, "residents to register (by phone, through the outbox) before measuring")
	fs.IntVar(&cfg.Checkpoints, "checkpoints", 8, "checkpoint API keys the scans come from")
	fs.IntVar(&cfg.Venues, "venues", 8, "venues residents check in at")
	fs.Float64Var(&cfg.Rescan, "rescan", 0.5, "share of codes scanned a second time at another door (each code is scanned at most twice)")
	codeTTL := fs.Duration("code-ttl", 0, "the server's --code-ttl (default 3m with --url; loadgen's own server gets 10m)")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file (- for standard output)")
	profDir := fs.String("profile", "", "write CPU and allocation profiles of the server for each path to this directory")
	pprofURL := fs.String("pprof", "", "with --url: the server's profiler, e.g. http://127.0.0.1:6060 (its --pprof-addr)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "with --url: the server's process id, for its CPU time per request")
	// Not --db: that would be filled from HEALTHCODE_DB, and a load test
	// must not write into the database the environment names.
	db := fs.String("server-db", "", "database of the server loadgen starts (default: a fresh SQLite file in a temporary directory)")
	nodes := fs.Int("nodes", 1, "serve processes to start on the one database of --server-db (postgres://...); requests are spread over them round robin, as a balancer would (docs/SCALE.md)")
	appointments := fs.Bool("appointments", false, "instead of the paths: an appointment opening, --residents (default 10000) book --places in --slots at once (POST /me/appointments)")
	places := fs.Int("places", 1000, "with --appointments: places to open")
	slots := fs.Int("slots", 10, "with --appointments: slots the places are spread over")
	register := fs.Bool("register", false, "instead of the paths: a registration surge, --residents (default 10000) fresh residents each go the whole way a phone does (one-time code, the outbox read, login, POST /me/register, GET /me/code), --concurrency at a time; the rate, latencies and server CPU per slice of the population")
	registerSlice := fs.Int("register-slice", 0, "with --register: registrations per reported slice (default a tenth of --residents)")
	hubDown := fs.Bool("foreign-hub-down", false, "measure verify on another region's codes with the hub stopped: loadgen also starts a hub and a node of region 341802 where the residents register, lets its keys reach its own server through the hub, then stops the hub (not with --url)")
	fs.StringVar(&cfg.Client, "client", "go", "what sends the measured requests: go (this binary) or wrk (the C client, Debian package wrk: each path in one run between two runs of the bare handler; docs/PERFORMANCE.md \"The wrk measure\")")
	fs.StringVar(&cfg.WrkPath, "wrk", "wrk", "with --client wrk: the wrk binary")
	fs.IntVar(&cfg.DBPID, "db-pid", 0, "with --client wrk: the database server's process (PostgreSQL's postmaster, the first line of its postmaster.pid), whose CPU time per request, backends included, the report gives")
	var serverFlags multiFlag
	fs.Var(&serverFlags, "server-flag", "extra flag for the server loadgen starts, e.g. --server-flag=--group-commit-delay=1ms (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Paths = splitList(*paths)
	if *mix != "" {
		m, err := parseMix(*mix)
		if err != nil {
			return err
		}
		cfg.Mix = m
	}
	cfg.Progress = stderr
	if *url != "" && cfg.AdminPassword == "" {
		return errors.New("loadgen: --url needs --admin-password (or HEALTHCODE_ADMIN_PASSWORD)")
	}
	if *hubDown && *url != "" {
		return errors.New("loadgen: --foreign-hub-down starts its own servers; it does not take --url")
	}
	if *register && (*appointments || *hubDown) {
		return errors.New("loadgen: --register is a run of its own: not with --appointments or --foreign-hub-down")
	}
	if cfg.Client != "go" && cfg.Client != loadgen.ClientWrk {
		return fmt.Errorf("loadgen: unknown client %q (go, wrk)", cfg.Client)
	}
	if cfg.Client == loadgen.ClientWrk && (*mix != "" || *hubDown || *register || *appointments) {
		return errors.New("loadgen: --client wrk measures the code, verify, scan and checkin paths: not with --mix, --foreign-hub-down, --register or --appointments")
	}
	if *nodes < 1 {
		return errors.New("loadgen: --nodes must be at least 1")
	}
	if *nodes > 1 && (*url != "" || !strings.HasPrefix(*db, "postgres")) {
		return errors.New("loadgen: --nodes starts several servers on one PostgreSQL database: give --server-db postgres://... (and no --url)")
	}
	if *profDir != "" && *url != "" && *pprofURL == "" {
		return errors.New("loadgen: --profile needs the server's profiler: start it with --pprof-addr and give --pprof")
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("loadgen: find my own binary: %w", err)
	}
	var dir string // the data of the server loadgen starts
	if *url == "" {
		if dir, err = os.MkdirTemp("", "healthcode-loadgen-"); err != nil {
			return err
		}
		// Deferred first, so it runs after the children have exited.
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var children sync.WaitGroup
	defer children.Wait()
	defer cancel() // stops the children before waiting for them

	bare, err := startChild(ctx, &children, exe, []string{"loadgen", "bare", "--addr", "127.0.0.1:0"}, nil, stderr, "bare handler at ")
	if err != nil {
		return err
	}
	cfg.BareURL, cfg.BarePID = bare.lines["bare handler at "]+"/", bare.pid

	cfg.URL = *url
	if cfg.URL == "" {
		if cfg.AdminPassword == "" {
			b := make([]byte, 18)
			rand.Read(b)
			cfg.AdminPassword = base64.RawURLEncoding.EncodeToString(b)
		}
		if *codeTTL == 0 {
			*codeTTL = 10 * time.Minute
		}
		// The password goes in the environment: a command line is readable
		// by anyone on the machine (/proc/PID/cmdline).
		sargs := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir,
			"--region", cfg.Region, "--otp-interval", "-1s", "--otp-per-day", "-1",
			"--otp-per-address", "-1", "--otp-per-minute", "-1", "--sms-budget", "-1", "--code-ttl", codeTTL.String(),
			"--pprof-addr", "127.0.0.1:0", "--log-level", "warn", "--drain", "0"}
		if *db != "" {
			sargs = append(sargs, "--db", *db)
		}
		var fed *federationRig
		if *hubDown {
			if fed, err = startFederation(ctx, &children, exe, dir, sargs, cfg, stderr); err != nil {
				return err
			}
			sargs = append(sargs, fed.serverFlags...)
			cfg.IssuerURL, cfg.IssuerRegion, cfg.IssuerAdminPassword, cfg.FromCode = fed.issuerURL, foreignIssuer, cfg.AdminPassword, true
			pathsSet := false
			fs.Visit(func(f *flag.Flag) { pathsSet = pathsSet || f.Name == "paths" })
			if !pathsSet {
				cfg.Paths = []string{loadgen.PathVerify}
			}
		}
		sargs = append(sargs, serverFlags...)
		env := []string{"HEALTHCODE_ADMIN_PASSWORD=" + cfg.AdminPassword}
		if *nodes > 1 {
			// Every node needs the one master key: in the environment, like
			// the password.
			key := make([]byte, 32)
			rand.Read(key)
			env = append(env, "HEALTHCODE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
		}
		// The first node migrates the database before the others start.
		for i := range *nodes {
			nargs := sargs
			if *nodes > 1 {
				nargs = append(slices.Clone(sargs), "--node", fmt.Sprintf("node%d", i+1),
					"--data-dir", filepath.Join(dir, fmt.Sprintf("node%d", i+1)))
			}
			fmt.Fprintf(stderr, "starting the server: healthcode %s\n", strings.Join(redact(nargs), " "))
			srv, err := startChild(ctx, &children, exe, nargs, env, stderr, "healthcode is running at ", "profiler at ")
			if err != nil {
				return err
			}
			u, _, _ := strings.Cut(srv.lines["healthcode is running at "], " ")
			if i == 0 {
				cfg.URL, cfg.ServerPID = u, srv.pid
				*pprofURL = strings.TrimSuffix(srv.lines["profiler at "], "/debug/pprof/")
				continue
			}
			cfg.Nodes, cfg.NodePIDs = append(cfg.Nodes, u), append(cfg.NodePIDs, srv.pid)
		}
		if fed != nil {
			if err := fed.stopHubOnceKnown(ctx, cfg.URL, cfg.AdminPassword, stderr); err != nil {
				return err
			}
		}
	}
	cfg.CodeTTL = *codeTTL
	if *profDir != "" {
		if err := os.MkdirAll(*profDir, 0o755); err != nil {
			return err
		}
		cfg.Phase = profiler(ctx, *pprofURL, *profDir, stderr)
	}
	if *register {
		return registrationSurge(ctx, fs, cfg, *registerSlice, *jsonOut, stdout)
	}
	if *appointments {
		residentsSet := false
		fs.Visit(func(f *flag.Flag) { residentsSet = residentsSet || f.Name == "residents" })
		if !residentsSet {
			cfg.Residents = 10000
		}
		ar, err := loadgen.RunAppointments(ctx, cfg, *places, *slots)
		if err != nil {
			return err
		}
		if err := ar.WriteTable(stdout); err != nil {
			return err
		}
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(ar, "", "  ")
			if *jsonOut == "-" {
				stdout.Write(append(b, '\n'))
			} else if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		if !ar.Exact() {
			return loadgen.ErrNotExact
		}
		return nil
	}
	rep, runErr := loadgen.Run(ctx, cfg)
	if rep == nil {
		return runErr
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	switch *jsonOut {
	case "":
	case "-":
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	default:
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		if err := rep.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return runErr
}

// registrationSurge runs loadgen --register and writes its report.
func registrationSurge(ctx context.Context, fs *flag.FlagSet, cfg loadgen.Config, slice int, jsonOut string, stdout io.Writer) error {
	residentsSet := false
	fs.Visit(func(f *flag.Flag) { residentsSet = residentsSet || f.Name == "residents" })
	if !residentsSet {
		cfg.Residents = 10000
	}
	rr, err := loadgen.RunRegistration(ctx, cfg, slice)
	if err != nil {
		return err
	}
	if err := rr.WriteTable(stdout); err != nil {
		return err
	}
	if jsonOut != "" {
		b, _ := json.MarshalIndent(rr, "", "  ")
		if jsonOut == "-" {
			stdout.Write(append(b, '\n'))
		} else if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if rr.Errors > 0 {
		return fmt.Errorf("%w: %d of %d", loadgen.ErrRegistrationFailed, rr.Errors, rr.Residents)
	}
	return nil
}

// bareServer is the hidden `healthcode loadgen bare`: the baseline handler
// in a process of its own. It prints its address and serves until stopped.
func bareServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: loadgen.BareHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "bare handler at http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type child struct {
	pid   int
	lines map[string]string // what followed each awaited prefix
}

// startChild runs this binary with args until ctx ends (then interrupts
// it), and waits until it has printed a line starting with each of the
// prefixes. Its other output goes to stderr. It gets this process's
// environment without the HEALTHCODE_ settings (which would point it at
// another database or key), plus env.
func startChild(ctx context.Context, wg *sync.WaitGroup, exe string, args, env []string, stderr io.Writer, prefixes ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEALTHCODE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Stderr = stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start %s: %w", filepath.Base(exe), err)
	}
	wg.Add(1)
	exited := make(chan error, 1)
	found := make(chan map[string]string, 1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		lines := map[string]string{}
		for sc.Scan() {
			line := sc.Text()
			for _, p := range prefixes {
				if v, ok := strings.CutPrefix(line, p); ok && lines[p] == "" {
					lines[p] = v
					if len(lines) == len(prefixes) {
						found <- lines
					}
				}
			}
		}
		io.Copy(io.Discard, out)
		exited <- cmd.Wait()
	}()
	select {
	case l := <-found:
		return &child{pid: cmd.Process.Pid, lines: l}, nil
	case err := <-exited:
		return nil, fmt.Errorf("loadgen: %s %s exited before it was ready: %v", filepath.Base(exe), args[0], err)
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("loadgen: %s %s did not become ready in 2 minutes", filepath.Base(exe), args[0])
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// profiler takes, while each path is measured, a CPU profile of the server
// and the allocations meanwhile, into dir as PATH.cpu.pprof and
// PATH.allocs.pprof (PATH-waveN for later verify waves); `go tool pprof`
// reads them. The server idles during the bare slices, so the profiles hold
// the path's work.
func profiler(ctx context.Context, base, dir string, stderr io.Writer) func(string, bool, time.Duration) {
	var wg sync.WaitGroup
	seen := map[string]int{}
	return func(path string, start bool, window time.Duration) {
		if !start {
			wg.Wait()
			return
		}
		name := path
		if n := seen[path]; n > 0 {
			name = fmt.Sprintf("%s-wave%d", path, n+1)
		}
		seen[path]++
		secs := max(1, int(window.Seconds()))
		for _, p := range []struct{ kind, file string }{{"profile", ".cpu.pprof"}, {"allocs", ".allocs.pprof"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				url := fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", base, p.kind, secs)
				if err := fetchTo(ctx, url, filepath.Join(dir, name+p.file)); err != nil {
					fmt.Fprintf(stderr, "loadgen: profile %s: %v\n", name, err)
				}
			}()
		}
	}
}

func fetchTo(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s: %d %s", url, res.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// redact hides secrets in a command line about to be printed: the value
// of a flag named for a password or a secret, and the password in a
// database URL.
func redact(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if i > 0 && isPasswordFlag(args[i-1]) {
			out[i] = "…"
			continue
		}
		out[i] = redactArg(a)
	}
	return out
}

// redactArg redacts one argument, a flag's value within it included
// (--server-flag=--admin-password=…).
func redactArg(a string) string {
	name, value, ok := strings.Cut(a, "=")
	switch {
	case !ok || !strings.HasPrefix(name, "-"):
		return db.Redact(a)
	case isSecretName(name):
		return name + "=…"
	default:
		return name + "=" + redactArg(value)
	}
}

func isPasswordFlag(a string) bool {
	return strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && isSecretName(a)
}

func isSecretName(flag string) bool {
	return strings.Contains(flag, "password") || strings.Contains(flag, "secret")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, p := range splitList(s) {
		k, v, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("loadgen: --mix wants PATH=WEIGHT,..., e.g. verify=70,code=20,checkin=10; not %q", p)
		}
		m[strings.TrimSpace(k)] = n
	}
	return m, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
