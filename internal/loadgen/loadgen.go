// Package loadgen drives a running healthcode server the way its clients
// do, and measures it against a bare net/http handler that answers a
// constant, with the same client, the same concurrency, in the same run
// (docs/PERFORMANCE.md).
//
// Before measuring it registers residents through the API as phones do
// (one-time code from the outbox, login, registration), creates
// checkpoints (API keys) and venues as an operator. The phases are then:
//
//   - bare: the constant handler, the baseline;
//   - code: residents fetch their dynamic code (GET /me/code);
//   - verify: checkpoints scan codes (POST /verify). As in a surge, every
//     scan is a code the node has not seen before or has seen once (the
//     same resident at a second door): codes are fetched fresh before each
//     wave of scans, unmeasured, and each is scanned once or twice;
//   - scan: organisations scan codes through the gateway (POST
//     /gateway/v1/scan), in waves of fresh codes as verify, with keys of an
//     organisation the generator registers;
//   - checkin: residents scan venue codes (POST /checkins), durable;
//   - mixed (optional): all of them at once in a configured mix.
//
// Each phase reports requests/s, the ratio to the bare handler's,
// p50/p95/p99 latencies, errors, and, where the processes are known, the
// CPU time the server and the client spent per request.
//
// Two runs stand apart from the phases: an appointment opening
// (RunAppointments) and a registration surge (RunRegistration), where
// fresh residents register the whole way to their first code and the rate
// is reported per slice of the growing population.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths the load generator knows, in the order it measures them.
const (
	PathBare    = "bare"
	PathCode    = "code"
	PathVerify  = "verify"
	PathScan    = "scan"
	PathCheckin = "checkin"
	PathMixed   = "mixed"
)

// Targets are the product's minimum ratios to the bare handler
// (docs/PERFORMANCE.md, "The targets") and the verify latency bound.
var Targets = map[string]float64{PathCode: 0.40, PathVerify: 0.50, PathScan: 0.50, PathCheckin: 0.30}

// VerifyP99Target is the design's bound on the 99th percentile of online
// verification.
const VerifyP99Target = 10 * time.Millisecond

// Config says what to drive and how hard.
type Config struct {
	URL     string // the healthcode server, e.g. http://127.0.0.1:8080
	BareURL string // the constant handler, e.g. http://127.0.0.1:9090/

	AdminUser     string // operator that registers checkpoints and venues and reads the outbox (default admin)
	AdminPassword string
	Region        string // region of the checkpoints, venues and residents (default 341881)

	Concurrency int           // requests in flight (default 32)
	Duration    time.Duration // measured window of each phase (default 10 s)
	Warmup      time.Duration // unmeasured lead-in of each phase (default 1 s)
	// Slice is how long each path and the bare handler are measured in
	// turn (default 1 s): alternating keeps both under the same machine
	// load on a machine that is doing other things.
	Slice time.Duration
	// Paths are the phases after the bare one (default code, verify,
	// scan, checkin). "mixed" is added when Mix is set.
	Paths []string
	// Mix weighs the paths of the mixed phase, e.g. verify 70, code 20,
	// checkin 10. Empty: no mixed phase.
	Mix map[string]int

	Residents   int     // registered before measuring (default 1000)
	Checkpoints int     // API keys the scans come from (default 8), checkpoints' for verify, an organisation's for scan
	Venues      int     // venues residents check in at (default 8)
	Rescan      float64 // share of codes scanned at a second door (default 0.5; each code at most twice)
	// IssuerURL, when set, is another region's node (federated with URL's
	// through a hub): residents register and fetch their codes there, and
	// the verify path scans those foreign codes at URL's checkpoints. Only
	// the verify path is measured then. IssuerAdminPassword is its admin's
	// password, IssuerRegion its region. FromCode makes every scan check
	// that the colour came from the code (color_source code: the hub down).
	IssuerURL           string
	IssuerAdminPassword string
	IssuerRegion        string
	FromCode            bool
	// CodeTTL is the server's dynamic-code lifetime (its --code-ttl,
	// default 3 minutes): a verify wave only scans codes fetched less than
	// 70% of it earlier, so none expires in the wave.
	CodeTTL time.Duration

	// ServerPID and BarePID, when known, let the report give each
	// process's CPU time per request (Linux /proc).
	ServerPID, BarePID int
	// Nodes are further servers on the same database as URL (loadgen
	// --nodes): every request, set-up and measured, goes to the next of URL
	// and Nodes in turn, as a round-robin balancer sends them. NodePIDs are
	// their processes; the server's CPU time is the sum over all of them.
	Nodes    []string
	NodePIDs []int
	// Phase, if set, is called as the measurement of a path (or of one
	// verify wave) begins (start) and ends, with about how long it lasts,
	// e.g. to take profiles of the server.
	Phase func(name string, start bool, window time.Duration)
	// Progress receives a line per step (nil: none).
	Progress io.Writer
	// Client is what sends the measured requests: "" or "go" this
	// package's Go client, ClientWrk the wrk binary (WrkPath, default wrk
	// on the PATH), each path in one run between two of the bare handler.
	Client  string
	WrkPath string
	// DBPID, when set with the wrk client, is the database server's
	// process (PostgreSQL's postmaster): the report gives its CPU time per
	// request, backends included, beside the server's.
	DBPID int
}

func (c *Config) defaults() error {
	if c.URL == "" || c.BareURL == "" {
		return errors.New("loadgen: the server's URL and the bare handler's URL are both needed")
	}
	c.URL = strings.TrimRight(c.URL, "/")
	c.IssuerURL = strings.TrimRight(c.IssuerURL, "/")
	if c.IssuerURL != "" && c.Paths == nil {
		c.Paths = []string{PathVerify}
	}
	if c.IssuerURL != "" && (len(c.Mix) > 0 || slices.ContainsFunc(c.Paths, func(p string) bool { return p != PathVerify })) {
		return errors.New("loadgen: with another region's codes only the verify path is measured")
	}
	if c.IssuerURL != "" && c.IssuerRegion == "" {
		return errors.New("loadgen: the issuing region's code is needed with its node's URL")
	}
	for i, n := range c.Nodes {
		c.Nodes[i] = strings.TrimRight(n, "/")
	}
	switch c.Client {
	case "", "go":
	case ClientWrk:
		if len(c.Mix) > 0 || c.FromCode || slices.Contains(c.Paths, PathMixed) {
			return errors.New("loadgen: --client wrk measures the code, verify, scan and checkin paths: not a mix or another region's codes")
		}
	default:
		return fmt.Errorf("loadgen: unknown client %q (go, wrk)", c.Client)
	}
	if c.AdminUser == "" {
		c.AdminUser = "admin"
	}
	if c.Region == "" {
		c.Region = "341881"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 32
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Slice <= 0 {
		c.Slice = time.Second
	}
	if c.Paths == nil {
		c.Paths = []string{PathCode, PathVerify, PathScan, PathCheckin}
	}
	for _, p := range c.Paths {
		if !slices.Contains([]string{PathCode, PathVerify, PathScan, PathCheckin, PathMixed}, p) {
			return fmt.Errorf("loadgen: unknown path %q (code, verify, scan, checkin, mixed)", p)
		}
	}
	for p, w := range c.Mix {
		if !slices.Contains([]string{PathCode, PathVerify, PathCheckin}, p) || w < 0 {
			return fmt.Errorf("loadgen: bad mix entry %s=%d", p, w)
		}
	}
	if len(c.Mix) > 0 && !slices.Contains(c.Paths, PathMixed) {
		c.Paths = append(c.Paths, PathMixed)
	}
	if c.Residents <= 0 {
		c.Residents = 1000
	}
	if c.Checkpoints <= 0 {
		c.Checkpoints = 8
	}
	if c.Venues <= 0 {
		c.Venues = 8
	}
	if c.Rescan < 0 || c.Rescan > 1 {
		return fmt.Errorf("loadgen: rescan must be between 0 and 1")
	}
	if c.CodeTTL <= 0 {
		c.CodeTTL = 3 * time.Minute
	}
	return nil
}

// codeBase is where residents register and fetch codes.
func (c *Config) codeBase() string {
	if c.IssuerURL != "" {
		return c.IssuerURL
	}
	return c.URL
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// Run registers the population, measures the bare handler alone, then
// each path in slices alternating with slices of the bare handler, and
// reports each path against the bare slices taken beside it.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	rep := &Report{Machine: machine(), Settings: settingsOf(&cfg)}
	if cfg.IssuerURL != "" {
		note := fmt.Sprintf("verify scanned codes of region %s, issued by its own node and checked by signature under its key from the hub's bundle", cfg.IssuerRegion)
		if cfg.FromCode {
			note += "; the hub was stopped before measuring, and every scan was checked to answer color_source code"
		}
		rep.Notes = append(rep.Notes, note)
	}
	client := &http.Client{Transport: balance(newTransport(cfg.Concurrency), cfg.URL, cfg.Nodes), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	a := &api{base: cfg.URL + "/api/v1", client: client}

	wantCheckins := slices.Contains(cfg.Paths, PathCheckin) || cfg.Mix[PathCheckin] > 0
	if wantCheckins {
		ok, err := hasCheckins(ctx, a)
		if err != nil {
			return nil, err
		}
		if !ok {
			rep.Notes = append(rep.Notes, "the server has no POST /api/v1/checkins: the checkin path was not measured")
			cfg.Paths = slices.DeleteFunc(cfg.Paths, func(p string) bool { return p == PathCheckin })
			delete(cfg.Mix, PathCheckin)
			wantCheckins = false
		}
	}
	wantScans := slices.Contains(cfg.Paths, PathScan)
	if wantScans {
		ok, err := hasRoute(ctx, a, cfg.URL+"/gateway/v1/scan")
		if err != nil {
			return nil, err
		}
		if !ok {
			rep.Notes = append(rep.Notes, "the server has no POST /gateway/v1/scan: the scan path was not measured")
			cfg.Paths = slices.DeleteFunc(cfg.Paths, func(p string) bool { return p == PathScan })
			wantScans = false
		}
	}
	began := time.Now()
	cfg.progress("setting up: %d residents (one-time code, login, registration), %d checkpoints, %d venues", cfg.Residents, cfg.Checkpoints, cfg.Venues)
	pop, err := setup(ctx, a, &cfg, wantCheckins, wantScans)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(began).Seconds()
	cfg.progress("set up in %.1fs", rep.SetupSeconds)

	g := &gen{cfg: &cfg, client: client, api: a, pop: pop, allBare: &tally{}, allBareUse: &cpuUse{}}
	if cfg.Client == ClientWrk {
		// The report holds what was measured even when a run saw errors.
		if err := g.runWrk(ctx, rep); err != nil && len(rep.Results) == 0 {
			return nil, err
		} else {
			return rep, err
		}
	}
	bareReq := &request{path: PathBare, method: "POST", url: cfg.BareURL, token: "hcr_" + strings.Repeat("x", 43), body: bareBody, want: 200}
	g.bareSrc = funcSource(func() *request { return bareReq })
	// The bare handler first, alone: the baseline, and the first estimate
	// of how many codes a verify wave can use.
	t, use := g.slice(ctx, g.bareSrc, nil, cfg.Warmup, cfg.Slice, cfg.BarePID)
	g.allBare.add(t)
	g.allBareUse.add(use)
	cfg.progress("bare     %8.0f req/s", float64(t.requests)/t.seconds)

	type measured struct {
		path, bare       *tally
		pathUse, bareUse *cpuUse
	}
	var done []string
	got := map[string]measured{}
	for _, path := range cfg.Paths {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m := measured{path: &tally{}, bare: &tally{}, pathUse: &cpuUse{}, bareUse: &cpuUse{}}
		if err := g.measurePath(ctx, path, m.path, m.bare, m.pathUse, m.bareUse); err != nil {
			return nil, err
		}
		got[path] = m
		done = append(done, path)
		cfg.progress("%-8s %8.0f req/s, bare beside it %8.0f req/s: %5.1f%%  p99 %6.2f ms  errors %d", path,
			m.path.rate(), m.bare.rate(), 100*m.path.rate()/m.bare.rate(), ms(percentileOf(m.path.latencies, 0.99)), m.path.errors)
	}
	rep.Load = loadAvg()
	rep.Results = append(rep.Results, result(PathBare, g.allBare, g.allBareUse, g.allBare.rate()))
	for _, path := range done {
		m := got[path]
		r := result(path, m.path, m.pathUse, m.bare.rate())
		r.BarePerSecond = math.Round(m.bare.rate())
		rep.Results = append(rep.Results, r)
		if path == PathMixed {
			names := make([]string, 0, len(m.path.byPath))
			for n := range m.path.byPath {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				r := result(n, m.path.byPath[n], nil, m.bare.rate())
				r.Path = PathMixed + "/" + n
				r.Target, r.Meets = 0, nil
				rep.Results = append(rep.Results, r)
			}
		}
		if m.path.requests == 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: no request completed in the measured slices", path))
		}
		if m.path.exhausted {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: the clients ran out of codes before a slice ended; its rate is over the time they had work", path))
		}
	}
	if cfg.IssuerURL != "" {
		if batches, sigs, ok := signatureBatches(ctx, client, cfg.URL); ok && batches > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("the server checked %.0f Ed25519 signatures in %.0f batches (%.1f a batch), set-up included", sigs, batches, sigs/batches))
		}
	}
	return rep, nil
}

// signatureBatches reads the server's counts of Ed25519 signatures checked
// together from /metrics; ok is false when it has none.
func signatureBatches(ctx context.Context, client *http.Client, base string) (batches, sigs float64, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, 0, false
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, false
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil || res.StatusCode != http.StatusOK {
		return 0, 0, false
	}
	var found int
	for _, line := range strings.Split(string(body), "\n") {
		name, value, cut := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if !cut || err != nil {
			continue
		}
		switch name {
		case "healthcode_codes_signature_batches_total":
			batches, found = v, found+1
		case "healthcode_codes_batched_signatures_total":
			sigs, found = v, found+1
		}
	}
	return batches, sigs, found == 2
}

func (t *tally) rate() float64 {
	if t.seconds <= 0 {
		return 0
	}
	return float64(t.requests) / t.seconds
}

func percentileOf(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	sortDurations(s)
	return percentile(s, p)
}

// hasCheckins asks whether the server routes POST /checkins: an unknown
// route is a 404 route_not_found, a known one refuses an empty request in
// some other way.
func hasCheckins(ctx context.Context, a *api) (bool, error) {
	err := a.call(ctx, "POST", "/checkins", "", map[string]any{}, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.errorCode() != "route_not_found", nil
	}
	if err != nil {
		return false, fmt.Errorf("loadgen: reach the server: %w", err)
	}
	return true, nil
}

// hasRoute asks whether the server routes a POST to url (a full URL): an
// unknown route is a 404 route_not_found, a known one refuses an empty,
// unauthenticated request in some other way.
func hasRoute(ctx context.Context, a *api, url string) (bool, error) {
	err := (&api{base: "", client: a.client}).call(ctx, "POST", url, "", map[string]any{}, nil)
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.errorCode() != "route_not_found", nil
	}
	if err != nil {
		return false, fmt.Errorf("loadgen: reach the server: %w", err)
	}
	return true, nil
}

// gen builds and measures the requests of each path.
type gen struct {
	cfg     *Config
	client  *http.Client
	api     *api
	pop     *population
	bareSrc source

	allBare    *tally // every bare slice of the run
	allBareUse *cpuUse
	issueRate  float64 // codes issued per second in the last pre-fetch
}

// bareBody is what the bare handler is sent: the size and shape of a scan,
// so the client does the same work for it as for the API.
var bareBody = []byte(`{"code":"JKM1:` + strings.Repeat("A", 272) + `\r\n"}`)

// slice measures one slice of one source, and the CPU the answering
// process (pid) and this one used meanwhile.
func (g *gen) slice(ctx context.Context, src source, label func(*request) string, warmup, window time.Duration, pids ...int) (*tally, *cpuUse) {
	before := readCPU(pids...)
	start := time.Now()
	t := measure(ctx, g.client, g.cfg.Concurrency, warmup, window, src, label)
	return t, readCPU(pids...).since(before, time.Since(start), t)
}

// alternate measures src for total, in slices alternating with slices of
// the bare handler (bare first in odd pairs, last in even ones, so a
// trend in the machine's load weighs on both alike). The first pair warms
// up. It stops early if src runs dry.
func (g *gen) alternate(ctx context.Context, name string, src source, label func(*request) string, total time.Duration,
	path, bare *tally, pathUse, bareUse *cpuUse) {
	cfg := g.cfg
	if cfg.Phase != nil {
		cfg.Phase(name, true, 2*total)
		defer cfg.Phase(name, false, 2*total)
	}
	for i, done := 0, time.Duration(0); done < total && ctx.Err() == nil; i++ {
		s := min(cfg.Slice, total-done)
		warm := time.Duration(0)
		if i == 0 {
			warm = cfg.Warmup
		}
		var p *tally
		var pu *cpuUse
		measureBare := func() {
			b, bu := g.slice(ctx, g.bareSrc, nil, warm, s, cfg.BarePID)
			bare.add(b)
			bareUse.add(bu)
			g.allBare.add(b)
			g.allBareUse.add(bu)
		}
		if i%2 == 0 {
			measureBare()
		}
		p, pu = g.slice(ctx, src, label, warm, s, append([]int{cfg.ServerPID}, cfg.NodePIDs...)...)
		if i%2 == 1 {
			measureBare()
		}
		path.add(p)
		pathUse.add(pu)
		done += s
		if p.exhausted {
			return
		}
	}
}

// measurePath measures one path (for verify and mixed, in waves of fresh
// codes) into path, beside the bare slices in bare.
func (g *gen) measurePath(ctx context.Context, name string, path, bare *tally, pathUse, bareUse *cpuUse) error {
	var rr atomic.Uint64
	switch name {
	case PathCode, PathCheckin:
		var reqs []*request
		if name == PathCode {
			reqs = g.codeRequests(nil)
		} else {
			reqs = g.checkinRequests()
		}
		src := funcSource(func() *request { return reqs[(rr.Add(1)-1)%uint64(len(reqs))] })
		g.alternate(ctx, name, src, nil, g.cfg.Duration, path, bare, pathUse, bareUse)
		return nil
	case PathVerify, PathScan:
		return g.verifyWaves(ctx, name, nil, path, bare, pathUse, bareUse)
	case PathMixed:
		return g.verifyWaves(ctx, name, g.cfg.Mix, path, bare, pathUse, bareUse)
	}
	return fmt.Errorf("loadgen: unknown path %q", name)
}

func (g *gen) codeRequests(keep func([]byte)) []*request {
	reqs := make([]*request, len(g.pop.residents))
	for i, tok := range g.pop.residents {
		reqs[i] = &request{path: PathCode, method: "GET", url: g.cfg.codeBase() + "/api/v1/me/code", token: tok, want: 200, check: hasCode, keep: keep}
	}
	return reqs
}

func (g *gen) checkinRequests() []*request {
	var reqs []*request
	for i, tok := range g.pop.residents {
		v := g.pop.venues[i%len(g.pop.venues)]
		reqs = append(reqs, &request{path: PathCheckin, method: "POST", url: g.cfg.URL + "/api/v1/checkins", token: tok,
			body: []byte(`{"venue_token":"` + v + `"}`), want: 201})
	}
	return reqs
}

var (
	errNoCode  = errors.New(`answer without a "code"`)
	errInvalid = errors.New(`a fresh code was not found valid`)
	// errNotFromCode: a foreign code with the hub down was refused, or its
	// colour did not come from the code (the hub still answered).
	errNotFromCode = errors.New(`a fresh foreign code was not valid with color_source code`)
)

func hasCode(b []byte) error {
	if codeOf(b) == "" {
		return errNoCode
	}
	return nil
}

// codeOf picks the code out of GET /me/code's answer without a JSON
// decoder: the code is base45 with a prefix, never escaped.
func codeOf(b []byte) string {
	const key = `"code":"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

var validTrue = []byte(`"valid":true`)

var subjectKey = []byte(`"subject":"hcs_`)

// hasSubject checks a gateway scan's answer: a subject reference, which
// only a valid code gets.
func hasSubject(b []byte) error {
	if !bytes.Contains(b, subjectKey) {
		return errInvalid
	}
	return nil
}

var fromCode = []byte(`"color_source":"code"`)

// isValidFromCode checks a foreign code's answer with the hub down: valid,
// its colour the one inside the code.
func isValidFromCode(b []byte) error {
	if !bytes.Contains(b, validTrue) || !bytes.Contains(b, fromCode) {
		return errNotFromCode
	}
	return nil
}

func isValid(b []byte) error {
	if !bytes.Contains(b, validTrue) {
		return errInvalid
	}
	return nil
}

// verifyWaves measures scans of fresh codes, in waves: before each wave it
// fetches (unmeasured) as many new codes as the wave can scan, each code
// once or, for the Rescan share, twice at another checkpoint. A wave never
// outlives the codes it scans. With mix set, the waves serve the mixed
// phase, the other paths interleaved by weight.
func (g *gen) verifyWaves(ctx context.Context, name string, mix map[string]int, path, bare *tally, pathUse, bareUse *cpuUse) error {
	cfg := g.cfg
	uses := 1 + cfg.Rescan
	verifyShare := 1.0
	var pattern []string // the mixed phase's request kinds, by weight
	if mix != nil {
		sum := 0
		for _, w := range mix {
			sum += w
		}
		if sum == 0 {
			return errors.New("loadgen: the mix has no weight")
		}
		for _, p := range []string{PathVerify, PathCode, PathCheckin} {
			for range mix[p] {
				pattern = append(pattern, p)
			}
		}
		verifyShare = float64(mix[PathVerify]) / float64(sum)
		pattern = spread(pattern)
	}
	// Until a scan of this server is measured, assume the bare handler's
	// rate, an upper bound in practice, so that no wave runs out of codes.
	estimate := g.allBare.rate()
	remaining := cfg.Duration
	limit := time.Duration(0.7 * float64(cfg.CodeTTL))
	for wave := 1; remaining > 0 && ctx.Err() == nil; wave++ {
		// A wave takes the pre-fetch plus twice its scanning time (bare
		// slices alternate with it); all of it must fit in the limit.
		w := min(remaining, (limit-2*cfg.Warmup)/4)
		if g.issueRate > 0 {
			fetchPerSecond := estimate * verifyShare * 1.25 / uses / g.issueRate
			w = min(remaining, time.Duration(float64(limit-2*cfg.Warmup)/(2+fetchPerSecond)))
		}
		w = max(w, min(remaining, time.Second))
		need := int(math.Ceil(estimate*verifyShare*(w+cfg.Warmup).Seconds()*1.25/uses)) + 2*cfg.Concurrency
		cfg.progress("%s wave %d: fetching %d fresh codes for %s of scans", name, wave, need, w.Round(time.Millisecond))
		fetchStart := time.Now()
		codes, err := g.fetchCodes(ctx, need)
		if err != nil {
			return err
		}
		fetched := time.Since(fetchStart)
		g.issueRate = float64(len(codes)) / max(fetched.Seconds(), 1e-3)
		if fetched+2*(w+cfg.Warmup) > limit {
			w = (limit - fetched - 2*cfg.Warmup) / 2
			if w < time.Second/2 {
				return fmt.Errorf("loadgen: fetching %d codes took %s, too long for their lifetime of %s; start the server with a longer --code-ttl", len(codes), fetched.Round(time.Millisecond), cfg.CodeTTL)
			}
		}
		scans := g.scanList(codes, PathVerify)
		if name == PathScan {
			scans = g.scanList(codes, PathScan)
		}
		var next atomic.Int64
		scan := func() *request {
			i := next.Add(1) - 1
			if i >= int64(len(scans)) {
				return nil
			}
			return scans[i]
		}
		var src source = funcSource(scan)
		var label func(*request) string
		if mix != nil {
			codeReqs, checkinReqs := g.codeRequests(nil), []*request(nil)
			if mix[PathCheckin] > 0 {
				checkinReqs = g.checkinRequests()
			}
			var k, c, ci atomic.Uint64
			src = funcSource(func() *request {
				switch pattern[(k.Add(1)-1)%uint64(len(pattern))] {
				case PathCode:
					return codeReqs[(c.Add(1)-1)%uint64(len(codeReqs))]
				case PathCheckin:
					return checkinReqs[(ci.Add(1)-1)%uint64(len(checkinReqs))]
				}
				return scan()
			})
			label = func(r *request) string { return r.path }
		}
		p := &tally{}
		g.alternate(ctx, name, src, label, w, p, bare, pathUse, bareUse)
		path.add(p)
		remaining -= w
		if r := p.rate(); r > 0 {
			estimate = r
		}
		if p.exhausted {
			// Ran dry: the estimate was too low; the next wave fetches
			// more from the rate just measured.
			estimate *= 1.5
		}
	}
	return nil
}

// fetchCodes gets n fresh dynamic codes from the residents, as their
// phones would, Concurrency at a time.
func (g *gen) fetchCodes(ctx context.Context, n int) ([]string, error) {
	out := make([]string, 0, n)
	var mu sync.Mutex
	keep := func(b []byte) {
		c := codeOf(b)
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
	}
	reqs := g.codeRequests(keep)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range g.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for ctx.Err() == nil && firstErr.Load() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := do(ctx, g.client, reqs[i%int64(len(reqs))], &buf); err != nil {
					firstErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, fmt.Errorf("loadgen: fetch codes: %w", err)
	}
	return out, ctx.Err()
}

// scanList orders the scans of a wave: every code once, and the Rescan
// share of them a second time, a little later, with the next key (the
// same resident at a second door). path is verify (checkpoints' keys,
// POST /verify) or scan (an organisation's keys, POST /gateway/v1/scan).
func (g *gen) scanList(codes []string, path string) []*request {
	keys, url, check := g.pop.keys, g.cfg.URL+"/api/v1/verify", isValid
	if g.cfg.FromCode {
		check = isValidFromCode
	}
	if path == PathScan {
		keys, url, check = g.pop.orgKeys, g.cfg.URL+"/gateway/v1/scan", hasSubject
	}
	body := func(c string) []byte { return []byte(`{"code":"` + c + `\r\n"}`) }
	lag := 2 * g.cfg.Concurrency
	out := make([]*request, 0, int(float64(len(codes))*(1+g.cfg.Rescan))+1)
	type later struct {
		at int
		r  *request
	}
	var queue []later
	acc := 0.0
	for i, c := range codes {
		b := body(c)
		out = append(out, &request{path: path, method: "POST", url: url, token: keys[i%len(keys)], body: b, want: 200, check: check})
		acc += g.cfg.Rescan
		if acc >= 1 {
			acc--
			queue = append(queue, later{i + lag, &request{path: path, method: "POST", url: url, token: keys[(i+1)%len(keys)], body: b, want: 200, check: check}})
		}
		for len(queue) > 0 && queue[0].at <= i {
			out = append(out, queue[0].r)
			queue = queue[1:]
		}
	}
	for _, q := range queue {
		out = append(out, q.r)
	}
	return out
}

// spread interleaves a weighted list so that each kind is evenly spaced
// (verify, verify, code, verify ... instead of blocks).
func spread(p []string) []string {
	count := map[string]int{}
	for _, x := range p {
		count[x]++
	}
	n := len(p)
	type slot struct {
		pos  float64
		kind string
	}
	var slots []slot
	for k, c := range count {
		for i := range c {
			slots = append(slots, slot{(float64(i) + 0.5) / float64(c) * float64(n), k})
		}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		if a.pos != b.pos {
			if a.pos < b.pos {
				return -1
			}
			return 1
		}
		return strings.Compare(a.kind, b.kind)
	})
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.kind
	}
	return out
}
