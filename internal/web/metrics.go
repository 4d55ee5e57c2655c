package web

import (
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/httpmetric"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pages' requests, by the route pattern that served them
// (a bounded set: patterns, never paths).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	routes   sync.Map // pattern -> *routeMetrics
}

// routeMetrics are a route's series, resolved once.
type routeMetrics struct {
	codes *prometheus.CounterVec // curried with the route
	timer prometheus.Observer
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_web_requests_total", Help: "Page requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "healthcode_web_request_duration_seconds", Help: "Page latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

func (m *metrics) route(pattern string) *routeMetrics {
	if pattern == "" {
		// No route matched: a method the path does not take, a redirect
		// to the path with a slash.
		pattern = "unmatched"
	}
	if v, ok := m.routes.Load(pattern); ok {
		return v.(*routeMetrics)
	}
	rm := &routeMetrics{codes: m.requests.MustCurryWith(prometheus.Labels{"route": pattern}), timer: m.duration.WithLabelValues(pattern)}
	v, _ := m.routes.LoadOrStore(pattern, rm)
	return v.(*routeMetrics)
}

// observe counts a request the mux served as pattern.
func (m *metrics) observe(pattern string, code int, took time.Duration) {
	rm := m.route(pattern)
	rm.codes.WithLabelValues(httpmetric.CodeLabel(code)).Inc()
	rm.timer.Observe(took.Seconds())
}
