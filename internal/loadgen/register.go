package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// PathRegister is the registration surge: fresh residents register as
// fast as the server lets them, each the whole way a phone goes, and the
// rate is reported per slice of the growing population.
const PathRegister = "register"

// The steps of one registration, in the order a phone takes them.
const (
	stepOTP      = iota // POST /auth/otp
	stepOutbox          // GET /admin/outbox?to=PHONE, the stand-in for the SMS
	stepLogin           // POST /auth/login
	stepRegister        // POST /me/register
	stepCode            // GET /me/code, the first code
	nSteps
)

var stepNames = [nSteps]string{"otp", "outbox", "login", "register", "code"}

// stepTimes is how long each step of one registration took.
type stepTimes [nSteps]time.Duration

// RegistrationFall is how far under the first slice's rate the last
// slice's may lie before the run says the rate fell: on a shared two-core
// machine two slices of the same work differ by several percent.
const RegistrationFall = 0.10

// RegistrationReport is the outcome of a registration surge.
type RegistrationReport struct {
	Machine     Machine   `json:"machine"`
	Load        []float64 `json:"load_after"`
	Residents   int       `json:"residents"` // registrations attempted
	Registered  int64     `json:"registered"`
	Errors      int64     `json:"errors"`
	Retries     int64     `json:"retries"` // phones or identity numbers an earlier run on the same store had taken
	Concurrency int       `json:"concurrency"`
	Nodes       int       `json:"nodes"`
	Slice       int       `json:"slice"` // registrations per slice
	Seconds     float64   `json:"seconds"`
	PerSecond   float64   `json:"registrations_per_second"`
	P50         float64   `json:"p50_ms"` // of the whole flow, one-time code to first code
	P99         float64   `json:"p99_ms"`
	Max         float64   `json:"max_ms"`
	// CPU time per registration of the server (all its nodes) and of the
	// load generator, in microseconds; 0 when unknown.
	ServerCPUMicros float64             `json:"server_cpu_us_per_registration,omitempty"`
	ClientCPUMicros float64             `json:"client_cpu_us_per_registration,omitempty"`
	Slices          []RegistrationSlice `json:"slices"`
	// RateRatio is the last slice's rate over the first's, CPURatio its
	// server CPU per registration over the first's. Fell says the rate fell
	// by more than RegistrationFall; Dearer that the server's CPU per
	// registration grew by more than that, which tells a server that costs
	// more as the population grows from one that got less of a shared
	// machine.
	RateRatio float64  `json:"rate_last_over_first"`
	CPURatio  float64  `json:"server_cpu_last_over_first,omitempty"`
	Fell      bool     `json:"rate_fell"`
	Dearer    bool     `json:"server_cpu_grew"`
	Samples   []string `json:"error_samples,omitempty"`
}

// RegistrationSlice is one slice of the run: the registrations that ended
// after the previous slice's and up to its own last.
type RegistrationSlice struct {
	Population int64   `json:"population"` // residents this run had registered at the slice's end
	Registered int64   `json:"registered"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"registrations_per_second"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	// Steps are each step's p50 and p99, by name (otp, outbox, login,
	// register, code).
	Steps           map[string]StepFigures `json:"steps"`
	ServerCPUMicros float64                `json:"server_cpu_us_per_registration,omitempty"`
	ClientCPUMicros float64                `json:"client_cpu_us_per_registration,omitempty"`
	ServerCPUShare  float64                `json:"server_cpu_share,omitempty"`
	Load1           float64                `json:"load_1m"` // the 1-minute load average at the slice's end
}

// StepFigures are one step's latencies in a slice.
type StepFigures struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// ErrRegistrationFailed is returned by callers when a registration of the
// surge failed.
var ErrRegistrationFailed = errors.New("loadgen: registrations failed in the surge")

// sliceTally collects what the clients measured in one slice.
type sliceTally struct {
	mu         sync.Mutex
	registered int64
	errors     int64
	flows      []time.Duration
	steps      [nSteps][]time.Duration
}

// RunRegistration registers cfg.Residents fresh residents, cfg.Concurrency
// at a time, each the whole way: a one-time code, the code read from the
// outbox as an operator (the stand-in for the text the phone gets), login,
// registration with a valid identity number, and the first code. It reports
// the rate, latencies and CPU per registration for each slice of slice
// registrations (default a tenth of them), and whether the last slice's
// rate fell under the first's.
func RunRegistration(ctx context.Context, cfg Config, slice int) (*RegistrationReport, error) {
	cfg.Paths = []string{}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.IssuerURL != "" {
		return nil, errors.New("loadgen: the registration surge registers at its own server only")
	}
	n := cfg.Residents
	if slice <= 0 {
		slice = max(1, n/10)
	}
	slice = min(slice, n)
	nslices := (n + slice - 1) / slice
	rep := &RegistrationReport{Machine: machine(), Residents: n, Concurrency: cfg.Concurrency, Nodes: 1 + len(cfg.Nodes), Slice: slice}
	client := &http.Client{Transport: balance(newTransport(cfg.Concurrency), cfg.URL, cfg.Nodes), Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	a := &api{base: cfg.URL + "/api/v1", client: client}
	var login struct {
		Token string `json:"token"`
	}
	if err := a.call(ctx, "POST", "/auth/operator", "", map[string]string{"username": cfg.AdminUser, "password": cfg.AdminPassword}, &login); err != nil {
		return nil, fmt.Errorf("loadgen: log in as operator %s: %w", cfg.AdminUser, err)
	}
	ids := newIdentities(cfg.Region)
	pids := append([]int{cfg.ServerPID}, cfg.NodePIDs...)
	cfg.progress("registration surge: %d residents, %d at a time, in slices of %d (one-time code, outbox, login, registration, first code)",
		n, cfg.Concurrency, slice)

	// Slice k runs from bound k to bound k+1: the moments the k*slice-th
	// registration (and the last) ended, with the CPU used by then.
	at := make([]time.Time, nslices+1)
	cpu := make([]cpuSnap, nslices+1)
	tallies := make([]sliceTally, nslices)
	var samplesMu sync.Mutex
	var retries atomic.Int64
	ended := make(chan int, nslices)
	monitorDone := make(chan struct{})
	loads := make([]float64, nslices)
	go registrationMonitor(&cfg, ended, at, cpu, loads, slice, n, monitorDone)

	cpu[0], at[0] = readCPU(pids...), time.Now()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if next.Add(1) > int64(n) {
					return
				}
				var took stepTimes
				t0 := time.Now()
				tok, r, err := registerResident(ctx, a, login.Token, ids, &took)
				if err == nil {
					t1 := time.Now()
					err = firstCode(ctx, a, tok)
					took[stepCode] = time.Since(t1)
				}
				flow := time.Since(t0)
				retries.Add(int64(r))
				d := done.Add(1)
				k := int((d - 1) / int64(slice))
				if d%int64(slice) == 0 || d == int64(n) {
					cpu[k+1], at[k+1] = readCPU(pids...), time.Now()
					ended <- k
				}
				t := &tallies[k]
				t.mu.Lock()
				if err != nil {
					t.errors++
				} else {
					t.registered++
					t.flows = append(t.flows, flow)
					for i, s := range took {
						t.steps[i] = append(t.steps[i], s)
					}
				}
				t.mu.Unlock()
				if err != nil && ctx.Err() == nil {
					samplesMu.Lock()
					if len(rep.Samples) < maxSamples {
						rep.Samples = append(rep.Samples, err.Error())
					}
					samplesMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(ended)
	<-monitorDone
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Load = loadAvg()
	rep.Retries = retries.Load()
	var all []time.Duration
	var population int64
	for k := range tallies {
		t := &tallies[k]
		population += t.registered
		s := RegistrationSlice{Population: population, Registered: t.registered, Errors: t.errors,
			Seconds: at[k+1].Sub(at[k]).Seconds(), Steps: map[string]StepFigures{}}
		s.PerSecond = math.Round(float64(t.registered) / max(s.Seconds, 1e-3))
		sortDurations(t.flows)
		s.P50, s.P99 = ms(percentile(t.flows, 0.50)), ms(percentile(t.flows, 0.99))
		if len(t.flows) > 0 {
			s.Max = ms(t.flows[len(t.flows)-1])
		}
		for i, name := range stepNames {
			sortDurations(t.steps[i])
			s.Steps[name] = StepFigures{P50: ms(percentile(t.steps[i], 0.50)), P99: ms(percentile(t.steps[i], 0.99))}
		}
		s.ServerCPUMicros, s.ClientCPUMicros = perRegistration(cpu[k], cpu[k+1], t.registered)
		if cpu[k].server >= 0 && s.Seconds > 0 {
			s.ServerCPUShare = math.Round(1000*(cpu[k+1].server-cpu[k].server)/s.Seconds/float64(runtime.NumCPU())) / 1000
		}
		s.Load1 = loads[k]
		rep.Slices = append(rep.Slices, s)
		rep.Registered += t.registered
		rep.Errors += t.errors
		all = append(all, t.flows...)
	}
	rep.Seconds = at[nslices].Sub(at[0]).Seconds()
	rep.PerSecond = math.Round(float64(rep.Registered) / max(rep.Seconds, 1e-3))
	sortDurations(all)
	rep.P50, rep.P99 = ms(percentile(all, 0.50)), ms(percentile(all, 0.99))
	if len(all) > 0 {
		rep.Max = ms(all[len(all)-1])
	}
	rep.ServerCPUMicros, rep.ClientCPUMicros = perRegistration(cpu[0], cpu[nslices], rep.Registered)
	rep.judge()
	return rep, nil
}

// registrationMonitor follows the slices as they end (ended gives each
// one's index): it reads the load average, reports progress and, with a
// Phase hook, profiles each slice, for about 80% of the previous slice's
// length (the first for 3 s). It runs beside the clients so that waiting
// for a profile holds up none of them.
func registrationMonitor(cfg *Config, ended <-chan int, at []time.Time, cpu []cpuSnap, loads []float64, slice, n int, done chan<- struct{}) {
	defer close(done)
	name := func(k int) string { return fmt.Sprintf("%s-%d", PathRegister, k+1) }
	open := -1
	if cfg.Phase != nil {
		cfg.Phase(name(0), true, 3*time.Second)
		open = 0
	}
	// Two slices can end at nearly the same moment and be told out of
	// order: each is taken up once every slice before it has ended.
	in := make([]bool, len(loads))
	k := 0
	for e := range ended {
		in[e] = true
		for ; k < len(in) && in[k]; k++ {
			if l := loadAvg(); len(l) > 0 {
				loads[k] = l[0]
			}
			took := at[k+1].Sub(at[k])
			upto := min(n, (k+1)*slice)
			line := fmt.Sprintf("register slice %d: %d registrations ended, %.0f/s over the slice", k+1, upto,
				float64(upto-k*slice)/max(took.Seconds(), 1e-3))
			if sv, _ := perRegistration(cpu[k], cpu[k+1], int64(upto-k*slice)); sv > 0 {
				line += fmt.Sprintf(", server %.0f µs/registration", sv)
			}
			cfg.progress("%s, load %.2f", line, loads[k])
			if cfg.Phase == nil {
				continue
			}
			if open >= 0 {
				cfg.Phase(name(open), false, 0)
				open = -1
			}
			if k+1 < len(loads) {
				cfg.Phase(name(k+1), true, max(time.Second, took*4/5))
				open = k + 1
			}
		}
	}
	if open >= 0 {
		cfg.Phase(name(open), false, 0)
	}
}

// firstCode fetches the resident's first code, as the phone shows it
// right after registering.
func firstCode(ctx context.Context, a *api, token string) error {
	var out struct {
		Code string `json:"code"`
	}
	if err := a.call(ctx, "GET", "/me/code", token, nil, &out); err != nil {
		return err
	}
	if out.Code == "" {
		return fmt.Errorf("GET /me/code: %w", errNoCode)
	}
	return nil
}

// perRegistration is the CPU time the server and the client used from s0
// to s1 over n registrations, in microseconds each (0 when unknown).
func perRegistration(s0, s1 cpuSnap, n int64) (server, client float64) {
	if n <= 0 {
		return 0, 0
	}
	if s0.server >= 0 && s1.server >= 0 {
		server = math.Round(1e7*(s1.server-s0.server)/float64(n)) / 10
	}
	if s0.client >= 0 && s1.client >= 0 {
		client = math.Round(1e7*(s1.client-s0.client)/float64(n)) / 10
	}
	return server, client
}

// verdict compares the last slice with the first: the rate's ratio, the
// server CPU per registration's ratio (0 when unknown), and whether the
// rate fell by more than RegistrationFall.
func verdict(s []RegistrationSlice) (rate, cpu float64, fell bool) {
	if len(s) < 2 || s[0].PerSecond <= 0 {
		return 1, 0, false
	}
	first, last := s[0], s[len(s)-1]
	rate = math.Round(1000*last.PerSecond/first.PerSecond) / 1000
	if first.ServerCPUMicros > 0 && last.ServerCPUMicros > 0 {
		cpu = math.Round(1000*last.ServerCPUMicros/first.ServerCPUMicros) / 1000
	}
	return rate, cpu, rate < 1-RegistrationFall
}

// judge compares the last slice with the first.
func (r *RegistrationReport) judge() {
	r.RateRatio, r.CPURatio, r.Fell = verdict(r.Slices)
	r.Dearer = r.CPURatio > 1+RegistrationFall
}

// WriteTable prints the report for people.
func (r *RegistrationReport) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s, %s; load before %s, after %s\n", m.CPUs, m.CPUModel, m.GoVersion, m.OS,
		loadString(m.LoadBefore), loadString(r.Load))
	nodes := ""
	if r.Nodes > 1 {
		nodes = fmt.Sprintf(", spread round robin over %d nodes on one database (server CPU: their sum)", r.Nodes)
	}
	fmt.Fprintf(w, "registration surge: %d residents, %d at a time, slices of %d; each a one-time code, the outbox read, login, registration and the first code%s\n\n",
		r.Residents, r.Concurrency, r.Slice, nodes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "slice\tpopulation\tregistrations/s\tp50 ms\tp99 ms\tmax ms\terrors\tserver µs/reg\tclient µs/reg\tserver CPU\tload\t")
	for _, n := range stepNames {
		fmt.Fprintf(tw, "%s p50/p99\t", n)
	}
	fmt.Fprintln(tw)
	for i, s := range r.Slices {
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%.2f\t", i+1, s.Population, s.PerSecond, s.P50, s.P99, s.Max,
			s.Errors, num(s.ServerCPUMicros), num(s.ClientCPUMicros), pct(s.ServerCPUShare), s.Load1)
		for _, n := range stepNames {
			fmt.Fprintf(tw, "%.2f/%.2f\t", s.Steps[n].P50, s.Steps[n].P99)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "all\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t\t\t\n", r.Registered, r.PerSecond, r.P50, r.P99, r.Max, r.Errors,
		num(r.ServerCPUMicros), num(r.ClientCPUMicros))
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, r.Verdict())
	if r.Retries > 0 {
		fmt.Fprintf(w, "note: %d phones or identity numbers were taken by earlier runs on the same store and replaced\n", r.Retries)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(w, "error: %s\n", s)
	}
	return nil
}

// Verdict says in a sentence whether the rate held as the population grew.
func (r *RegistrationReport) Verdict() string {
	if len(r.Slices) < 2 {
		return "verdict: one slice, nothing to compare"
	}
	first, last := r.Slices[0], r.Slices[len(r.Slices)-1]
	word := "held"
	if r.Fell {
		word = "FELL"
	}
	v := fmt.Sprintf("verdict: the rate %s: the last slice (to %d) %.0f/s is %.1f%% of the first's (to %d) %.0f/s (it falls when under %.0f%%)",
		word, last.Population, last.PerSecond, 100*r.RateRatio, first.Population, first.PerSecond, 100*(1-RegistrationFall))
	switch {
	case r.CPURatio == 0:
	case r.Dearer:
		v += fmt.Sprintf("; the server's CPU per registration GREW: %.0f µs against %.0f µs (%.2f×)", last.ServerCPUMicros, first.ServerCPUMicros, r.CPURatio)
	case r.Fell:
		v += fmt.Sprintf("; but the server's CPU per registration held (%.0f µs against %.0f µs, %.2f×): it had %.0f%% of the machine against %.0f%%, the rate fell with its share, not with the population",
			last.ServerCPUMicros, first.ServerCPUMicros, r.CPURatio, 100*last.ServerCPUShare, 100*first.ServerCPUShare)
	default:
		v += fmt.Sprintf("; server CPU per registration %.0f µs against %.0f µs (%.2f×)", last.ServerCPUMicros, first.ServerCPUMicros, r.CPURatio)
	}
	if r.Errors > 0 {
		v += fmt.Sprintf("; %d ERRORS", r.Errors)
	}
	return v
}
