package lease

import "github.com/prometheus/client_golang/prometheus"

// metrics say which node runs which once-only work: the lease label is the
// work's name, a fixed set the server declares.
type metrics struct {
	held     *prometheus.GaugeVec
	acquired *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "healthcode_lease_held_ratio", Help: "1 while this node holds the lease of a once-only background task, else 0.",
		}, []string{"lease"}),
		acquired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_lease_acquired_total", Help: "Times this node took the lease of a once-only background task (a start or a takeover).",
		}, []string{"lease"}),
	}
	if reg != nil {
		reg.MustRegister(m.held, m.acquired)
	}
	return m
}
