package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a run: what ran where, and each path's figures.
type Report struct {
	Machine      Machine   `json:"machine"`
	Settings     Settings  `json:"settings"`
	Load         []float64 `json:"load_after"` // 1, 5 and 15 minute load averages when the run ended
	SetupSeconds float64   `json:"setup_seconds"`
	Results      []Result  `json:"results"`
	Notes        []string  `json:"notes,omitempty"`
}

// Machine describes where the figures came from.
type Machine struct {
	CPUs       int       `json:"cpus"` // logical CPUs (nproc)
	CPUModel   string    `json:"cpu_model"`
	GoVersion  string    `json:"go_version"`
	OS         string    `json:"os"`
	LoadBefore []float64 `json:"load_before"` // 1, 5, 15 minute load averages at the start
	Started    time.Time `json:"started"`
}

// Settings repeats what the run was told.
type Settings struct {
	Concurrency int            `json:"concurrency"`
	Duration    string         `json:"duration"`
	Warmup      string         `json:"warmup"`
	Slice       string         `json:"slice"`
	Paths       []string       `json:"paths"`
	Mix         map[string]int `json:"mix,omitempty"`
	Residents   int            `json:"residents"`
	Checkpoints int            `json:"checkpoints"`
	Venues      int            `json:"venues"`
	Rescan      float64        `json:"rescan"`
	CodeTTL     string         `json:"code_ttl"`
	Nodes       int            `json:"nodes"`            // servers on one database the requests were spread over
	Client      string         `json:"client,omitempty"` // wrk, or the Go client
}

// Result is one path's figures over all rounds.
type Result struct {
	Path      string  `json:"path"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"requests_per_second"`
	// BarePerSecond is the bare handler's rate in the slices that
	// alternated with this path's; Ratio is PerSecond over it. Target is
	// the design's minimum, Meets whether the ratio (and for verify the
	// p99) meets it with no errors.
	BarePerSecond float64 `json:"bare_requests_per_second,omitempty"`
	Ratio         float64 `json:"ratio_to_bare"`
	Target        float64 `json:"target,omitempty"`
	Meets         *bool   `json:"meets_target,omitempty"`
	P50           float64 `json:"p50_ms"`
	P95           float64 `json:"p95_ms"`
	P99           float64 `json:"p99_ms"`
	Max           float64 `json:"max_ms"`
	// CPU per request of the process that answered (the server, or the
	// bare handler) and of the load generator, in microseconds, and the
	// share of the machine's CPU each used (Linux only; 0 when unknown).
	ServerCPUMicros float64  `json:"server_cpu_us_per_request,omitempty"`
	ClientCPUMicros float64  `json:"client_cpu_us_per_request,omitempty"`
	DBCPUMicros     float64  `json:"db_cpu_us_per_request,omitempty"` // the database server's (--db-pid), with the wrk client
	ServerCPUShare  float64  `json:"server_cpu_share,omitempty"`
	ClientCPUShare  float64  `json:"client_cpu_share,omitempty"`
	ErrorSamples    []string `json:"error_samples,omitempty"`
}

func settingsOf(c *Config) Settings {
	return Settings{Concurrency: c.Concurrency, Duration: c.Duration.String(), Warmup: c.Warmup.String(), Slice: c.Slice.String(),
		Paths: slices.Clone(c.Paths), Mix: c.Mix, Residents: c.Residents, Checkpoints: c.Checkpoints, Venues: c.Venues,
		Rescan: c.Rescan, CodeTTL: c.CodeTTL.String(), Nodes: 1 + len(c.Nodes), Client: c.Client}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

func result(path string, t *tally, use *cpuUse, bareRate float64) Result {
	sortDurations(t.latencies)
	r := Result{Path: path, Requests: t.requests, Errors: t.errors, Seconds: t.seconds,
		P50: ms(percentile(t.latencies, 0.50)), P95: ms(percentile(t.latencies, 0.95)),
		P99: ms(percentile(t.latencies, 0.99)), ErrorSamples: t.samples}
	if len(t.latencies) > 0 {
		r.Max = ms(t.latencies[len(t.latencies)-1])
	}
	if t.seconds > 0 {
		r.PerSecond = math.Round(float64(t.requests) / t.seconds)
	}
	if bareRate > 0 {
		r.Ratio = math.Round(1000*r.PerSecond/bareRate) / 1000
	}
	if target, ok := Targets[path]; ok {
		r.Target = target
		meets := r.Ratio >= target && r.Errors == 0
		if path == PathVerify {
			meets = meets && percentile(t.latencies, 0.99) < VerifyP99Target
		}
		r.Meets = &meets
	}
	if use != nil && use.requests > 0 {
		r.ServerCPUMicros = math.Round(1e6*use.server/use.requests*10) / 10
		r.ClientCPUMicros = math.Round(1e6*use.client/use.requests*10) / 10
		if use.wall > 0 {
			n := float64(runtime.NumCPU())
			r.ServerCPUShare = math.Round(1000*use.server/use.wall/n) / 1000
			r.ClientCPUShare = math.Round(1000*use.client/use.wall/n) / 1000
		}
	}
	return r
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s, %s; load before %s, after %s\n", m.CPUs, m.CPUModel, m.GoVersion, m.OS,
		loadString(m.LoadBefore), loadString(r.Load))
	s := r.Settings
	nodes := ""
	if s.Nodes > 1 {
		nodes = fmt.Sprintf(", spread round robin over %d nodes on one database (server CPU: their sum)", s.Nodes)
	}
	if s.Client == ClientWrk {
		fmt.Fprintf(w, "run: wrk, %d connections, %s per path between two runs of the bare handler of as long (after %s warm-up), %d residents, %d checkpoints, rescan %.0f%%, set-up %.1fs\n\n",
			s.Concurrency, s.Duration, s.Warmup, s.Residents, s.Checkpoints, 100*s.Rescan, r.SetupSeconds)
	} else {
		fmt.Fprintf(w, "run: %d clients, %s per path in %s slices alternating with the bare handler (after %s warm-up), %d residents, %d checkpoints, rescan %.0f%%, set-up %.1fs%s\n\n",
			s.Concurrency, s.Duration, s.Slice, s.Warmup, s.Residents, s.Checkpoints, 100*s.Rescan, r.SetupSeconds, nodes)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	dbCol := slices.ContainsFunc(r.Results, func(x Result) bool { return x.DBCPUMicros > 0 })
	head := "path\treq/s\tbare beside\t% of bare\ttarget\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tserver µs/req\tclient µs/req\tserver CPU\tclient CPU\t"
	if dbCol {
		head += "database µs/req\t"
	}
	fmt.Fprintln(tw, head)
	for _, x := range r.Results {
		target := ""
		if x.Target > 0 {
			target = fmt.Sprintf("≥ %.0f%%", 100*x.Target)
			if x.Path == PathVerify {
				target += ", p99 < 10"
			}
			if x.Meets != nil {
				target += map[bool]string{true: " ok", false: " MISSED"}[*x.Meets]
			}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%s\t", x.Path, x.PerSecond, rate(x.BarePerSecond), 100*x.Ratio, target,
			x.P50, x.P95, x.P99, x.Max, x.Errors, num(x.ServerCPUMicros), num(x.ClientCPUMicros), pct(x.ServerCPUShare), pct(x.ClientCPUShare))
		if dbCol {
			fmt.Fprintf(tw, "%s\t", num(x.DBCPUMicros))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, x := range r.Results {
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(w, "error (%s): %s\n", x.Path, e)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func num(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}

func pct(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

func loadString(l []float64) string {
	if len(l) == 0 {
		return "?"
	}
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, " ")
}

func machine() Machine {
	return Machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, LoadBefore: loadAvg(), Started: time.Now().UTC().Truncate(time.Second)}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAvg() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	var l [3]float64
	if n, _ := fmt.Sscan(string(b), &l[0], &l[1], &l[2]); n != 3 {
		return nil
	}
	return l[:]
}
