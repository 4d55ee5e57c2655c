package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/transport"
)

// VehicleRequest registers a bus or a taxi.
type VehicleRequest struct {
	Plate string `json:"plate" doc:"plate number, at most 20 characters"`
	Route string `json:"route,omitempty" doc:"a bus's line, at most 50 characters"`
}

// VehicleResponse is a vehicle with the code passengers scan to ride.
type VehicleResponse struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind" doc:"bus (a bus operator's) or taxi (a taxi company's)"`
	Plate      string     `json:"plate"`
	Route      string     `json:"route"`
	VenueID    string     `json:"venue_id" doc:"the vehicle's venue (kind vehicle): a ride is a check-in there"`
	VenueToken string     `json:"venue_token" doc:"the venue code passengers scan (POST /checkins)"`
	CheckinURL string     `json:"checkin_url"`
	PosterURL  string     `json:"poster_url" doc:"the QR code as a PNG, to print in the vehicle"`
	Rides      int64      `json:"rides" doc:"check-ins on the day asked for (0 for a new vehicle)"`
	Driver     string     `json:"driver" doc:"the driver on duty, masked; empty when none is bound"`
	DriverAt   *time.Time `json:"driver_at" doc:"when the driver was bound"`
	CreatedAt  time.Time  `json:"created_at"`
}

// VehicleListResponse is a company's vehicles and the rides of a day.
type VehicleListResponse struct {
	Date     string            `json:"date"`
	Rides    int64             `json:"rides"`
	Vehicles []VehicleResponse `json:"vehicles"`
}

// StationCheckRequest is a passenger at a station's gate: the code (or an
// ID number typed at the desk) and the temperature read with it.
type StationCheckRequest struct {
	Code        string   `json:"code,omitempty"`
	IDType      string   `json:"id_type,omitempty"`
	IDNumber    string   `json:"id_number,omitempty"`
	Temperature *float64 `json:"temperature" doc:"°C; 37.3 or more refuses with the reason fever"`
}

// DriverRequest is a driver's code (or ID number) scanned at the start of a
// shift.
type DriverRequest struct {
	Code     string `json:"code,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
}

// DriverDutyResponse is a driver's on-duty check: bound to the vehicle when
// green, else refused with the reasons.
type DriverDutyResponse struct {
	Vehicle    VehicleResponse `json:"vehicle"`
	MaskedName string          `json:"masked_name"`
	Color      Color           `json:"color"`
	Admitted   bool            `json:"admitted"`
	Reasons    []string        `json:"reasons"`
	Bound      bool            `json:"bound" doc:"the driver is now the vehicle's driver on duty"`
}

func (s *Server) vehicleResponse(v *transport.Vehicle) VehicleResponse {
	var at *time.Time
	if !v.DriverAt.IsZero() {
		at = &v.DriverAt
	}
	return VehicleResponse{Driver: v.Driver, DriverAt: at, ID: v.ID, Kind: v.Kind, Plate: v.Plate, Route: v.Route, VenueID: v.VenueID, VenueToken: v.Token,
		CheckinURL: s.CheckinURL(v.Token), PosterURL: Prefix + "/venues/" + v.Token + "/poster.png", Rides: v.Rides, CreatedAt: v.CreatedAt}
}
