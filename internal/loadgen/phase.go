package loadgen

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// source hands out the next request of a phase to a client, or nil when
// it has nothing left (a verify wave that used up its codes).
type source interface {
	next() *request
}

// funcSource adapts a function.
type funcSource func() *request

func (f funcSource) next() *request { return f() }

// tally is what the clients measured in a phase's window.
type tally struct {
	requests  int64           // answered without error, ending in the window: the rate
	errors    int64           // failed, ending in the window or after it
	latencies []time.Duration // of every request begun or ended in the window, errors included
	samples   []string        // first distinct error messages
	byPath    map[string]*tally
	seconds   float64
	exhausted bool // the source ran dry before the window ended
}

func (t *tally) add(o *tally) {
	t.requests += o.requests
	t.errors += o.errors
	t.latencies = append(t.latencies, o.latencies...)
	t.seconds += o.seconds
	t.exhausted = t.exhausted || o.exhausted
	for _, s := range o.samples {
		t.sample(s)
	}
	for k, v := range o.byPath {
		if t.byPath == nil {
			t.byPath = map[string]*tally{}
		}
		if t.byPath[k] == nil {
			t.byPath[k] = &tally{}
		}
		t.byPath[k].add(v)
	}
}

const maxSamples = 5

func (t *tally) sample(s string) {
	if len(t.samples) >= maxSamples {
		return
	}
	for _, x := range t.samples {
		if x == s {
			return
		}
	}
	t.samples = append(t.samples, s)
}

// percentile of sorted latencies (nearest rank: the smallest value at
// least a share p of them do not exceed).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func sortDurations(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

// measure runs concurrency clients against src: warmup unmeasured, then a
// window of length window. The rate is the requests answered without error
// that end inside the window, over the window; a failed request is an error
// and not throughput. Clients start no request after the window, but one
// begun inside it that ends after it still gives its latency (the slowest
// requests are the likeliest to end late: leaving them out would hide
// stalls from p99 and max) and, if it fails, an error. label, when set,
// names a request's path for a per-path breakdown (the mixed phase).
func measure(ctx context.Context, c *http.Client, concurrency int, warmup, window time.Duration, src source, label func(*request) string) *tally {
	start := time.Now()
	t0 := start.Add(warmup)
	t1 := t0.Add(window)
	var dry atomic.Bool
	results := make([]*tally, concurrency)
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := &tally{latencies: make([]time.Duration, 0, 4096)}
			if label != nil {
				mine.byPath = map[string]*tally{}
			}
			results[w] = mine
			var buf bytes.Buffer
			for ctx.Err() == nil {
				r := src.next()
				if r == nil {
					dry.Store(true)
					return
				}
				began := time.Now()
				if !began.Before(t1) {
					return
				}
				err := do(ctx, c, r, &buf)
				ended := time.Now()
				if ended.Before(t0) {
					continue
				}
				late := !ended.Before(t1)
				if late && began.Before(t0) {
					continue // spanned the whole window: warm-up's
				}
				lat := ended.Sub(began)
				mine.latencies = append(mine.latencies, lat)
				var pt *tally
				if label != nil {
					name := label(r)
					if pt = mine.byPath[name]; pt == nil {
						pt = &tally{}
						mine.byPath[name] = pt
					}
					pt.latencies = append(pt.latencies, lat)
				}
				switch {
				case err != nil:
					mine.errors++
					mine.sample(err.Error())
					if pt != nil {
						pt.errors++
						pt.sample(err.Error())
					}
				case !late:
					mine.requests++
					if pt != nil {
						pt.requests++
					}
				}
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	total := &tally{}
	for _, r := range results {
		total.add(r)
	}
	// A source that ran dry ends the window early: the rate is over the
	// time the clients actually had work.
	total.seconds = window.Seconds()
	if dry.Load() && end.Before(t1) {
		total.exhausted = true
		total.seconds = max(end.Sub(t0).Seconds(), 1e-3)
	}
	for _, p := range total.byPath {
		p.seconds = total.seconds
	}
	return total
}
