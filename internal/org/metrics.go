package org

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the organisation keys' use on this node: each request a key
// makes at the gateway is admitted or refused for one of its limits.
type metrics struct {
	admitted, quota, rate prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_org_key_requests_total",
		Help: "Gateway requests made with organisation API keys on this node, by outcome (admitted, quota_exceeded, rate_limited).",
	}, []string{"outcome"})
	m := &metrics{admitted: reqs.WithLabelValues("admitted"), quota: reqs.WithLabelValues("quota_exceeded"),
		rate: reqs.WithLabelValues("rate_limited")}
	if reg != nil {
		reg.MustRegister(reqs)
	}
	return m
}
