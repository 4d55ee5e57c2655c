package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/venue"
)

// VenueRequest is POST /admin/venues.
type VenueRequest struct {
	Name     string `json:"name"`
	Kind     string `json:"kind" doc:"restaurant, supermarket, market, mall, office, factory, school, hospital, ..."`
	Address  string `json:"address,omitempty"`
	Region   string `json:"region"`
	UnitUSCC string `json:"unit_uscc,omitempty" doc:"unified social credit code of the unit that runs it"`
	UnitName string `json:"unit_name,omitempty"`
}

// VenueResponse is a venue (场所) with the links its staff need.
type VenueResponse struct {
	ID         string    `json:"id"`
	UnitID     string    `json:"unit_id,omitempty"`
	UnitUSCC   string    `json:"unit_uscc,omitempty"`
	UnitName   string    `json:"unit_name,omitempty"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Address    string    `json:"address"`
	Region     string    `json:"region"`
	Token      string    `json:"venue_token" doc:"what the venue's QR code holds; rotating it revokes the old poster"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
	CheckinURL string    `json:"checkin_url" doc:"the check-in page the QR code opens"`
	PosterURL  string    `json:"poster_url" doc:"the QR code as a PNG"`
}

func (s *Server) venueResponse(v *venue.Venue) VenueResponse {
	return VenueResponse{ID: v.ID, UnitID: v.UnitID, UnitUSCC: v.UnitUSCC, UnitName: v.UnitName, Name: v.Name, Kind: v.Kind,
		Address: v.Address, Region: v.Region, Token: v.Token, Disabled: v.Disabled, CreatedAt: v.CreatedAt,
		CheckinURL: s.CheckinURL(v.Token), PosterURL: Prefix + "/venues/" + v.Token + "/poster.png"}
}

// VenueListResponse is GET /admin/venues.
type VenueListResponse struct {
	Venues []VenueResponse `json:"venues"`
}
