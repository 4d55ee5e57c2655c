package audit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// appends counts entries by action. Unlike the features' metrics it is
// package state: the audit log is functions that run inside their callers'
// transactions, with no service to hold it. An entry is counted when it is
// written, so one whose transaction then rolls back is counted too.
var appends = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "healthcode_audit_appends_total",
	Help: "Entries this process wrote to the audit log, by action (counted at the write, before the transaction commits).",
}, []string{"action"})

var (
	headsSigned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "healthcode_audit_heads_signed_total",
		Help: "Signed heads of the audit log this process stored (periodic and on demand).",
	})
	headTime = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "healthcode_audit_head_timestamp_seconds",
		Help: "When this process last signed a head of the audit log (0: not yet).",
	})
)

// RegisterMetrics adds the audit log's metrics to reg. Registries of
// several servers in one process (tests) share the counts.
func RegisterMetrics(reg prometheus.Registerer) { reg.MustRegister(appends, headsSigned, headTime) }
