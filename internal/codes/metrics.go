package codes

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/codeformat"
)

// Kinds and outcomes of verifications, as counted. Every pair's counter is
// made when the service is built, so that counting a scan on the hot path
// is an array index and an atomic add, and every series shows from the
// start.
var (
	verifyKinds    = [...]string{"dynamic", "care", "certificate", KindID, "unknown"}
	verifyOutcomes = [...]string{"admitted", "refused", "invalid", "not_registered"}
)

const (
	outAdmitted = iota
	outRefused
	outInvalid
	outNotRegistered
)

type metrics struct {
	issuedDynamic, issuedCare prometheus.Counter
	verified                  [len(verifyKinds)][len(verifyOutcomes)]prometheus.Counter
}

// batchMetrics shows how Ed25519 signatures are checked together: the mean
// batch is signatures over batches.
func batchMetrics(reg prometheus.Registerer, b *codeformat.Ed25519Batch) {
	if reg == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "healthcode_codes_signature_batches_total",
			Help: "Batches of Ed25519 signatures of other regions' codes checked together.",
		}, func() float64 { n, _ := b.Counts(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "healthcode_codes_batched_signatures_total",
			Help: "Ed25519 signatures checked in those batches (over the batches: the mean batch).",
		}, func() float64 { _, n := b.Counts(); return float64(n) }),
	)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	issued := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_codes_issued_total", Help: "Codes this node issued, by kind (dynamic: a code shown; care: a care code printed).",
	}, []string{"kind"})
	verified := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_codes_verified_total",
		Help: "Verifications this node answered, by kind (dynamic, care, certificate, id, unknown: not authentic) and outcome (admitted, refused: valid but not green or fever, invalid, not_registered: an ID number nobody registered).",
	}, []string{"kind", "outcome"})
	m := &metrics{issuedDynamic: issued.WithLabelValues(codeformat.KindDynamic.String()), issuedCare: issued.WithLabelValues(codeformat.KindCare.String())}
	for k, kind := range verifyKinds {
		for o, out := range verifyOutcomes {
			if out == "not_registered" && kind != KindID {
				continue
			}
			m.verified[k][o] = verified.WithLabelValues(kind, out)
		}
	}
	if reg != nil {
		reg.MustRegister(issued, verified)
	}
	return m
}

// verification counts an answered verification.
func (m *metrics) verification(kind string, res *Result) {
	k := len(verifyKinds) - 1
	for i, v := range verifyKinds {
		if v == kind {
			k = i
			break
		}
	}
	o := outRefused
	switch {
	case !res.Valid && kind == KindID:
		o = outNotRegistered
	case !res.Valid:
		o = outInvalid
	case res.Admitted:
		o = outAdmitted
	}
	m.verified[k][o].Inc()
}
