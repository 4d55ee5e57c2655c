package checkin

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the group commit's: how many requests share a transaction,
// how long one takes, how many rows it writes.
type metrics struct {
	commits     prometheus.Counter
	requests    prometheus.Counter
	batch       prometheus.Histogram
	duration    prometheus.Histogram
	checkinRows prometheus.Counter
	verifRows   prometheus.Counter
	failures    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	rows := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_checkin_committed_rows_total",
		Help: "Rows the group commit wrote, by table (checkins, verifications).",
	}, []string{"table"})
	m := &metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_checkin_commits_total",
			Help: "Group-commit transactions of check-ins and verification events.",
		}),
		requests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_checkin_committed_requests_total",
			Help: "Check-in and verification requests committed by the group commit (divided by commits: the batch size).",
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "healthcode_checkin_commit_batch_requests",
			Help:    "Requests per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "healthcode_checkin_commit_duration_seconds",
			Help:    "Time to write and commit one group-commit transaction.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		checkinRows: rows.WithLabelValues("checkins"),
		verifRows:   rows.WithLabelValues("verifications"),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_checkin_commit_failures_total",
			Help: "Group-commit transactions that failed; their requests were then tried one by one.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.commits, m.requests, m.batch, m.duration, rows, m.failures)
	}
	return m
}

// committed counts a batch that committed in one transaction.
func (m *metrics) committed(batch []*pending, seconds float64) {
	var cs, vs int
	for _, p := range batch {
		cs += len(p.checkins)
		if p.verif != nil {
			vs++
		}
	}
	m.commits.Inc()
	m.requests.Add(float64(len(batch)))
	m.batch.Observe(float64(len(batch)))
	m.duration.Observe(seconds)
	m.checkinRows.Add(float64(cs))
	m.verifRows.Add(float64(vs))
}
