package vaccine

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	bookings  *prometheus.CounterVec
	doses     *prometheus.CounterVec
	reminders prometheus.Counter
}

// Booking outcomes, fixed so a dashboard shows 0 rather than nothing.
var bookingOutcomes = []string{"booked", "full", "refused"}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_vaccine_bookings_total",
			Help: "Appointment requests, by outcome (booked, full: no place left, refused: any other refusal).",
		}, []string{"outcome"}),
		doses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_vaccine_doses_total",
			Help: "Doses recorded, by source (scan at the site, import of earlier records).",
		}, []string{"source"}),
		reminders: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_vaccine_reminders_total",
			Help: "Appointment reminders queued for SMS the day before.",
		}),
	}
	for _, o := range bookingOutcomes {
		m.bookings.WithLabelValues(o)
	}
	m.doses.WithLabelValues(SourceScan)
	m.doses.WithLabelValues(SourceImport)
	if reg != nil {
		reg.MustRegister(m.bookings, m.doses, m.reminders)
	}
	return m
}
