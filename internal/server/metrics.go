package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the background workers': when each last succeeded, how
// often it failed, how long a round takes. The worker label is the name
// Start gives it (a fixed set).
type metrics struct {
	lastSuccess *prometheus.GaugeVec
	errors      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthcode_worker_last_success_timestamp_seconds",
			Help: "When each background worker last finished a round without error (staleness = time() - this).",
		}, []string{"worker"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_worker_errors_total", Help: "Rounds of each background worker that failed (each counted; repeats of one error are logged every 10 minutes).",
		}, []string{"worker"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "healthcode_worker_run_duration_seconds", Help: "Time one round of each background worker took.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"worker"}),
	}
	if reg != nil {
		reg.MustRegister(m.lastSuccess, m.errors, m.duration)
	}
	return m
}
