package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/org"
)

// PlaceResponse is a scenic spot or service hall as anyone sees it.
type PlaceResponse struct {
	ID     string `json:"id"`
	Kind   string `json:"kind" doc:"scenic_spot or service_hall"`
	Name   string `json:"name"`
	Region string `json:"region"`
}

func placeResponse(o *org.Org) PlaceResponse {
	return PlaceResponse{ID: o.ID, Kind: string(o.Kind), Name: o.Name, Region: o.Region}
}

// PlaceList is GET /booking/places.
type PlaceList struct {
	Places []PlaceResponse `json:"places"`
}

// BookingSlotResponse is a time slot with its places.
type BookingSlotResponse struct {
	ID        string    `json:"id"`
	PlaceID   string    `json:"place_id"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Capacity  int64     `json:"capacity"`
	Booked    int64     `json:"booked"`
	Remaining int64     `json:"remaining"`
}

func bookingSlotResponse(sl *booking.Slot) BookingSlotResponse {
	return BookingSlotResponse{ID: sl.ID, PlaceID: sl.OrgID, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, Capacity: sl.Capacity,
		Booked: sl.Booked, Remaining: sl.Remaining}
}

// BookingSlotList is a place's slots.
type BookingSlotList struct {
	Place PlaceResponse         `json:"place"`
	Slots []BookingSlotResponse `json:"slots"`
}

// BookingSlotRequest is POST /gateway/v1/booking/slots.
type BookingSlotRequest struct {
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Capacity int64     `json:"capacity" doc:"places, 1 to 100000"`
}

// BookingRequest is POST /me/bookings.
type BookingRequest struct {
	SlotID   string `json:"slot_id"`
	PersonID string `json:"person_id,omitempty" doc:"a dependent; default the resident"`
}

// BookingState is where a booking stands.
type BookingState string

// Enum lists the states.
func (BookingState) Enum() []string {
	return []string{booking.Booked, booking.Entered, booking.Cancelled}
}

// BookingResponse is a resident's booking.
type BookingResponse struct {
	ID         string              `json:"id"`
	PersonID   string              `json:"person_id"`
	MaskedName string              `json:"masked_name"`
	State      BookingState        `json:"state"`
	Place      PlaceResponse       `json:"place"`
	Slot       BookingSlotResponse `json:"slot"`
	CreatedAt  time.Time           `json:"created_at"`
	EnteredAt  *time.Time          `json:"entered_at"`
}

func bookingResponse(b *booking.Booking) BookingResponse {
	return BookingResponse{ID: b.ID, PersonID: b.PersonID, MaskedName: b.MaskedName, State: BookingState(b.State), Place: placeResponse(b.Org),
		Slot: bookingSlotResponse(&b.Slot), CreatedAt: b.CreatedAt, EnteredAt: optTime(b.EnteredAt)}
}

// BookingList is GET /me/bookings.
type BookingList struct {
	Bookings []BookingResponse `json:"bookings"`
}

// EntryRequest is POST /gateway/v1/booking/entry.
type EntryRequest struct {
	Code string `json:"code" doc:"the visitor's scanned health code"`
}

// EntryResponse is an admitted visitor.
type EntryResponse struct {
	BookingID  string              `json:"booking_id"`
	MaskedName string              `json:"masked_name"`
	Color      Color               `json:"color"`
	Slot       BookingSlotResponse `json:"slot"`
	At         time.Time           `json:"at"`
}

// SlotFigures is one slot's attendance.
type SlotFigures struct {
	Slot      BookingSlotResponse `json:"slot"`
	Booked    int64               `json:"booked" doc:"open bookings, entered or not"`
	Entered   int64               `json:"entered"`
	Cancelled int64               `json:"cancelled"`
}

// HallLoginRequest is POST /gateway/v1/hall/logins: an empty object (a
// request that opens a sign-in states it, as every request that changes
// state does, rather than sending no body).
type HallLoginRequest struct{}

// AttendanceResponse is a place's figures of a day.
type AttendanceResponse struct {
	Place     PlaceResponse `json:"place"`
	Date      string        `json:"date"`
	Slots     []SlotFigures `json:"slots"`
	Capacity  int64         `json:"capacity"`
	Booked    int64         `json:"booked"`
	Entered   int64         `json:"entered"`
	Cancelled int64         `json:"cancelled"`
}

func attendanceResponse(a *booking.Attendance) AttendanceResponse {
	out := AttendanceResponse{Place: placeResponse(a.Org), Date: a.Day.Format(time.DateOnly), Slots: make([]SlotFigures, len(a.Slots)),
		Capacity: a.Capacity, Booked: a.Booked, Entered: a.Entered, Cancelled: a.Cancelled}
	for i, f := range a.Slots {
		out.Slots[i] = SlotFigures{Slot: bookingSlotResponse(&f.Slot), Booked: f.Booked, Entered: f.Entered, Cancelled: f.Cancelled}
	}
	return out
}

// HallTicketRequest is POST /gateway/v1/hall/tickets.
type HallTicketRequest struct {
	Code    string `json:"code" doc:"the health code shown at the queue machine"`
	Service string `json:"service" doc:"the service asked for, 1-30 characters"`
}

// TicketState is where a ticket stands.
type TicketState string

// Enum lists the states.
func (TicketState) Enum() []string { return []string{hall.Waiting, hall.Done} }

// HallTicketResponse is a queue ticket. line is where the holder queues:
// the service asked for, or the designated window (routed, for a yellow
// code, reasons saying why); issuer is another region's code served
// through the federation, "" for this region's residents.
type HallTicketResponse struct {
	ID         string        `json:"id"`
	Place      PlaceResponse `json:"place"`
	Service    string        `json:"service"`
	Line       string        `json:"line"`
	Number     int64         `json:"number"`
	MaskedName string        `json:"masked_name"`
	Color      Color         `json:"color"`
	Routed     bool          `json:"routed"`
	Reasons    []string      `json:"reasons"`
	Booked     bool          `json:"booked" doc:"the holder's online booking for now was used"`
	Issuer     string        `json:"issuer"`
	State      TicketState   `json:"state"`
	At         time.Time     `json:"at"`
	DoneAt     *time.Time    `json:"done_at"`
	Rating     *int          `json:"rating" doc:"1-5, once the holder rated the service"`
}

func hallTicketResponse(t *hall.Ticket) HallTicketResponse {
	out := HallTicketResponse{ID: t.ID, Place: placeResponse(t.Org), Service: t.Service, Line: t.Line, Number: t.Number, MaskedName: t.MaskedName,
		Color: color(t.Color), Routed: t.Routed, Reasons: t.Reasons, Booked: t.Booked, Issuer: t.Issuer, State: TicketState(t.State),
		At: t.At, DoneAt: optTime(t.DoneAt)}
	if t.Rating > 0 {
		r := t.Rating
		out.Rating = &r
	}
	return out
}

// HallTicketList is GET /me/hall/tickets.
type HallTicketList struct {
	Tickets []HallTicketResponse `json:"tickets"`
}

// HallPolicy is how a hall serves yellow codes: at the designated window,
// or not on site (refuse).
type HallPolicy struct {
	Yellow YellowPolicy `json:"yellow"`
	Window string       `json:"window,omitempty" doc:"the designated window, with yellow=window"`
}

// YellowPolicy is what a hall does with a yellow code.
type YellowPolicy string

// Enum lists the policies.
func (YellowPolicy) Enum() []string { return []string{hall.YellowWindow, hall.YellowRefuse} }

// LineCount is how many tickets a line gave.
type LineCount struct {
	Line  string `json:"line"`
	Count int64  `json:"count"`
}

// HallDayResponse is a hall's queue of a day.
type HallDayResponse struct {
	Place   PlaceResponse        `json:"place"`
	Date    string               `json:"date"`
	Policy  HallPolicy           `json:"policy"`
	Tickets []HallTicketResponse `json:"tickets"`
	Lines   []LineCount          `json:"lines"`
	Routed  int64                `json:"routed"`
	Booked  int64                `json:"booked"`
	Foreign int64                `json:"foreign" doc:"other regions' residents served through the federation"`
	Done    int64                `json:"done"`
	Rated   int64                `json:"rated"`
	Rating  float64              `json:"rating" doc:"the mean rating, 0 when none"`
}

func hallDayResponse(d *hall.Day) HallDayResponse {
	out := HallDayResponse{Place: placeResponse(d.Org), Date: d.Day.Format(time.DateOnly), Policy: hallPolicy(d.Policy),
		Tickets: make([]HallTicketResponse, len(d.Tickets)), Lines: make([]LineCount, len(d.Lines)), Routed: d.Routed, Booked: d.Booked,
		Foreign: d.Foreign, Done: d.Done, Rated: d.Rated, Rating: d.Rating}
	for i, t := range d.Tickets {
		out.Tickets[i] = hallTicketResponse(t)
	}
	for i, l := range d.Lines {
		out.Lines[i] = LineCount(l)
	}
	return out
}

func hallPolicy(p *hall.Policy) HallPolicy {
	return HallPolicy{Yellow: YellowPolicy(p.Yellow), Window: p.Window}
}

// RatingRequest is POST /me/hall/tickets/{id}/rating.
type RatingRequest struct {
	Stars    int    `json:"stars" doc:"1 to 5"`
	Comment  string `json:"comment,omitempty" doc:"at most 200 characters"`
	PersonID string `json:"person_id,omitempty" doc:"a dependent's ticket"`
}

// LoginState is where a terminal's sign-in stands.
type LoginState string

// Enum lists the states.
func (LoginState) Enum() []string {
	return []string{hall.LoginPending, hall.LoginConsented, hall.LoginDeclined, hall.LoginDelivered}
}

// HallLoginResponse is a terminal's sign-in request. url is what the
// terminal shows as a QR code for the resident's phone; identity is the
// resident's, in the one answer that hands it over (else null).
type HallLoginResponse struct {
	ID        string            `json:"id"`
	Place     PlaceResponse     `json:"place"`
	State     LoginState        `json:"state"`
	ExpiresAt time.Time         `json:"expires_at"`
	URL       string            `json:"url"`
	Identity  *IdentityResponse `json:"identity"`
}

// LoginAnswer is POST /me/hall/logins/{id}.
type LoginAnswer struct {
	Approve bool `json:"approve" doc:"true lets the terminal receive your name, ID number and phone once"`
}
