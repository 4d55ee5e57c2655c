package gateway

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/codes"
)

// How a scan is made and how it ends, as counted.
var (
	scanBy       = [...]string{"code", "id"}
	scanOutcomes = [...]string{"admitted", "refused", "invalid", "not_registered", "limited", "denied", "bad_input", "error"}
)

const (
	scanAdmitted = iota
	scanRefused
	scanInvalid
	scanNotRegistered
	scanLimited
	scanDenied
	scanBadInput
	scanError
)

type metrics struct {
	scans [len(scanBy)][len(scanOutcomes)]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	scans := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_gateway_scans_total",
		Help: "Gateway scans by how (code, id: an identity number at a desk) and outcome (admitted, refused: not green, invalid code, not_registered, limited: a rate or quota, denied: not the organisation's scope, bad_input, error).",
	}, []string{"by", "outcome"})
	m := &metrics{}
	for b, by := range scanBy {
		for o, out := range scanOutcomes {
			m.scans[b][o] = scans.WithLabelValues(by, out)
		}
	}
	if reg != nil {
		reg.MustRegister(scans)
	}
	return m
}

// scan counts a scan that answered sc or failed with err.
func (m *metrics) scan(in *ScanInput, sc *Scan, err error) {
	b := 0
	if in.Code == "" {
		b = 1
	}
	o := scanError
	e, isAPI := apierr.As(err)
	switch {
	case err == nil && sc.Admitted:
		o = scanAdmitted
	case err == nil:
		o = scanRefused
	case errors.Is(err, codes.ErrIDNotRegistered):
		o = scanNotRegistered
	case !isAPI:
	case e.Status == http.StatusUnprocessableEntity:
		o = scanInvalid
	case e.Status == http.StatusTooManyRequests:
		o = scanLimited
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		o = scanDenied
	case e.Status < 500:
		o = scanBadInput
	}
	m.scans[b][o].Inc()
}
