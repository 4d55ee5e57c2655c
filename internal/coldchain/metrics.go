package coldchain

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cold chain's work on this node, each counted once its
// transaction has committed.
type metrics struct {
	transfers, sales prometheus.Counter
	handlings        prometheus.Counter
	traces           prometheus.Counter
	tasks            prometheus.Counter
	exposures        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	moves := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_coldchain_moves_total",
		Help: "Cold-chain batch moves recorded, by kind (transfer between holders, sale to consumers).",
	}, []string{"kind"})
	m := &metrics{
		transfers: moves.WithLabelValues(MoveTransfer),
		sales:     moves.WithLabelValues(MoveSale),
		handlings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_coldchain_handlings_total", Help: "Workers' health codes scanned with a batch code (handlings recorded).",
		}),
		traces: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_coldchain_traces_total", Help: "Positive inspections traced (each a run over the batch's downstream chain).",
		}),
		tasks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_coldchain_tasks_opened_total", Help: "Seal and disinfection tasks opened for holders by positive inspections.",
		}),
		exposures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_coldchain_exposures_total", Help: "Handlers found by positive inspections (each gets a cold_chain.exposure fact).",
		}),
	}
	if reg != nil {
		reg.MustRegister(moves, m.handlings, m.traces, m.tasks, m.exposures)
	}
	return m
}
