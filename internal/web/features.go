package web

import (
	"net/http"
	"time"
)

// This file is where the pages of features built on the foundation meet
// the console: their menu entries, routes and dashboard panels.

func (s *Server) navList() []navEntry {
	// The feature pages go after persons and facts, before the tables.
	out := append([]navEntry{}, navEntries[:3]...)
	out = append(out, statusNav...)
	out = append(out, checkinNav...)
	out = append(out, natNav...)
	out = append(out, vaccinationNav...)
	out = append(out, tripNav...)
	out = append(out, gatewayNav...)
	out = append(out, dailyConsoleNav...)
	out = append(out, federationNav...)
	out = append(out, entryNav...)
	out = append(out, closedLoopNav...)
	out = append(out, gridNav...)
	return append(out, navEntries[3:]...)
}

func (s *Server) moreList() []navItem {
	out := append(append([]navItem{}, moreEntries...), statusMore...)
	return append(out, navItem{"more.tests", "/me/tests"}, navItem{"more.vaccination", "/me/vaccination"}, navItem{"more.trip", "/me/trip"},
		navItem{"more.platforms", "/me/platforms"}, navItem{"more.visits", "/me/visits"}, navItem{"more.daily", "/me/daily"})
}

func (s *Server) featureConsoleRoutes(mux *http.ServeMux) {
	s.federationRoutes(mux)
	s.entryConsoleRoutes(mux)
	s.closedLoopRoutes(mux)
	s.gridConsoleRoutes(mux)
	s.dailyConsoleRoutes(mux)
}

func (s *Server) dashboardPanels(r *http.Request, p *page, d *dashboardData) error {
	if err := s.colourPanel(r, p, d); err != nil {
		return err
	}
	ver, err := s.verificationsPerHour(r, p, hours(s.now(), s.Config.Location, 24)[0])
	if err != nil {
		return err
	}
	if err := s.activityPanel(r, p, d, hourSeries{Name: p.T("dash.verifications"), Color: chartBlue, Counts: ver}); err != nil {
		return err
	}
	if err := s.testsPanel(r, p, d); err != nil {
		return err
	}
	if err := s.registrationPanel(r, p, d); err != nil {
		return err
	}
	return s.checkpointTiles(r, p, d)
}

// venueCounts is how many checked in at a venue, by hour.
type venueCounts struct {
	Chart string
	Total int64
}

// statusView is why a person has their colour, in the reader's language.
type statusView struct {
	Color    string
	Rule     string
	Reason   string
	Advice   string
	Updated  time.Time
	NextEval time.Time
}
