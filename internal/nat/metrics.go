package nat

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are testing's: swabs taken and results labs report.
type metrics struct {
	samples prometheus.Counter
	results map[[2]string]prometheus.Counter // {result word, outcome}
}

func newMetrics(reg prometheus.Registerer) *metrics {
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_nat_results_total",
		Help: "Tube results labs reported (by API or file), by result (negative, positive, invalid) and outcome (accepted, unchanged: a repeat, refused); lines that do not parse are not counted.",
	}, []string{"result", "outcome"})
	m := &metrics{
		samples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_nat_samples_total", Help: "Swabs bound to tubes.",
		}),
		results: map[[2]string]prometheus.Counter{},
	}
	for _, w := range []string{Negative, Positive, Invalid} {
		for _, o := range []string{"accepted", "unchanged", "refused"} {
			m.results[[2]string{w, o}] = results.WithLabelValues(w, o)
		}
	}
	if reg != nil {
		reg.MustRegister(m.samples, results)
	}
	return m
}

// reported counts the outcome of each item of a committed chunk.
func (m *metrics) reported(items []item, outs []outcome) {
	for i := range outs {
		if c := m.results[[2]string{items[i].word, outs[i].status}]; c != nil {
			c.Inc()
		}
	}
}
