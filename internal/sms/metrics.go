package sms

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metered counts what next takes from the outbox's worker: submissions by
// purpose and outcome (sent, failed) and how long they take. Each provider
// registers its own series (the provider label is its name), so several
// can share reg; nil reg counts into metrics nobody reads.
func Metered(next Provider, reg prometheus.Registerer) Provider {
	if reg != nil {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"provider": next.Name()}, reg)
	}
	return &metered{next: next, m: newMetrics(reg)}
}

type metrics struct {
	sends    *prometheus.CounterVec
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_sms_sends_total",
			Help: "Text messages handed to a provider, by provider, purpose (otp, status) and outcome (sent, failed).",
		}, []string{"purpose", "outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "healthcode_sms_send_duration_seconds", Help: "Time a provider took to take a message, by provider.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}),
	}
	for _, p := range []string{"otp", "status"} {
		m.sends.WithLabelValues(p, "sent")
		m.sends.WithLabelValues(p, "failed")
	}
	if reg != nil {
		reg.MustRegister(m.sends, m.duration)
	}
	return m
}

type metered struct {
	next Provider
	m    *metrics
}

func (s *metered) Name() string { return s.next.Name() }

func (s *metered) Submit(ctx context.Context, msg Outgoing) (Receipt, error) {
	began := time.Now()
	r, err := s.next.Submit(ctx, msg)
	s.m.duration.Observe(time.Since(began).Seconds())
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	s.m.sends.WithLabelValues(msg.Purpose, outcome).Inc()
	return r, err
}
