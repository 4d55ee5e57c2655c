package api

import "time"

// The request and response bodies of closed-loop management's isolation
// sites, transfers of positives and 12345 hotline tickets (/api/v1/admin/).

// IsolationSiteRequest is POST /admin/isolation/sites.
type IsolationSiteRequest struct {
	Kind    string `json:"kind" doc:"hotel, hospital (designated) or home (home isolation, managed as a site)"`
	Name    string `json:"name" doc:"1-100 characters"`
	Address string `json:"address,omitempty" doc:"at most 200 characters"`
	Region  string `json:"region,omitempty" doc:"region code inside the operator's scope; default the operator's region"`
}

// IsolationRoomRequest is POST /admin/isolation/sites/{id}/rooms.
type IsolationRoomRequest struct {
	Number   string `json:"number" doc:"the room's number, 1-20 characters, unique at the site"`
	Capacity int64  `json:"capacity" doc:"persons, 1-20"`
}

// IsolationRoomResponse is a room.
type IsolationRoomResponse struct {
	ID       string `json:"id"`
	Number   string `json:"number"`
	Capacity int64  `json:"capacity"`
	Occupied int64  `json:"occupied"`
}

// IsolationSiteResponse is a site with its rooms.
type IsolationSiteResponse struct {
	ID        string                  `json:"id"`
	Kind      string                  `json:"kind"`
	Name      string                  `json:"name"`
	Address   string                  `json:"address"`
	Region    string                  `json:"region"`
	Capacity  int64                   `json:"capacity" doc:"places over the rooms"`
	Occupied  int64                   `json:"occupied"`
	Rooms     []IsolationRoomResponse `json:"rooms"`
	CreatedAt time.Time               `json:"created_at"`
}

// IsolationSiteList is GET /admin/isolation/sites.
type IsolationSiteList struct {
	Sites []IsolationSiteResponse `json:"sites"`
}

// AdmissionRequest is POST /admin/isolation/stays: one of code,
// id_type+id_number or person_id.
type AdmissionRequest struct {
	Site     string     `json:"site_id"`
	Room     string     `json:"room_id,omitempty" doc:"required at a hotel or hospital"`
	Code     string     `json:"code,omitempty" doc:"the person's scanned health code or care code"`
	IDType   string     `json:"id_type,omitempty" doc:"default resident_id"`
	IDNumber string     `json:"id_number,omitempty" doc:"the identity number typed at the desk (audited)"`
	PersonID string     `json:"person_id,omitempty"`
	Reason   string     `json:"reason" doc:"case, close_contact, secondary_contact, inbound, risk_area or other"`
	Days     int        `json:"days" doc:"planned length, 1-28 days: the isolation fact's until"`
	At       *timeField `json:"at,omitempty" doc:"when the person was admitted, if not now (at most 7 days back)"`
}

// ReadingResponse is a temperature reading.
type ReadingResponse struct {
	Day     string    `json:"day" doc:"YYYY-MM-DD in the region's zone"`
	Slot    string    `json:"slot" doc:"am (before 14:00) or pm"`
	Celsius float64   `json:"celsius"`
	Fever   bool      `json:"fever" doc:"37.3 °C or more"`
	At      time.Time `json:"at"`
}

// StayResponse is a stay at a site.
type StayResponse struct {
	ID         string            `json:"id"`
	PersonID   string            `json:"person_id"`
	MaskedName string            `json:"masked_name"`
	Site       IsolationPlace    `json:"site"`
	Room       string            `json:"room" doc:"the room's number; empty for home isolation without rooms"`
	Reason     string            `json:"reason"`
	Method     string            `json:"method" doc:"how the person was identified: code, id_number or person_id"`
	AdmittedAt time.Time         `json:"admitted_at"`
	Until      time.Time         `json:"until" doc:"planned end of the isolation"`
	EndedAt    *time.Time        `json:"ended_at" doc:"discharge or release; null while at the site"`
	EndKind    string            `json:"end_kind" doc:"discharged or released; empty while at the site"`
	EndNote    string            `json:"end_note"`
	Readings   []ReadingResponse `json:"readings" doc:"empty in lists"`
}

// IsolationPlace names a site.
type IsolationPlace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// StayList is GET /admin/isolation/stays.
type StayList struct {
	Stays []StayResponse `json:"stays"`
}

// StayEndRequest is a discharge (kind to_hospital|to_home) or a release
// (kind isolation_ended|recovered|excluded).
type StayEndRequest struct {
	Kind string     `json:"kind"`
	Note string     `json:"note,omitempty" doc:"at most 200 characters"`
	At   *timeField `json:"at,omitempty" doc:"if not now; not before the admission"`
}

// ReadingRequest is POST /admin/isolation/stays/{id}/readings.
type ReadingRequest struct {
	Celsius float64    `json:"celsius" doc:"34.0-43.0"`
	At      *timeField `json:"at,omitempty" doc:"when it was taken, if not now; its half-day is the slot"`
}

// MissingReading is a half-day without a reading.
type MissingReading struct {
	StayID     string    `json:"stay_id"`
	PersonID   string    `json:"person_id"`
	MaskedName string    `json:"masked_name"`
	Site       string    `json:"site"`
	Room       string    `json:"room"`
	Day        string    `json:"day"`
	Slot       string    `json:"slot"`
	DueBy      time.Time `json:"due_by"`
}

// MissingReadingList is GET /admin/isolation/readings/missing.
type MissingReadingList struct {
	Missing []MissingReading `json:"missing"`
}

// PositiveTransferRequest is POST /admin/transfers: one of code, id_type+id_number
// or person_id.
type PositiveTransferRequest struct {
	Code     string     `json:"code,omitempty"`
	IDType   string     `json:"id_type,omitempty"`
	IDNumber string     `json:"id_number,omitempty"`
	PersonID string     `json:"person_id,omitempty"`
	Origin   string     `json:"origin" doc:"where the person is picked up, 1-200 characters"`
	Dest     string     `json:"dest_site_id" doc:"the designated hospital or isolation site"`
	Vehicle  string     `json:"vehicle" doc:"the vehicle (plate or call sign), 1-50 characters"`
	Note     string     `json:"note,omitempty"`
	At       *timeField `json:"at,omitempty"`
}

// PositiveTransferStepRequest is POST /admin/transfers/{id}/pickup and /arrival.
type PositiveTransferStepRequest struct {
	Note string     `json:"note,omitempty"`
	At   *timeField `json:"at,omitempty" doc:"if not now; not before the previous step"`
}

// PositiveTransferStep is a step of a trail.
type PositiveTransferStep struct {
	Step string    `json:"step" doc:"dispatched, picked_up or arrived"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note"`
}

// PositiveTransferResponse is a transfer with its trail.
type PositiveTransferResponse struct {
	ID         string                 `json:"id"`
	PersonID   string                 `json:"person_id"`
	MaskedName string                 `json:"masked_name"`
	Origin     string                 `json:"origin"`
	Dest       IsolationPlace         `json:"dest"`
	Vehicle    string                 `json:"vehicle"`
	State      string                 `json:"state" doc:"the last step"`
	Trail      []PositiveTransferStep `json:"trail" doc:"the steps in order"`
}

// PositiveTransferList is GET /admin/transfers.
type PositiveTransferList struct {
	Transfers []PositiveTransferResponse `json:"transfers"`
}

// HotlineTicketRequest is POST /admin/hotline/tickets.
type HotlineTicketRequest struct {
	Category string `json:"category" doc:"wrong_color, wrong_identity or cannot_register"`
	Summary  string `json:"summary" doc:"what the caller said, 1-500 characters"`
	PersonID string `json:"person_id,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty" doc:"the caller's identity number (audited); for cannot_register it may be nobody's"`
	Region   string `json:"region,omitempty" doc:"where to route a ticket about someone not registered"`
}

// HotlineCorrection is what a ticket's correction changed, masked.
type HotlineCorrection struct {
	Fields []string          `json:"fields"`
	Before map[string]string `json:"before"`
	After  map[string]string `json:"after"`
	At     time.Time         `json:"at"`
	By     string            `json:"by"`
}

// HotlineTicketResponse is a hotline ticket.
type HotlineTicketResponse struct {
	ID         string             `json:"id"`
	Category   string             `json:"category"`
	PersonID   string             `json:"person_id" doc:"empty for someone not registered"`
	MaskedName string             `json:"masked_name"`
	Region     string             `json:"region" doc:"where the ticket is routed"`
	Summary    string             `json:"summary"`
	State      string             `json:"state" doc:"open or closed"`
	Overdue    bool               `json:"overdue" doc:"open past its deadline"`
	OpenedAt   time.Time          `json:"opened_at"`
	Deadline   time.Time          `json:"deadline"`
	AppealID   string             `json:"appeal_id" doc:"the linked appeal; empty if none"`
	Correction *HotlineCorrection `json:"correction" doc:"the correction of the person's record; null if none"`
	ClosedAt   *time.Time         `json:"closed_at"`
	Resolution string             `json:"resolution"`
}

// HotlineTicketList is GET /admin/hotline/tickets.
type HotlineTicketList struct {
	Tickets []HotlineTicketResponse `json:"tickets"`
}

// HotlineAppealRequest is POST /admin/hotline/tickets/{id}/appeal.
type HotlineAppealRequest struct {
	AppealID string `json:"appeal_id,omitempty" doc:"default the person's newest appeal"`
}

// HotlineCorrectionRequest is POST /admin/hotline/tickets/{id}/correction.
type HotlineCorrectionRequest struct {
	Name     string `json:"name,omitempty"`
	IDType   string `json:"id_type,omitempty"`
	IDNumber string `json:"id_number,omitempty"`
	Reason   string `json:"reason,omitempty" doc:"default the ticket"`
}

// HotlineCloseRequest is POST /admin/hotline/tickets/{id}/close.
type HotlineCloseRequest struct {
	Resolution string `json:"resolution" doc:"how it was resolved, 1-500 characters"`
}
