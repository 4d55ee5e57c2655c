package loadgen

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ClientWrk is Config.Client for measuring with wrk, a C client: the Go
// client spends about as much CPU per request as the bare handler does,
// which on a small machine pulls every ratio toward 1 (docs/PERFORMANCE.md,
// "The wrk measure").
const ClientWrk = "wrk"

// ErrWrk is a wrk run that saw errors (a socket error, a 4xx or 5xx
// answer, an answer without what a good one holds): the run fails.
var ErrWrk = errors.New("loadgen: wrk saw errors")

//go:embed wrk.lua
var wrkScript string

// wrkThreads is wrk's -t: one per core of the two-core machines the
// figures come from; more only adds switching.
const wrkThreads = 2

// wrkRun is what one run of wrk measured.
type wrkRun struct {
	requests                  int64
	seconds                   float64
	p50, p95, p99, max        time.Duration
	connect, read, write      int64
	status, timeout, bad, rep int64
	sample                    string
	server, client, wall      float64 // CPU seconds of the answering processes and of wrk, and the run's wall time
	cpuKnown                  bool
	db                        float64 // CPU seconds of the database server, or -1
}

func (w *wrkRun) errors() int64 {
	return w.connect + w.read + w.write + w.status + w.timeout + w.bad
}

func (w *wrkRun) rate() float64 {
	if w.seconds <= 0 {
		return 0
	}
	return float64(w.requests) / w.seconds
}

// wrkRunner runs wrk over prepared requests.
type wrkRunner struct {
	bin  string // the wrk binary
	dir  string // request files and scripts
	conc int
	n    int // files written, to name them apart
}

// run writes reqs (all addressed to base) to a file and the script beside
// it, and runs wrk against base for d (whole seconds, at least one). With
// once, a request sent twice is counted as a repeat; needle, when set, is
// what every 2xx answer's body must hold. pids are the processes whose CPU
// time the run is charged with.
func (r *wrkRunner) run(ctx context.Context, base string, reqs []*request, needle string, once bool, d time.Duration, pids ...int) (*wrkRun, error) {
	return r.runDB(ctx, []string{base}, reqs, needle, once, d, 0, pids...)
}

// wrkShape is wrk's -t and -c for conc connections spread over nodes: with
// one node wrkThreads threads; with several, a thread per node (a thread's
// connections all go to one address) and the connections rounded up to a
// multiple of the threads, since wrk gives each thread conc/threads.
func wrkShape(conc, nodes int) (threads, connections int) {
	if nodes <= 1 {
		return min(wrkThreads, conc), conc
	}
	threads = nodes
	return threads, (max(conc, threads) + threads - 1) / threads * threads
}

// runDB is run against one or several nodes (bases: wrk's connections
// spread over them, thread by thread), charging the database server dbPID
// (when not 0) too.
func (r *wrkRunner) runDB(ctx context.Context, bases []string, reqs []*request, needle string, once bool, d time.Duration, dbPID int, pids ...int) (*wrkRun, error) {
	r.n++
	reqFile := filepath.Join(r.dir, fmt.Sprintf("run%d.reqs", r.n))
	script := filepath.Join(r.dir, fmt.Sprintf("run%d.lua", r.n))
	threads, conns := wrkShape(r.conc, len(bases))
	for len(reqs) < threads {
		reqs = append(reqs, reqs...) // each thread takes every threads-th line
	}
	var b bytes.Buffer
	for _, q := range reqs {
		tok := q.token
		if tok == "" {
			tok = "-"
		}
		b.WriteString(q.method + " " + pathOf(q.url) + " " + tok)
		if q.body != nil {
			b.WriteByte(' ')
			b.Write(q.body)
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(reqFile, b.Bytes(), 0o600); err != nil {
		return nil, err
	}
	prelude := "local needle = nil\n"
	if needle != "" {
		prelude = "local needle = " + strconv.Quote(needle) + "\n"
	}
	prelude += "local once = " + strconv.FormatBool(once) + "\n"
	nodes := "nil"
	if len(bases) > 1 {
		hosts := make([]string, len(bases))
		for i, b := range bases {
			u, err := url.Parse(b)
			if err != nil {
				return nil, fmt.Errorf("loadgen: node %q: %w", b, err)
			}
			hosts[i] = strconv.Quote(u.Host)
		}
		nodes = "{" + strings.Join(hosts, ", ") + "}"
	}
	prelude += "local nodes = " + nodes + "\n"
	if err := os.WriteFile(script, []byte(prelude+wrkScript), 0o600); err != nil {
		return nil, err
	}
	secs := max(1, int(math.Ceil(d.Seconds())))
	cmd := exec.CommandContext(ctx, r.bin, "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", secs), "--latency", "--timeout", "30s", "-s", script, strings.TrimRight(bases[0], "/")+"/",
		"--", reqFile, strconv.Itoa(threads))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	before, db0 := readCPU(pids...), -1.0
	if dbPID > 0 {
		db0 = treeCPU(dbPID)
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	after, db1 := readCPU(pids...), -1.0
	if dbPID > 0 {
		db1 = treeCPU(dbPID)
	}
	os.Remove(reqFile)
	if err != nil {
		return nil, fmt.Errorf("loadgen: wrk: %w: %s%s", err, errOut.Bytes(), out.Bytes())
	}
	w, err := parseWrk(out.Bytes())
	if err != nil {
		return nil, err
	}
	w.wall, w.db = wall.Seconds(), -1
	if db0 >= 0 && db1 >= 0 {
		w.db = db1 - db0
	}
	if st := cmd.ProcessState; st != nil {
		w.client = (st.UserTime() + st.SystemTime()).Seconds()
	}
	if before.server >= 0 && after.server >= 0 {
		w.server, w.cpuKnown = after.server-before.server, true
	}
	return w, nil
}

// parseWrk reads the lines the script's done() writes ("hcwrk k=v ...").
func parseWrk(out []byte) (*wrkRun, error) {
	w := &wrkRun{}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "hcwrk ")
		if !ok {
			continue
		}
		if s, ok := strings.CutPrefix(rest, "sample="); ok {
			w.sample = strings.TrimSpace(s)
			continue
		}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("loadgen: wrk's report: %q", kv)
			}
			us := time.Duration(n) * time.Microsecond
			seen++
			switch k {
			case "requests":
				w.requests = n
			case "duration_us":
				w.seconds = us.Seconds()
			case "connect":
				w.connect = n
			case "read":
				w.read = n
			case "write":
				w.write = n
			case "status":
				w.status = n
			case "timeout":
				w.timeout = n
			case "bad":
				w.bad = n
			case "repeats":
				w.rep = n
			case "p50_us":
				w.p50 = us
			case "p95_us":
				w.p95 = us
			case "p99_us":
				w.p99 = us
			case "max_us":
				w.max = us
			default:
				seen--
			}
		}
	}
	if seen < 13 {
		return nil, fmt.Errorf("loadgen: wrk's output lacks the script's report:\n%s", out)
	}
	return w, nil
}

// wrkResult is a path's row from its run, beside the bare rate.
func wrkResult(path string, w *wrkRun, bareRate float64) Result {
	r := Result{Path: path, Requests: w.requests, Errors: w.errors(), Seconds: math.Round(w.seconds*1000) / 1000,
		PerSecond: math.Round(w.rate()), P50: ms(w.p50), P95: ms(w.p95), P99: ms(w.p99), Max: ms(w.max)}
	if bareRate > 0 && path != PathBare {
		r.BarePerSecond = math.Round(bareRate)
		r.Ratio = math.Round(1000*r.PerSecond/bareRate) / 1000
	}
	if target, ok := Targets[path]; ok {
		r.Target = target
		meets := r.Ratio >= target && r.Errors == 0
		if path == PathVerify || path == PathScan {
			meets = meets && w.p99 < VerifyP99Target
		}
		r.Meets = &meets
	}
	if w.requests > 0 {
		if w.cpuKnown {
			r.ServerCPUMicros = math.Round(1e6*w.server/float64(w.requests)*10) / 10
		}
		r.ClientCPUMicros = math.Round(1e6*w.client/float64(w.requests)*10) / 10
		if w.db > 0 {
			r.DBCPUMicros = math.Round(1e6*w.db/float64(w.requests)*10) / 10
		}
	}
	if w.wall > 0 {
		n := float64(runtime.NumCPU())
		if w.cpuKnown {
			r.ServerCPUShare = math.Round(1000*w.server/w.wall/n) / 1000
		}
		r.ClientCPUShare = math.Round(1000*w.client/w.wall/n) / 1000
	}
	if e := w.errors(); e > 0 {
		r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d; 4xx/5xx answers %d; answers without what a good one holds %d",
			w.connect, w.read, w.write, w.timeout, w.status, w.bad))
		if w.sample != "" {
			r.ErrorSamples = append(r.ErrorSamples, "such an answer: "+w.sample)
		}
	}
	return r
}

// runWrk measures with wrk: the bare handler alone, then for each path a
// run of the bare handler, one of the path and one of the bare handler
// again (A B A), each cfg.Duration, the path's ratio against the mean of
// the two bare runs beside it. Verify and scan send each fresh code once,
// or twice for the Rescan share, as the Go client does.
func (g *gen) runWrk(ctx context.Context, rep *Report) error {
	cfg := g.cfg
	bin := cfg.WrkPath
	if bin == "" {
		bin = "wrk"
	}
	bin, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("loadgen: --client wrk needs wrk (Debian package wrk): %w", err)
	}
	dir, err := os.MkdirTemp("", "healthcode-wrk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := &wrkRunner{bin: bin, dir: dir, conc: cfg.Concurrency}
	bareReqs := []*request{{path: PathBare, method: "POST", url: cfg.BareURL, token: "hcr_" + strings.Repeat("x", 43), body: bareBody}}
	bare := func() (*wrkRun, error) {
		return r.run(ctx, cfg.BareURL, bareReqs, "", false, cfg.Duration, cfg.BarePID)
	}
	server := append([]int{cfg.ServerPID}, cfg.NodePIDs...)
	nodes := append([]string{cfg.URL}, cfg.Nodes...)
	if cfg.Warmup > 0 {
		if _, err := r.run(ctx, cfg.BareURL, bareReqs, "", false, cfg.Warmup, cfg.BarePID); err != nil {
			return err
		}
	}
	first, err := bare()
	if err != nil {
		return err
	}
	cfg.progress("bare     %8.0f req/s (wrk)", first.rate())
	allBare := []*wrkRun{first}
	var failed, bodyChecked []string
	rows := []Result{}
	for _, path := range cfg.Paths {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var reqs []*request
		var check *answerCheck
		once := false
		switch path {
		case PathCode:
			reqs, check = g.codeRequests(nil), &codeCheck
		case PathCheckin:
			reqs = g.checkinRequests()
		case PathVerify, PathScan:
			// Enough fresh codes for the path at three quarters of the
			// bare handler's rate, which no path of the server reaches;
			// should it, the codes are sent again and the report says so.
			need := int(math.Ceil(0.75*first.rate()*(cfg.Duration+cfg.Warmup).Seconds()/(1+cfg.Rescan))) + 2*cfg.Concurrency
			cfg.progress("%s: fetching %d fresh codes", path, need)
			codes, err := g.fetchCodes(ctx, need)
			if err != nil {
				return err
			}
			reqs, once, check = g.scanList(codes, path), true, &verifyCheck
			if path == PathScan {
				check = &scanCheck
			}
		default:
			return fmt.Errorf("loadgen: --client wrk measures code, verify, scan and checkin, not %s", path)
		}
		needle := ""
		if check != nil {
			if _, ok := check.counts(ctx, g.client, nodes); !ok {
				needle, check = check.needle, nil
				bodyChecked = append(bodyChecked, path)
			}
		}
		if cfg.Warmup > 0 && !once {
			if _, err := r.runDB(ctx, nodes, reqs, needle, false, cfg.Warmup, 0, server...); err != nil {
				return err
			}
		}
		a1, err := bare()
		if err != nil {
			return err
		}
		if cfg.Phase != nil {
			// The profile starts before wrk has read its requests: the
			// server idles meanwhile, so the profile holds the path's work.
			cfg.Phase(path, true, cfg.Duration)
		}
		var counted answerCounts
		if check != nil {
			counted, _ = check.counts(ctx, g.client, nodes)
		}
		b, err := r.runDB(ctx, nodes, reqs, needle, once, cfg.Duration, cfg.DBPID, server...)
		if cfg.Phase != nil {
			cfg.Phase(path, false, cfg.Duration)
		}
		if err != nil {
			return err
		}
		if check != nil {
			after, ok := check.counts(ctx, g.client, nodes)
			if !ok {
				return fmt.Errorf("loadgen: %s: the server's %s could not be read after the run", path, check.metric)
			}
			check.judge(b, counted, after)
		}
		a2, err := bare()
		if err != nil {
			return err
		}
		allBare = append(allBare, a1, a2)
		beside := (a1.rate() + a2.rate()) / 2
		row := wrkResult(path, b, beside)
		rows = append(rows, row)
		if b.rep > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: wrk sent %d requests a second time (the fresh codes ran out)", path, b.rep))
		}
		if row.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s: %d", path, row.Errors))
		}
		cfg.progress("%-8s %8.0f req/s, bare beside it %8.0f req/s: %5.1f%%  p99 %6.2f ms  errors %d", path,
			b.rate(), beside, 100*b.rate()/beside, ms(b.p99), row.Errors)
	}
	// The bare row: its rate over all its runs, latencies of the first,
	// the one it ran alone.
	total := wrkRun{p50: first.p50, p95: first.p95, p99: first.p99, max: first.max, cpuKnown: first.cpuKnown}
	for _, w := range allBare {
		total.requests += w.requests
		total.seconds += w.seconds
		total.server += w.server
		total.client += w.client
		total.wall += w.wall
		total.connect += w.connect
		total.read += w.read
		total.write += w.write
		total.status += w.status
		total.timeout += w.timeout
	}
	rep.Load = loadAvg()
	rep.Results = append([]Result{wrkResult(PathBare, &total, 0)}, rows...)
	rep.Notes = append(rep.Notes, fmt.Sprintf("client wrk (%s -t%d -c%d): per path one run of the bare handler, one of the path, one of the bare handler, %s each; the bare row is all its runs, its latencies those of the first; client µs/req includes wrk reading the request file",
		bin, min(wrkThreads, cfg.Concurrency), cfg.Concurrency, time.Duration(max(1, int(math.Ceil(cfg.Duration.Seconds()))))*time.Second))
	if len(bodyChecked) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the server's counters could not be read: wrk's script checked every answer's body for %s (dearer for wrk)", strings.Join(bodyChecked, ", ")))
	}
	if len(cfg.Nodes) > 0 {
		t, c := wrkShape(cfg.Concurrency, 1+len(cfg.Nodes))
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d nodes: the paths ran with wrk -t%d -c%d, a thread's connections to one node, each node's share of the requests alike", 1+len(cfg.Nodes), t, c))
	}
	if bareErrs := total.errors(); bareErrs > 0 {
		failed = append(failed, fmt.Sprintf("bare: %d", bareErrs))
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrWrk, strings.Join(failed, ", "))
	}
	return nil
}
