package web

import (
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/venue"
)

func (s *Server) venueRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /venues/{token}/poster", s.public(s.posterPage))
}

// checkinURL is what a venue's QR holds: the check-in page of its token.
func (s *Server) checkinURL(token string) string {
	return strings.TrimRight(s.Config.PublicURL, "/") + "/c/" + token
}

type posterData struct {
	Venue      *venue.Venue
	RegionName string
	QR         string
	URL        string
}

// posterPage is the printable A4 poster of a venue code. The token is on
// the poster anyway, so the page is public; a replaced token has none.
func (s *Server) posterPage(w http.ResponseWriter, r *http.Request, p *page) error {
	token := r.PathValue("token")
	v, revoked, err := s.Venues.ByToken(r.Context(), token)
	if err != nil {
		return err
	}
	if revoked {
		return venue.ErrPosterRevoked
	}
	d := posterData{Venue: v, RegionName: s.Regions.FullName(v.Region), URL: s.checkinURL(token)}
	if d.QR, err = qrSVG(d.URL, qrcode.Medium, p.T("poster.qr_label", v.Name)); err != nil {
		return err
	}
	p.Title, p.Body, p.Data = v.Name+" · "+p.T("poster.title"), "print", d
	s.render(w, r, http.StatusOK, "poster", p)
	return nil
}

type venuesData struct {
	Venues  []venueRow
	Kinds   []string
	Regions []regionOption
	Form    venue.Input
}

type venueRow struct {
	*venue.Venue
	RegionName string
}

type regionOption struct {
	Code, Name string
}

func (s *Server) regionOptions(p *page) []regionOption {
	var out []regionOption
	for _, r := range s.scopeRegions(p.Op) {
		out = append(out, regionOption{r.Code, r.Name})
	}
	return out
}

func (s *Server) venuesPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVenues(w, r, p, http.StatusOK, venue.Input{Kind: "restaurant", Region: p.Op.Region})
}

func (s *Server) showVenues(w http.ResponseWriter, r *http.Request, p *page, status int, f venue.Input) error {
	vs, err := s.Venues.List(r.Context(), p.Op, 500)
	if err != nil {
		return err
	}
	d := venuesData{Kinds: venue.Kinds, Regions: s.regionOptions(p), Form: f}
	for _, v := range vs {
		d.Venues = append(d.Venues, venueRow{v, s.regionName(v.Region)})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.venues"), "/console/venues", d
	s.render(w, r, status, "console_venues", p)
	return nil
}

func (s *Server) createVenue(w http.ResponseWriter, r *http.Request, p *page) error {
	f := venue.Input{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), Address: r.PostFormValue("address"),
		Region: r.PostFormValue("region"), UnitUSCC: strings.TrimSpace(r.PostFormValue("unit_uscc")), UnitName: r.PostFormValue("unit_name")}
	v, err := s.Venues.Create(r.Context(), p.Op, f)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVenues(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.venue_created", v.Name)
	redirect(w, r, "/console/venues/"+v.ID)
	return nil
}

// venueData is a venue's page: its code and how many checked in, by hour.
type venueData struct {
	Venue      *venue.Venue
	RegionName string
	URL        string
	QR         string
	Counts     *venueCounts
}

func (s *Server) venuePage(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := s.Venues.Get(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := venueData{Venue: v, RegionName: s.Regions.FullName(v.Region), URL: s.checkinURL(v.Token)}
	if d.QR, err = qrSVG(d.URL, qrcode.Medium, p.T("poster.qr_label", v.Name)); err != nil {
		return err
	}
	// Check-in counts are statistics: shown to roles that may read them.
	if p.Op.Can(auth.StatsRead) {
		if d.Counts, err = s.venueCounts(r, p, v); err != nil {
			return err
		}
	}
	p.Title, p.NavOn, p.Data = v.Name, "/console/venues", d
	s.render(w, r, http.StatusOK, "console_venue", p)
	return nil
}

func (s *Server) rotateVenue(w http.ResponseWriter, r *http.Request, p *page) error {
	v, err := s.Venues.RotateToken(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.flash(w, r, "flash.venue_rotated", "")
	redirect(w, r, "/console/venues/"+v.ID)
	return nil
}
