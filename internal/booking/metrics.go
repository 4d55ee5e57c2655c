package booking

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bookings made and refused, and the entries at the
// scenic spots' gates.
type metrics struct {
	bookings  *prometheus.CounterVec
	cancelled prometheus.Counter
	entries   *prometheus.CounterVec
}

// The outcomes, fixed so a dashboard shows 0 rather than nothing: a
// refusal is named by what the resident was told.
var (
	bookingOutcomes = []struct {
		name string
		err  error
	}{{"slot_full", ErrSlotFull}, {"already_booked", ErrAlreadyBooked}, {"slot_past", ErrSlotPast}}
	entryOutcomes = []struct {
		name string
		err  error
	}{{"red", ErrEntryRed}, {"yellow", ErrEntryYellow}, {"no_booking", ErrEntryNoBooking},
		{"wrong_slot", ErrEntryWrongSlot}, {"used", ErrEntryUsed}}
)

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bookings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_booking_bookings_total",
			Help: "Bookings of scenic spots' and service halls' slots, by outcome (booked, or refused: slot_full, already_booked, slot_past).",
		}, []string{"outcome"}),
		cancelled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "healthcode_booking_cancellations_total",
			Help: "Bookings cancelled by their residents (the place given back).",
		}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "healthcode_booking_entries_total",
			Help: "Codes scanned at scenic spots' gates against the bookings, by outcome (entered, or refused: red, yellow, no_booking, wrong_slot, used).",
		}, []string{"outcome"}),
	}
	m.bookings.WithLabelValues("booked")
	for _, o := range bookingOutcomes {
		m.bookings.WithLabelValues(o.name)
	}
	m.entries.WithLabelValues("entered")
	for _, o := range entryOutcomes {
		m.entries.WithLabelValues(o.name)
	}
	if reg != nil {
		reg.MustRegister(m.bookings, m.cancelled, m.entries)
	}
	return m
}

// book counts a booking's outcome; other errors (bad input, a store
// failure) are not bookings refused for a reason the slot gave.
func (m *metrics) book(err error) {
	if err == nil {
		m.bookings.WithLabelValues("booked").Inc()
		return
	}
	for _, o := range bookingOutcomes {
		if errors.Is(err, o.err) {
			m.bookings.WithLabelValues(o.name).Inc()
			return
		}
	}
}

// enter counts an entry's outcome at the gate; a code that is not valid
// is the gateway's to count.
func (m *metrics) enter(err error) {
	if err == nil {
		m.entries.WithLabelValues("entered").Inc()
		return
	}
	for _, o := range entryOutcomes {
		if errors.Is(err, o.err) {
			m.entries.WithLabelValues(o.name).Inc()
			return
		}
	}
}
