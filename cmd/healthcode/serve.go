package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/demo"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/lease"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/trip"
)

// storeFlags are the flags every command that opens the store shares.
func storeFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.DB, "db", "", "database: sqlite:PATH or postgres://... (default sqlite:DATA-DIR/healthcode.db)")
	fs.StringVar(&cfg.DataDir, "data-dir", "data", "directory for the embedded database and the generated master key")
	fs.StringVar(&cfg.KeyFile, "key-file", "", "master key file (default DATA-DIR/master.key; created if missing)")
	fs.StringVar(&cfg.MasterKey, "master-key", "", "master key, base64 (overrides --key-file; every node needs the same)")
	fs.StringVar(&cfg.Region, "region", "341881", "the deployment's region code (GB/T 2260)")
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base URL residents' phones reach, for venue QR codes (default http://ADDR)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", "", "password of the first operator 'admin' (generated and printed if empty)")
	fs.IntVar(&cfg.MaxDependents, "max-dependents", 4, "dependents one phone may manage")
	fs.Float64Var(&cfg.CoverageRatio, "coverage-ratio", 0.9, "target share of the population in the registration task table")
	fs.DurationVar(&cfg.Auth.OTPTTL, "otp-ttl", 5*time.Minute, "how long a one-time code is valid")
	fs.IntVar(&cfg.Auth.OTPAttempts, "otp-attempts", 5, "wrong guesses before a one-time code is void")
	fs.DurationVar(&cfg.Auth.OTPInterval, "otp-interval", time.Minute, "minimum time between codes to one phone (-1s: no limit, for load tests)")
	fs.IntVar(&cfg.Auth.OTPPerDay, "otp-per-day", 10, "codes per phone per day (-1: no limit, for load tests)")
	fs.IntVar(&cfg.Auth.OTPPerAddr, "otp-per-address", 60, "codes to any phones asked from one client address in an hour, all nodes together (-1: no limit, for load tests)")
	fs.IntVar(&cfg.Auth.OTPPerMinute, "otp-per-minute", 600, "codes all nodes send in a minute (-1: no limit, for load tests)")
	fs.IntVar(&cfg.Auth.SMSBudget, "sms-budget", 50_000, "login-code messages per day; an alert at 80% and when spent, then codes are refused until the next day (-1: no budget)")
	fs.BoolVar(&cfg.Auth.AdminTOTP, "admin-totp", false, "administrators must turn on two-step login (TOTP, console page /console/totp) before they may do anything else")
	fs.IntVar(&cfg.Auth.LoginFailures, "login-failures", 10, "failed passwords (per username, per client address) before a 15-minute lock that doubles with each further failure")
	fs.Var(&cfg.TrustedProxies, "trusted-proxies", "reverse proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For names the client, for the per-address limits")
	codeFlags(fs, &cfg)
	fs.DurationVar(&cfg.Auth.CacheTTL, "auth-cache", 30*time.Second, "how long a node trusts a session or API key it has looked up")
	fs.DurationVar(&cfg.AuditHeadInterval, "audit-head-interval", audit.DefaultAnchorInterval, "how often the audit log's head is signed with the region's key (negative: only on demand, POST /api/v1/admin/audit/heads)")
	fs.DurationVar(&cfg.Retention, "retention", checkin.DefaultRetention, "how long check-ins and verification events are kept")
	retentionFlags(fs, &cfg.Keep)
	fs.BoolVar(&cfg.EventsWaitForFlush, "events-wait-for-flush", false, "on PostgreSQL, answer a check-in or a scan only once PostgreSQL has flushed its row, as every other write (default: once PostgreSQL has it; a crash of PostgreSQL or its machine may lose the last moment's, docs/OPERATIONS.md \"What a crash may lose\")")
	fs.DurationVar(&cfg.GroupCommitDelay, "group-commit-delay", 0, "how long a check-in may wait for others to share its transaction (0: only those queued meanwhile; a few ms can help where a commit waits for a disk flush)")
	fs.DurationVar(&cfg.TracingLookback, "tracing-lookback", tracing.DefaultLookback, "default lookback of a tracing run")
	fs.DurationVar(&cfg.TracingWindow, "tracing-window", tracing.DefaultWindow, "default overlap window of a tracing run")
	tracingWindows := fs.String("tracing-windows", "", "overlap windows per venue kind, e.g. restaurant=60m,transport=15m,checkpoint=10m")
	fs.DurationVar(&cfg.AppealTTL, "appeal-ttl", 7*24*time.Hour, "how long a granted appeal lasts when the operator gives no end")
	fs.DurationVar(&cfg.TripWindow, "trip-window", trip.DefaultWindow, "how far back the trip card looks (14 days; 7 in the later rules)")
	fs.DurationVar(&cfg.TripMinStay, "trip-min-stay", trip.DefaultMinStay, "a city counts on the trip card after a stay longer than this")
	fs.DurationVar(&cfg.SubjectTTL, "subject-ttl", 15*time.Minute, "how long a gateway scan's subject reference can be used")
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve the Go profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060 (never on --addr)")
	smsFlags(fs, &cfg)
	fs.StringVar(&cfg.Hub, "hub", "", "the federation hub's base URL: recognise other regions' codes (docs/FEDERATION.md)")
	hubKeyFile := fs.String("hub-key", "", "file with the hub's public key (PEM, from `healthcode hub key`); required with --hub")
	fs.DurationVar(&cfg.HubDeadline, "hub-deadline", 300*time.Millisecond, "how long a live status query through the hub may take before the code's own colour is used")
	fs.DurationVar(&cfg.HubPull, "hub-pull", time.Minute, "how often the bundle of trust lists is pulled from the hub")
	fs.StringVar(&cfg.Node, "node", "", "this node's name among the nodes sharing the database, in leases and job claims (default: random at each start; never two nodes with one name)")
	fs.DurationVar(&cfg.Drain, "drain", 5*time.Second, "on SIGTERM or SIGINT, how long to keep serving with /readyz answering 503 before refusing new connections, so the balancer moves away first (0: stop at once)")
	fs.IntVar(&cfg.DBOptions.MaxConns, "db-max-conns", db.DefaultMaxConns, "PostgreSQL: connections this node opens at most (every node opens its own)")
	fs.DurationVar(&cfg.DBOptions.StatementTimeout, "db-statement-timeout", 0, "PostgreSQL: cancel a statement that runs longer than this (0: the server's own statement_timeout; migrations are exempt)")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", lease.DefaultTTL, "how long work that runs on one node at a time (scheduler, purges, notices) waits before moving to another node when its node dies")
	withDemo := fs.Bool("demo", false, "load the Ningguo demo data (idempotent) and print how to log in (passwords when they are made)")
	newPasswords := fs.Bool("demo-new-passwords", false, "with --demo: give the demo logins new passwords and keys, and print them once")
	demoResidents := fs.Int("demo-residents", demo.DefaultResidents, "simulated residents of the demo's 14-day history, generated at the first start (0: none)")
	gc := gcTuning{}
	fs.IntVar(&gc.percent, "gc-percent", defaultGCPercent, "Go garbage collection target percentage (0: the runtime's default of 100; the GOGC environment variable, when set, wins)")
	memLimit := memoryFlag(0)
	fs.Var(&memLimit, "memory-limit", "soft memory limit of the process, e.g. 6GiB (default: 3/4 of the machine's or container's memory; GOMEMLIMIT, when set, wins)")
	procs := fs.Int("procs", 0, "how many goroutines run at once (GOMAXPROCS; 0: twice the CPUs on SQLite, whose database runs in the process, else the CPUs; the GOMAXPROCS environment variable, when set, wins)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	cfg.Log = log
	if *procs < 0 {
		return fmt.Errorf("--procs: %d is below 0 (0 chooses from the database engine)", *procs)
	}
	if gc.percent < 0 {
		return fmt.Errorf("--gc-percent: %d is below 0 (garbage collection cannot be turned off here; use GOGC=off)", gc.percent)
	}
	gc.limit = int64(memLimit)
	gc = gc.resolve(os.Getenv, machineMemory)
	gc.apply()
	log.Debug("garbage collection", "gc_percent", gc.percent, "memory_limit", gc.limit)
	if cfg.Hub != "" {
		if *hubKeyFile == "" {
			return fmt.Errorf("--hub needs --hub-key: the hub's public key, pinned")
		}
		if cfg.HubKey, err = os.ReadFile(*hubKeyFile); err != nil {
			return fmt.Errorf("--hub-key: %w", err)
		}
	}
	if cfg.TracingWindows, err = tracing.ParseWindows(*tracingWindows); err != nil {
		return fmt.Errorf("--tracing-windows: %w", err)
	}
	var demoHub *federation.Hub
	if *withDemo {
		if err := demo.Prepare(ctx, &cfg); err != nil {
			return err
		}
		if cfg.Hub == "" {
			// A hub in the process, with a neighbouring region, so the
			// federation page has something to show (docs/FEDERATION.md).
			if demoHub, err = startDemoHub(ctx, &cfg); err != nil {
				return err
			}
		}
	}
	if _, port, err := net.SplitHostPort(cfg.Addr); err == nil && port == "0" {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
		defer ln.Close()
		cfg.Listener, cfg.Addr = ln, ln.Addr().String()
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if demoHub != nil {
		if err := demoHub.Enrol(ctx, srv.Config.Region, federation.MarshalPublicPEM(srv.Federation.PublicKey()), "demo"); err != nil {
			return err
		}
	}
	log.Info("store ready", "db", srv.DB.String(), "engine", srv.DB.Engine())
	applyProcs(procsFor(*procs, srv.DB.Engine(), os.Getenv, defaultProcs))
	log.Debug("procs", "gomaxprocs", runtime.GOMAXPROCS(0))
	if srv.KeyCreated {
		fmt.Fprintf(stdout, "Generated a new master key in %s. Back it up: without it the personal data cannot be read.\n", srv.Config.KeyFile)
	}
	generated, err := srv.EnsureAdmin(ctx)
	if err != nil {
		return err
	}
	if generated != "" && !*withDemo { // the demo prints every login below
		fmt.Fprintf(stdout, "Created the first operator: username admin, password %s (shown once; set HEALTHCODE_ADMIN_PASSWORD to choose it)\n", generated)
	}
	var logins []demo.Login
	if *withDemo {
		if logins, err = demo.Load(ctx, srv, demo.Options{Residents: *demoResidents}); err != nil {
			return err
		}
		if *newPasswords && len(logins) == 0 {
			if logins, err = demo.NewPasswords(ctx, srv); err != nil {
				return err
			}
		}
	}
	return srv.ListenAndServe(ctx, func(addr net.Addr) {
		url := "http://" + addr.String()
		log.Info("listening", "addr", addr.String())
		fmt.Fprintf(stdout, "healthcode is running at %s (API under %s/api/v1, metrics at /metrics)\n", url, url)
		if pa := srv.PprofAddr(); pa != nil {
			fmt.Fprintf(stdout, "profiler at http://%s/debug/pprof/\n", pa)
		}
		if *withDemo {
			demo.Print(stdout, url, logins)
		}
		if hint := phoneHint(srv.Config.PublicURL, addr); hint != "" {
			fmt.Fprintln(stdout, hint)
		}
	})
}

// phoneHint is a line for a newcomer whose QR codes (venue posters, the
// code's own links) point at an address no phone can reach: the loopback
// default. It names this machine's LAN address when one is found.
func phoneHint(publicURL string, listen net.Addr) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "" && host != "localhost" && (ip == nil || !(ip.IsLoopback() || ip.IsUnspecified())) {
		return ""
	}
	port := u.Port()
	if tcp, ok := listen.(*net.TCPAddr); ok && (port == "" || port == "0") {
		port = strconv.Itoa(tcp.Port)
	}
	lan := "<this machine's LAN address>"
	if ip := lanAddress(); ip != "" {
		lan = ip
	}
	return fmt.Sprintf("QR codes point at %s, which a phone cannot reach: to scan them with a phone on this network, "+
		"start with --public-url http://%s:%s --addr :%s", publicURL, lan, port, port)
}

// lanAddress is the first private IPv4 address of this machine, or "".
func lanAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsPrivate() {
			return n.IP.String()
		}
	}
	return ""
}

// smsFlags say how text messages are sent. The Kannel password and the
// report secret are best given in the environment (HEALTHCODE_KANNEL_PASSWORD,
// HEALTHCODE_SMS_DLR_SECRET), where ps does not show them.
// retentionFlags are the retention periods of personal data other than
// check-ins (docs/OPERATIONS.md, "Retention").
func retentionFlags(fs *flag.FlagSet, k *server.RetentionPeriods) {
	d := server.DefaultRetention
	const never = " (negative: for ever)"
	fs.DurationVar(&k.Facts, "retain-facts", d.Facts, "how long facts (temperatures, results, contacts, ...) and the colour history are kept"+never)
	fs.DurationVar(&k.Appeals, "retain-appeals", d.Appeals, "how long appeals are kept after their decision"+never)
	fs.DurationVar(&k.Notifications, "retain-notifications", d.Notifications, "how long colour-change notices and text messages are kept"+never)
	fs.DurationVar(&k.Sessions, "retain-sessions", d.Sessions, "how long sessions and one-time code rows are kept"+never)
	fs.DurationVar(&k.Tests, "retain-tests", d.Tests, "how long test samples, results, retest tasks and alerts are kept"+never)
	fs.DurationVar(&k.Followup, "retain-followup", d.Followup, "how long tracing's follow-up tasks and run reports are kept"+never)
	fs.DurationVar(&k.CareCodes, "retain-care-codes", d.CareCodes, "how long care codes are kept once expired"+never)
	fs.DurationVar(&k.Gateway, "retain-gateway", d.Gateway, "how long pharmacy purchases, clinic visits, hospital handoffs and tickets and ride handles are kept"+never)
	fs.DurationVar(&k.Vaccinations, "retain-vaccinations", d.Vaccinations, "how long vaccination appointments and dose records are kept"+never)
	fs.DurationVar(&k.Arrivals, "retain-arrivals", d.Arrivals, "how long arrivals registered at the border are kept"+never)
	fs.DurationVar(&k.ColdChain, "retain-cold-chain", d.ColdChain, "how long handlers' scans of cold-chain batches and their exposures are kept"+never)
	fs.DurationVar(&k.ClosedLoop, "retain-closed-loop", d.ClosedLoop, "how long isolation stays and readings, transfers of positives and hotline tickets are kept once over"+never)
}

func smsFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.SMSProvider, "sms-provider", "outbox", "who carries text messages: outbox (nothing is sent; operators read them in the console) or kannel")
	fs.StringVar(&cfg.Kannel.URL, "kannel-url", "", "Kannel smsbox's sendsms interface, e.g. http://127.0.0.1:13013/cgi-bin/sendsms")
	fs.StringVar(&cfg.Kannel.User, "kannel-user", "", "username of Kannel's sendsms-user group")
	fs.StringVar(&cfg.Kannel.Password, "kannel-password", "", "its password (better: HEALTHCODE_KANNEL_PASSWORD)")
	fs.StringVar(&cfg.Kannel.From, "kannel-from", "", "sender number of the messages (default: smsbox's global-sender)")
	fs.StringVar(&cfg.SMS.ReportURL, "sms-dlr-url", "", "where Kannel reports delivery (default PUBLIC-URL/api/v1/sms/dlr)")
	fs.Func("sms-dlr-secret", "key of the token in each message's delivery report URL (default: derived from the master key; better: HEALTHCODE_SMS_DLR_SECRET)",
		func(v string) error {
			cfg.SMS.ReportSecret = []byte(v)
			return nil
		})
	cfg.SMS.Lang = sms.LangZH
	fs.Func("sms-lang", "language of texts whose recipient chose none (colour changes): zh-CN or en (default zh-CN)", func(v string) error {
		switch v {
		case sms.LangZH, sms.LangEN:
			cfg.SMS.Lang = v
			return nil
		}
		return fmt.Errorf("want zh-CN or en")
	})
	cfg.SMS.Rate, cfg.SMS.PhoneRate = sms.DefaultRate, sms.DefaultPhoneRate
	fs.Var(&cfg.SMS.Rate, "sms-rate", "messages all nodes together hand to the gateway, N/PERIOD or none")
	fs.Var(&cfg.SMS.PhoneRate, "sms-phone-rate", "messages one phone receives, N/PERIOD or none; more wait their turn")
	fs.DurationVar(&cfg.SMS.Expiry, "sms-expiry", sms.DefaultExpiry, "how long a message the gateway does not take is retried (login codes: as long as they are valid)")
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json")
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	storeFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := server.New(ctx, cfg) // New migrates
	if err != nil {
		return err
	}
	defer srv.Close()
	v, err := srv.DB.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is at schema version %d\n", srv.DB, v)
	return nil
}
