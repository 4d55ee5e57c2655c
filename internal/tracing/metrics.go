package tracing

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the runs this node executed.
type metrics struct {
	done, failed, lost, handedBack prometheus.Counter
	duration                       prometheus.Histogram
	companions                     prometheus.Counter
	colourTasks, escalated         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_tracing_runs_total",
		Help: "Tracing runs this node executed, by outcome (done, failed, lost: another node took it over, handed_back: at shutdown).",
	}, []string{"outcome"})
	m := &metrics{
		done: runs.WithLabelValues("done"), failed: runs.WithLabelValues("failed"),
		lost: runs.WithLabelValues("lost"), handedBack: runs.WithLabelValues("handed_back"),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "healthcode_tracing_run_duration_seconds", Help: "Time to execute a tracing run that finished on this node.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}),
		companions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_tracing_companions_total", Help: "Companions (person and case links) found by the runs this node finished.",
		}),
		colourTasks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_tracing_colour_tasks_total", Help: "Follow-up tasks opened for changes to red or yellow.",
		}),
		escalated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_tracing_tasks_escalated_total", Help: "Follow-up tasks escalated to the town after their deadline passed unvisited.",
		}),
	}
	if reg != nil {
		reg.MustRegister(runs, m.duration, m.companions, m.colourTasks, m.escalated)
	}
	return m
}
