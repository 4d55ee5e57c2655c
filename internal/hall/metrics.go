package hall

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the halls' queue tickets, terminal sign-ins and ratings.
// Series of every outcome exist from the start, so a dashboard shows 0
// rather than nothing.
type metrics struct {
	number, routed, refusedRed, refusedYellow prometheus.Counter
	logins                                    map[string]prometheus.Counter // by state reached
	ratings                                   [6]prometheus.Counter         // by stars, 1 to 5
}

func newMetrics(reg prometheus.Registerer) *metrics {
	tickets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_hall_tickets_total",
		Help: "Queue tickets asked for at service halls' machines, by outcome (number: a green code's number in its line, routed: a yellow code's number at the designated window, refused_red, refused_yellow: by the hall's policy).",
	}, []string{"outcome"})
	logins := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_hall_logins_total",
		Help: "Sign-ins at hall terminals by scanning, by step (started at the terminal, consented or declined by the resident, delivered: the identity handed to the terminal).",
	}, []string{"outcome"})
	ratings := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "healthcode_hall_ratings_total",
		Help: "Ratings of the service of served tickets, by stars (1 to 5).",
	}, []string{"stars"})
	m := &metrics{
		number: tickets.WithLabelValues("number"), routed: tickets.WithLabelValues("routed"),
		refusedRed: tickets.WithLabelValues("refused_red"), refusedYellow: tickets.WithLabelValues("refused_yellow"),
		logins: map[string]prometheus.Counter{},
	}
	for _, st := range []string{"started", LoginConsented, LoginDeclined, LoginDelivered} {
		m.logins[st] = logins.WithLabelValues(st)
	}
	for i := 1; i <= 5; i++ {
		m.ratings[i] = ratings.WithLabelValues(strconv.Itoa(i))
	}
	if reg != nil {
		reg.MustRegister(tickets, logins, ratings)
	}
	return m
}
