package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/venue"
)

// The trip card: the code page's panel and its own page (a phone login is
// enough), and the console's registry of risk areas.

func (s *Server) tripRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me/trip", s.resident(s.tripPage))
	mux.HandleFunc("GET /risk-areas", s.public(s.riskAreasPage))
	mux.HandleFunc("GET /console/risk-areas", s.console(auth.RiskAreaWrite, s.riskAreasConsole))
	mux.HandleFunc("POST /console/risk-areas", s.console(auth.RiskAreaWrite, s.publishRiskArea))
	mux.HandleFunc("POST /console/risk-areas/import", s.console(auth.RiskAreaWrite, s.importRiskAreas))
	mux.HandleFunc("POST /console/risk-areas/{id}/withdraw", s.console(auth.RiskAreaWrite, s.withdrawRiskArea))
	mux.HandleFunc("GET /console/venue-policies", s.console(auth.VenueWrite, s.venuePoliciesConsole))
	mux.HandleFunc("POST /console/venue-policies", s.console(auth.VenueWrite, s.setVenuePolicy))
	mux.HandleFunc("POST /console/venue-policies/remove", s.console(auth.VenueWrite, s.removeVenuePolicy))
}

var tripNav = []navEntry{
	{"nav.risk_areas", "/console/risk-areas", auth.RiskAreaWrite},
	{"nav.venue_policies", "/console/venue-policies", auth.VenueWrite},
}

type tripData struct {
	For  string
	Card *trip.Card
	Days int
}

func (s *Server) tripPage(w http.ResponseWriter, r *http.Request, p *page) error {
	forID := r.URL.Query().Get("for")
	c, err := s.Trip.CardFor(r.Context(), p.Resident, forID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	p.Title, p.Data = p.T("trip.title"), tripData{For: forID, Card: c, Days: int(c.Window.Hours() / 24)}
	s.render(w, r, http.StatusOK, "trip", p)
	return nil
}

type riskAreaRow struct {
	*riskarea.Area
	Active bool
}

type riskConsoleData struct {
	Areas   []riskAreaRow
	Regions []regionOption
	From    string
	Until   string
	Shape   string // the geometry typed, kept when the form is refused
	Import  *riskarea.ImportReport
	Facts   int
	DryRun  *trip.DryRun
}

func (s *Server) riskAreasConsole(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showRiskAreas(w, r, p, http.StatusOK, riskConsoleData{})
}

func (s *Server) showRiskAreas(w http.ResponseWriter, r *http.Request, p *page, status int, d riskConsoleData) error {
	areas, err := s.RiskAreas.InScope(r.Context(), p.Op)
	if err != nil {
		return err
	}
	now := s.now()
	for _, a := range areas {
		d.Areas = append(d.Areas, riskAreaRow{a, a.ActiveAt(now)})
	}
	d.Regions = s.regionOptions(p)
	loc := s.Config.Location
	if d.From == "" {
		d.From = now.In(loc).Format("2006-01-02T15:04")
		d.Until = now.In(loc).Add(7 * 24 * time.Hour).Format("2006-01-02T15:04")
	}
	p.Title, p.NavOn, p.Data = p.T("nav.risk_areas"), "/console/risk-areas", d
	s.render(w, r, status, "console_risk_areas", p)
	return nil
}

// areaForm reads the form; an empty or malformed time is left nil, so the
// service names what is missing.
func (s *Server) areaForm(r *http.Request) riskarea.Input {
	in := riskarea.Input{Region: r.PostFormValue("region"), Name: r.PostFormValue("name"), Level: r.PostFormValue("level"),
		Geometry: []byte(r.PostFormValue("geometry"))}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"from", &in.From}, {"until", &in.Until}} {
		if t, err := time.ParseInLocation("2006-01-02T15:04", r.PostFormValue(f.name), s.Config.Location); err == nil {
			*f.dst = &t
		}
	}
	return in
}

func (s *Server) publishRiskArea(w http.ResponseWriter, r *http.Request, p *page) error {
	in := s.areaForm(r)
	d := riskConsoleData{From: r.PostFormValue("from"), Until: r.PostFormValue("until"), Shape: r.PostFormValue("geometry")}
	show := func(st int) error { return s.showRiskAreas(w, r, p, st, d) }
	if r.PostFormValue("dry_run") != "" {
		dr, err := s.Trip.DryRun(r.Context(), p.Op, in)
		if err != nil {
			return s.formErr(w, r, p, err, show)
		}
		d.DryRun = dr
		return show(http.StatusOK)
	}
	pub, err := s.Trip.Publish(r.Context(), p.Op, in)
	if err != nil {
		return s.formErr(w, r, p, err, show)
	}
	s.flash(w, r, "flash.risk_area_published", pub.Area.RegionName)
	redirect(w, r, "/console/risk-areas")
	return nil
}

func (s *Server) importRiskAreas(w http.ResponseWriter, r *http.Request, p *page) error {
	body, err := uploaded(r, "file")
	d := riskConsoleData{}
	if err == nil {
		d.Import, d.Facts, err = s.Trip.Import(r.Context(), p.Op, body)
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showRiskAreas(w, r, p, st, riskConsoleData{}) })
	}
	return s.showRiskAreas(w, r, p, http.StatusOK, d)
}

func (s *Server) withdrawRiskArea(w http.ResponseWriter, r *http.Request, p *page) error {
	a, err := s.RiskAreas.Withdraw(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showRiskAreas(w, r, p, st, riskConsoleData{}) })
	}
	s.flash(w, r, "flash.risk_area_withdrawn", a.RegionName)
	redirect(w, r, "/console/risk-areas")
	return nil
}

// riskLevelKeys are the catalogue's names of the levels.
var riskLevelKeys = map[string]string{"low": "risk.level_low", "medium": "risk.level_medium", "high": "risk.level_high"}

type riskPublicData struct {
	Areas []riskAreaRow
	Map   string // SVG; "" when no area has a shape
}

// riskAreasPage is the open data for people: the areas in force now or
// announced, those with a shape drawn on a small map beside the list.
func (s *Server) riskAreasPage(w http.ResponseWriter, r *http.Request, p *page) error {
	areas, err := s.RiskAreas.List(r.Context(), riskarea.Query{})
	if err != nil {
		return err
	}
	now := s.now()
	d := riskPublicData{}
	for _, a := range areas {
		d.Areas = append(d.Areas, riskAreaRow{a, a.ActiveAt(now)})
	}
	d.Map = riskMap(p.T("risk.p_map"), areas, func(a *riskarea.Area) string {
		return strings.TrimSpace(a.RegionName + " " + a.Name + " · " + p.T(riskLevelKeys[a.Level]))
	})
	w.Header().Set("Cache-Control", "public, max-age=60")
	p.Title, p.Data = p.T("risk.p_title"), d
	s.render(w, r, http.StatusOK, "risk_areas", p)
	return nil
}

type policyRow struct {
	trip.Policy
	VenueName string // for a venue's policy
}

type policiesData struct {
	Policies []policyRow
	Kinds    []string
	Venues   []*venue.Venue
	Form     trip.Policy
}

func (s *Server) venuePoliciesConsole(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVenuePolicies(w, r, p, http.StatusOK, trip.Policy{Scope: "kind", Ref: "entertainment", RefuseStarred: true})
}

func (s *Server) showVenuePolicies(w http.ResponseWriter, r *http.Request, p *page, status int, f trip.Policy) error {
	ps, err := s.Trip.Policies(r.Context(), p.Op)
	if err != nil {
		return err
	}
	vs, err := s.Venues.List(r.Context(), p.Op, 500)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, v := range vs {
		names[v.ID] = v.Name
	}
	d := policiesData{Kinds: venue.Kinds, Venues: vs, Form: f}
	for _, x := range ps {
		d.Policies = append(d.Policies, policyRow{x, names[x.Ref]})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.venue_policies"), "/console/venue-policies", d
	s.render(w, r, status, "console_venue_policies", p)
	return nil
}

// venuePolicyForm reads the form: the policy is a kind's unless a venue is
// chosen; an untested window that is not a number is left out of range,
// so the service names it.
func venuePolicyForm(r *http.Request) trip.Policy {
	f := trip.Policy{Scope: "kind", Ref: r.PostFormValue("kind"),
		RefuseRed: r.PostFormValue("red") != "", RefuseYellow: r.PostFormValue("yellow") != "", RefuseStarred: r.PostFormValue("starred") != ""}
	if v := r.PostFormValue("venue_id"); v != "" {
		f.Scope, f.Ref = "venue", v
	}
	if h := strings.TrimSpace(r.PostFormValue("untested_hours")); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			n = -1
		}
		f.TestHours = n
	}
	return f
}

func (s *Server) setVenuePolicy(w http.ResponseWriter, r *http.Request, p *page) error {
	f := venuePolicyForm(r)
	if _, err := s.Trip.SetPolicy(r.Context(), p.Op, f); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVenuePolicies(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.venue_policy_set", "")
	redirect(w, r, "/console/venue-policies")
	return nil
}

func (s *Server) removeVenuePolicy(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := s.Trip.RemovePolicy(r.Context(), p.Op, r.PostFormValue("scope"), r.PostFormValue("ref")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVenuePolicies(w, r, p, st, trip.Policy{Scope: "kind"}) })
	}
	s.flash(w, r, "flash.venue_policy_removed", "")
	redirect(w, r, "/console/venue-policies")
	return nil
}
