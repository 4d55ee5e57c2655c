package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/trip"
)

// Risk areas (open data and the operators' registry), the carrier's stays
// and the trip card.

func (s *Server) tripRoutes() []route {
	return []route{
		{Method: "GET", Path: "/risk-areas",
			Summary: "Risk areas in force now or announced, as open data: ?region= (this region and below), ?level=low|medium|high, ?format=json|geojson (a FeatureCollection, RFC 7946; a feature's geometry is null where the area has no shape)",
			Out:     replies(ok(RiskAreaList{}), ok(RiskAreaFeatureCollection{}).in("application/geo+json")),
			h:       s.call(s.riskAreas)},
		{Method: "GET", Path: "/admin/risk-areas", Auth: "operator: riskarea.write",
			Summary: "The registry of risk areas in scope, ended and withdrawn ones too",
			Out:     replies(ok(RiskAreaList{})),
			h:       s.operator(auth.RiskAreaWrite, s.adminRiskAreas)},
		{Method: "POST", Path: "/admin/risk-areas", Auth: "operator: riskarea.write",
			Summary: "Publish a risk area {region, name?, level, from, until, geometry?}; a medium or high one appends visit.risk_area facts for persons who stayed in its city within the window; audited",
			In:      RiskAreaRequest{}, Out: replies(created(RiskAreaPublished{})),
			h: s.operator(auth.RiskAreaWrite, s.publishRiskArea)},
		{Method: "POST", Path: "/admin/risk-areas/dry-run", Auth: "operator: riskarea.write",
			Summary: "What publishing {region, name?, level, from, until, geometry?} would change: persons in scope whose colour would change; nothing is stored but an audit entry (who, the area, how many)",
			In:      RiskAreaRequest{}, Out: replies(ok(RiskAreaDryRun{})),
			h: s.operator(auth.RiskAreaWrite, s.dryRunRiskArea)},
		{Method: "POST", Path: "/admin/risk-areas/import", Auth: "operator: riskarea.write",
			Summary: "Publish risk areas from text/csv (region, name, level, from, until, and optionally geometry: a GeoJSON geometry in a quoted cell); per-line report, good lines kept",
			In:      csvUpload, Out: replies(ok(RiskAreaImportReport{})),
			h: s.operator(auth.RiskAreaWrite, s.importRiskAreas)},
		{Method: "POST", Path: "/admin/risk-areas/{id}/withdraw", Auth: "operator: riskarea.write",
			Summary: "Withdraw a risk area before its end; the record stays; audited",
			Out:     replies(ok(RiskAreaResponse{})),
			h:       s.operator(auth.RiskAreaWrite, s.withdrawRiskArea)},
		{Method: "POST", Path: "/admin/trip/stays/import", Auth: "operator: riskarea.write",
			Summary: "Import a carrier's file of stays from text/csv (phone, city, first_seen, last_seen); per-line report, good lines kept",
			In:      csvUpload, Out: replies(ok(TripStaysReport{})),
			h: s.operator(auth.RiskAreaWrite, s.importStays)},
		{Method: "POST", Path: "/gateway/v1/trip/stays", Auth: "operator: riskarea.write, or API key with trip.stays (a carrier)",
			Summary: "A carrier's stays {stays: [{phone, city, first_seen, last_seen}]}; per-line report, good lines kept",
			In:      TripStaysRequest{}, Out: replies(ok(TripStaysReport{})),
			h: s.principal(s.feedStays)},
		{Method: "POST", Path: "/admin/venue-policies", Auth: "operator: venue.write",
			Summary: "Set who a venue {venue_id} or every venue of a {kind} refuses at check-in: {refuse: [red, yellow, starred], untested_hours?}; audited",
			In:      VenuePolicyRequest{}, Out: replies(ok(VenuePolicyResponse{})),
			h: s.operator(auth.VenueWrite, s.setVenuePolicy)},
		{Method: "GET", Path: "/admin/venue-policies", Auth: "operator: venue.write",
			Summary: "The venue kinds' policies and those of the venues in scope",
			Out:     replies(ok(VenuePolicyList{})),
			h:       s.operator(auth.VenueWrite, s.venuePolicies)},
		{Method: "GET", Path: "/me/trip", Auth: "resident",
			Summary: "The trip card: cities where the phone stayed more than 4 hours in the last 14 days, each starred while it contains a medium- or high-risk area; a phone login is enough (no registration); ?person_id= a dependent's",
			Out:     replies(ok(TripCard{})),
			h:       s.resident(s.myTrip)},
	}
}

func riskAreaResponse(a *riskarea.Area, now func() bool) RiskAreaResponse {
	return RiskAreaResponse{ID: a.ID, Region: a.Region, RegionName: a.RegionName, City: a.City, Name: a.Name, Level: RiskLevel(a.Level),
		From: a.From, Until: a.Until, Active: now(), CreatedAt: a.CreatedAt, WithdrawnAt: a.WithdrawnAt}
}

func (s *Server) areaView(a *riskarea.Area) RiskAreaResponse {
	return riskAreaResponse(a, func() bool { return a.ActiveAt(s.RiskAreas.Now()) })
}

func (s *Server) areaList(areas []*riskarea.Area) RiskAreaList {
	out := RiskAreaList{Areas: make([]RiskAreaResponse, len(areas))}
	for i, a := range areas {
		out.Areas[i] = s.areaView(a)
	}
	return out
}

func (s *Server) riskAreas(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "", "json", "geojson":
	default:
		return ErrFormatUnknown.Withf("format must be json or geojson")
	}
	areas, err := s.RiskAreas.List(r.Context(), riskarea.Query{Region: q.Get("region"), Level: q.Get("level")})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	if format == "geojson" {
		return writeGeoJSON(w, riskAreasGeoJSON(areas))
	}
	writeJSON(w, http.StatusOK, s.areaList(areas))
	return nil
}

func riskAreasGeoJSON(areas []*riskarea.Area) RiskAreaFeatureCollection {
	fc := RiskAreaFeatureCollection{Type: "FeatureCollection", Features: make([]RiskAreaFeature, 0, len(areas))}
	for _, a := range areas {
		f := RiskAreaFeature{Type: "Feature", ID: a.ID, Properties: RiskAreaProperties{Region: a.Region, RegionName: a.RegionName,
			Name: a.Name, Level: RiskLevel(a.Level), From: a.From, Until: a.Until}}
		if g := a.Geometry; g != nil {
			f.Geometry = &GeoGeometry{Type: GeometryType(g.Type)}
			switch g.Type {
			case geo.TypePoint:
				f.Geometry.Coordinates = g.Point
			case geo.TypePolygon:
				f.Geometry.Coordinates = g.Polygons[0]
			default:
				f.Geometry.Coordinates = g.Polygons
			}
		}
		fc.Features = append(fc.Features, f)
	}
	return fc
}

func (s *Server) adminRiskAreas(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	areas, err := s.RiskAreas.InScope(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.areaList(areas))
	return nil
}

func areaInput(in RiskAreaRequest) (riskarea.Input, error) {
	out := riskarea.Input{Region: in.Region, Name: in.Name, Level: string(in.Level)}
	if in.Geometry != nil {
		// Written back as it came, for the service to read strictly.
		b, err := json.Marshal(in.Geometry)
		if err != nil {
			return out, fmt.Errorf("api: risk area geometry: %w", err)
		}
		out.Geometry = b
	}
	if in.From != nil && !in.From.IsZero() {
		out.From = &in.From.Time
	}
	if in.Until != nil && !in.Until.IsZero() {
		out.Until = &in.Until.Time
	}
	return out, nil
}

func (s *Server) publishRiskArea(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in RiskAreaRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ai, err := areaInput(in)
	if err != nil {
		return err
	}
	p, err := s.Trip.Publish(r.Context(), pr, ai)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, RiskAreaPublished{RiskAreaResponse: s.areaView(p.Area), Facts: p.Facts})
	return nil
}

func (s *Server) dryRunRiskArea(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in RiskAreaRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ai, err := areaInput(in)
	if err != nil {
		return err
	}
	d, err := s.Trip.DryRun(r.Context(), pr, ai)
	if err != nil {
		return err
	}
	out := RiskAreaDryRun{Area: s.areaView(d.Area), Visitors: d.Visitors, Changed: len(d.Changes), Changes: []RiskAreaChange{}}
	for i, c := range d.Changes {
		if i == 50 {
			break
		}
		out.Changes = append(out.Changes, RiskAreaChange{PersonID: c.ID, Region: c.Region, From: color(c.From), To: color(c.To), RuleID: c.RuleID})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) importRiskAreas(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	rep, facts, err := s.Trip.Import(r.Context(), pr, body)
	if err != nil {
		return err
	}
	out := RiskAreaImportReport{Lines: rep.Lines, Accepted: rep.Accepted, Facts: facts, Refused: make([]ImportRefused, len(rep.Refused))}
	for i, l := range rep.Refused {
		out.Refused[i] = ImportRefused(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) withdrawRiskArea(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	a, err := s.RiskAreas.Withdraw(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.areaView(a))
	return nil
}

func staysReport(rep *trip.FeedReport) TripStaysReport {
	out := TripStaysReport{Lines: rep.Lines, Accepted: rep.Accepted, Facts: rep.Facts, Refused: make([]ImportRefused, len(rep.Refused))}
	for i, l := range rep.Refused {
		out.Refused[i] = ImportRefused(l)
	}
	return out
}

func (s *Server) importStays(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	rep, err := s.Trip.FeedCSV(r.Context(), pr, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, staysReport(rep))
	return nil
}

func (s *Server) feedStays(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in TripStaysRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	lines := make([]trip.FeedLine, len(in.Stays))
	for i, st := range in.Stays {
		lines[i] = trip.FeedLine{Phone: st.Phone, City: st.City, FirstSeen: st.FirstSeen.Time, LastSeen: st.LastSeen.Time}
	}
	rep, err := s.Trip.Feed(r.Context(), pr, lines)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, staysReport(rep))
	return nil
}

func (s *Server) myTrip(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	c, err := s.Trip.CardFor(r.Context(), pr, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tripCard(c))
	return nil
}

func tripCard(c *trip.Card) TripCard {
	out := TripCard{PersonID: c.PersonID, MaskedName: c.MaskedName, From: c.From, To: c.To, WindowDays: int(c.Window.Hours() / 24),
		Starred: c.Starred, Cities: make([]TripCity, len(c.Cities))}
	for i, x := range c.Cities {
		out.Cities[i] = TripCity{Code: x.Code, Name: x.Name, FirstSeen: x.FirstSeen, LastSeen: x.LastSeen, Starred: x.Starred}
	}
	return out
}

func venuePolicy(p *trip.Policy) VenuePolicyResponse {
	out := VenuePolicyResponse{Scope: p.Scope, Ref: p.Ref, Refuse: []string{}, UntestedHours: p.TestHours, UpdatedAt: p.UpdatedAt}
	for _, r := range []struct {
		on   bool
		name string
	}{{p.RefuseRed, trip.RefuseRed}, {p.RefuseYellow, trip.RefuseYellow}, {p.RefuseStarred, trip.RefuseStarred}} {
		if r.on {
			out.Refuse = append(out.Refuse, r.name)
		}
	}
	return out
}

func (s *Server) setVenuePolicy(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in VenuePolicyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p := trip.Policy{TestHours: in.UntestedHours}
	switch {
	case in.VenueID != "" && in.Kind == "":
		p.Scope, p.Ref = "venue", in.VenueID
	case in.Kind != "" && in.VenueID == "":
		p.Scope, p.Ref = "kind", in.Kind
	}
	for _, x := range in.Refuse {
		switch x {
		case trip.RefuseRed:
			p.RefuseRed = true
		case trip.RefuseYellow:
			p.RefuseYellow = true
		case trip.RefuseStarred:
			p.RefuseStarred = true
		default:
			return trip.ErrPolicyRefuse.Withf("refuse lists red, yellow or starred, not %q", x)
		}
	}
	out, err := s.Trip.SetPolicy(r.Context(), pr, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, venuePolicy(out))
	return nil
}

func (s *Server) venuePolicies(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	ps, err := s.Trip.Policies(r.Context(), pr)
	if err != nil {
		return err
	}
	out := VenuePolicyList{Policies: make([]VenuePolicyResponse, len(ps))}
	for i := range ps {
		out.Policies[i] = venuePolicy(&ps[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
