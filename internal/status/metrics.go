package status

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the status engine's, for this node: what it evaluated and
// changed, how far its cache follows the change log, the recompute it
// works on, and the colour-change texts it sent.
type metrics struct {
	facts        prometheus.Counter
	changes      map[string]prometheus.Counter // by cause
	dueEvals     prometheus.Counter
	tailSeq      prometheus.Gauge
	tailCurrent  prometheus.Gauge
	tailApplied  prometheus.Counter
	recPersons   prometheus.Counter
	recProgress  prometheus.Gauge
	recBatch     prometheus.Histogram
	recLast      prometheus.Gauge
	notesQueued  prometheus.Counter
	notesHandled map[string]prometheus.Counter // by outcome
}

// Outcomes of a notification's delivery attempt, as counted.
const (
	noteRetry = "retry" // failed; tried again later
)

func newMetrics(reg prometheus.Registerer) *metrics {
	changes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_status_changes_total",
		Help: "Colour or deciding-rule changes this node committed, by cause (fact, time, rules, appeal).",
	}, []string{"cause"})
	handled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_status_notifications_total",
		Help: "Colour-change texts this node handled, by outcome: sent, no_recipient, retry (failed, tried again later), failed (given up).",
	}, []string{"outcome"})
	m := &metrics{
		facts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_status_facts_total", Help: "Facts this node stored (repeats of a stored fact not counted).",
		}),
		changes: map[string]prometheus.Counter{},
		dueEvals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_status_scheduler_evaluations_total",
			Help: "Persons the scheduler re-evaluated on this node because their next evaluation time came.",
		}),
		tailSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "healthcode_status_tail_seq", Help: "The last change-log seq this node's colour cache applied.",
		}),
		tailCurrent: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "healthcode_status_tail_current_timestamp_seconds",
			Help: "When the last tail that read the change log to its end began: changes committed since may not be in this node's cache yet (lag = time() - this).",
		}),
		tailApplied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_status_tail_applied_total", Help: "Change-log entries the tail applied to this node's cache.",
		}),
		recPersons: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_status_recompute_persons_total", Help: "Persons covered by recompute batches this node committed.",
		}),
		recProgress: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "healthcode_status_recompute_progress_ratio",
			Help: "Done over total of the recompute this node works on or last worked on (1 when it finished).",
		}),
		recBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "healthcode_status_recompute_batch_duration_seconds", Help: "Time to write one recompute batch.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}),
		recLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "healthcode_status_recompute_last_duration_seconds",
			Help: "Start to finish of the last recompute this node finished (it may have taken over from another node).",
		}),
		notesQueued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_status_notifications_queued_total", Help: "Colour-change texts this node queued with the changes it committed.",
		}),
		notesHandled: map[string]prometheus.Counter{},
	}
	for _, c := range []string{CauseFact, CauseTime, CauseRules, CauseAppeal} {
		m.changes[c] = changes.WithLabelValues(c)
	}
	for _, o := range []string{NoteSent, NoteNoRecipient, noteRetry, NoteFailed} {
		m.notesHandled[o] = handled.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.facts, changes, m.dueEvals, m.tailSeq, m.tailCurrent, m.tailApplied, m.recPersons,
			m.recProgress, m.recBatch, m.recLast, m.notesQueued, handled)
	}
	return m
}
