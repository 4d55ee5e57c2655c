package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/checkin"
)

// CheckinRequest is POST /checkins: a resident scanning a venue code
// (场所码), alone or with dependents (同行人员).
type CheckinRequest struct {
	VenueToken string   `json:"venue_token" doc:"the token the venue's QR code holds"`
	Dependents []string `json:"dependents,omitempty" doc:"ids of the resident's own dependents checked in together"`
}

// CheckinResponse is a durable check-in, with the colours to show the staff.
type CheckinResponse struct {
	VenueID     string               `json:"venue_id"`
	VenueName   string               `json:"venue_name"`
	CheckedInAt time.Time            `json:"checked_in_at"`
	Color       Color                `json:"color"`
	Dependents  []DependentCheckedIn `json:"dependents,omitempty"`
}

// DependentCheckedIn is a dependent checked in with the resident.
type DependentCheckedIn struct {
	ID         string `json:"id"`
	MaskedName string `json:"masked_name"`
	Color      Color  `json:"color"`
}

func checkinResponse(r *checkin.Result) CheckinResponse {
	out := CheckinResponse{VenueID: r.VenueID, VenueName: r.VenueName, CheckedInAt: r.CheckedInAt, Color: color(r.Color)}
	for _, d := range r.Dependents {
		out.Dependents = append(out.Dependents, DependentCheckedIn{ID: d.ID, MaskedName: d.MaskedName, Color: color(d.Color)})
	}
	return out
}

// VenueCountsResponse is what a venue may see: check-ins per hour, never who.
type VenueCountsResponse struct {
	VenueID   string      `json:"venue_id"`
	VenueName string      `json:"venue_name"`
	From      time.Time   `json:"from"`
	To        time.Time   `json:"to"`
	Total     int64       `json:"total"`
	Hours     []HourCount `json:"hours"`
	// Refused counts entries the venue's policy turned away, by reason
	// (red, yellow, starred, untested): counts, never who.
	Refused map[string]int64 `json:"refused"`
}

// HourCount is the check-ins of one hour.
type HourCount struct {
	Hour  time.Time `json:"hour" doc:"the start of the hour"`
	Count int64     `json:"count"`
}

func venueCounts(c *checkin.Counts) VenueCountsResponse {
	out := VenueCountsResponse{VenueID: c.VenueID, VenueName: c.VenueName, From: c.From, To: c.To, Total: c.Total,
		Hours: make([]HourCount, len(c.Hours)), Refused: c.Refused}
	if out.Refused == nil {
		out.Refused = map[string]int64{}
	}
	for i, h := range c.Hours {
		out.Hours[i] = HourCount(h)
	}
	return out
}
