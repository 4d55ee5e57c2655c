package federation

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a node's exchanges with the hub.
type metrics struct {
	pulls   *prometheus.CounterVec // by result: changed, unchanged, failed
	queries *prometheus.CounterVec // live status queries by outcome: answered, unavailable
}

func newMetrics(reg prometheus.Registerer, n *Node) *metrics {
	m := &metrics{
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_federation_pulls_total",
			Help: "Pulls of the hub's bundle of trust lists (also the refetches on an unknown key id), by result: changed, unchanged (304) or failed.",
		}, []string{"result"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_federation_status_queries_total",
			Help: "Live status queries to other regions through the hub, by outcome: answered in time, or unavailable (the code's own colour was used).",
		}, []string{"outcome"}),
	}
	for _, r := range []string{"changed", "unchanged", "failed"} {
		m.pulls.WithLabelValues(r)
	}
	for _, o := range []string{"answered", "unavailable"} {
		m.queries.WithLabelValues(o)
	}
	if reg != nil {
		age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "healthcode_federation_bundle_age_seconds",
			Help: "Seconds since the bundle of trust lists was last pulled from the hub (or confirmed unchanged); -1 before the first pull.",
		}, func() float64 {
			at := n.lastPullMs.Load()
			if at == 0 {
				return -1
			}
			return time.Since(time.UnixMilli(at)).Seconds()
		})
		reg.MustRegister(m.pulls, m.queries, age)
	}
	return m
}

func (m *metrics) pulled(changed bool, err error) {
	switch {
	case err != nil:
		m.pulls.WithLabelValues("failed").Inc()
	case changed:
		m.pulls.WithLabelValues("changed").Inc()
	default:
		m.pulls.WithLabelValues("unchanged").Inc()
	}
}
