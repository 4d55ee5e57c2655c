package api

import (
	"net/http"
	"strconv"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/hall"
)

// The booking and service-hall scenarios: slots at scenic spots and halls
// booked by residents, entry at a scenic spot's gate by the code against
// the booking, a hall's queue machine deciding by the colour, sign-in at a
// hall terminal with the resident's consent, and ratings.
func (s *Server) visitRoutes() []route {
	const slotsAuth = "scenic spot or service hall API key with booking.slots, or its unit account"
	const queueAuth = "service hall API key with hall.queue, or its unit account"
	const terminalAuth = "service hall API key with hall.terminal, or its unit account"
	return []route{
		{Method: "GET", Path: "/booking/places",
			Summary: "The scenic spots and service halls residents book",
			Out:     replies(ok(PlaceList{})),
			h:       s.call(s.bookingPlaces)},
		{Method: "GET", Path: "/booking/places/{id}/slots",
			Summary: "A scenic spot's or hall's slots that have not ended, from today for ?days= (1-14, default 7), with the places left",
			Out:     replies(ok(BookingSlotList{})),
			h:       s.call(s.bookingSlots)},
		{Method: "POST", Path: "/me/bookings", Auth: "resident",
			Summary: "Book a place in a slot {slot_id, person_id?} (a dependent): never more bookings than places under any concurrency; 409 slot_full, 409 already_booked, 409 slot_past",
			In:      BookingRequest{}, Out: replies(created(BookingResponse{})),
			h: s.resident(s.book)},
		{Method: "GET", Path: "/me/bookings", Auth: "resident",
			Summary: "The resident's (or a dependent's, ?person_id=) bookings, latest slot first",
			Out:     replies(ok(BookingList{})),
			h:       s.resident(s.myBookings)},
		{Method: "DELETE", Path: "/me/bookings/{id}", Auth: "resident",
			Summary: "Cancel an open booking (a dependent's: ?person_id=); the place is free again; 409 booking_closed",
			Out:     replies(ok(BookingResponse{})),
			h:       s.resident(s.cancelBooking)},
		{Method: "POST", Path: "/gateway/v1/booking/slots", Auth: slotsAuth,
			Summary: "Open a slot {starts_at, ends_at, capacity}: not ended, at most 24 hours long, 1-100,000 places; 400 booking_slot_invalid",
			In:      BookingSlotRequest{}, Out: replies(created(BookingSlotResponse{})),
			h: s.principal(s.createBookingSlot)},
		{Method: "GET", Path: "/gateway/v1/booking/attendance", Auth: slotsAuth,
			Summary: "The place's slots of ?date (default today) with places, bookings, entries and cancellations",
			Out:     replies(ok(AttendanceResponse{})),
			h:       s.principal(s.attendance)},
		{Method: "POST", Path: "/gateway/v1/booking/entry", Auth: "scenic spot API key with booking.entry and scan, or its unit account",
			Summary: "Admit a visitor by their scanned code against their booking {code}: green with a booking for now (from 30 minutes before its slot) enters once; 422 code_expired/code_forged/..., 409 entry_refused_red, entry_refused_yellow, entry_no_booking, entry_wrong_slot, entry_used",
			In:      EntryRequest{}, Out: replies(ok(EntryResponse{})),
			h: s.principal(s.enter)},
		{Method: "GET", Path: "/admin/orgs/{id}/booking/attendance", Auth: "operator: org.write or stats.read",
			Summary: "A scenic spot's or hall's attendance of ?date as it sees it",
			Out:     replies(ok(AttendanceResponse{})),
			h:       s.principal(s.adminAttendance)},

		{Method: "POST", Path: "/gateway/v1/hall/tickets", Auth: "service hall API key with hall.queue and scan, or its unit account",
			Summary: "A queue ticket by the code shown at the machine {code, service}: green a number for the service, yellow the designated window (routed, color_yellow) or 409 queue_refused_yellow by the hall's policy, red 409 queue_refused_red; another region's code served when it verifies through the federation (issuer), else 422 code_issuer_unknown; a booking for now is used (booked)",
			In:      HallTicketRequest{}, Out: replies(created(HallTicketResponse{})),
			h: s.principal(s.takeTicket)},
		{Method: "GET", Path: "/gateway/v1/hall/tickets", Auth: queueAuth,
			Summary: "The hall's tickets of ?date (default today) in the order given, with counts per line, routed, booked, other regions', served, and ratings",
			Out:     replies(ok(HallDayResponse{})),
			h:       s.principal(s.hallDay)},
		{Method: "POST", Path: "/gateway/v1/hall/tickets/{id}/done", Auth: queueAuth,
			Summary: "Mark a ticket served: its holder may rate the service then; 409 ticket_done",
			Out:     replies(ok(HallTicketResponse{})),
			h:       s.principal(s.finishTicket)},
		{Method: "GET", Path: "/gateway/v1/hall/policy", Auth: queueAuth,
			Summary: "How the hall serves yellow codes",
			Out:     replies(ok(HallPolicy{})),
			h:       s.principal(s.hallPolicy)},
		{Method: "PUT", Path: "/gateway/v1/hall/policy", Auth: queueAuth,
			Summary: "Set how the hall serves yellow codes {yellow: window|refuse, window?}",
			In:      HallPolicy{}, Out: replies(ok(HallPolicy{})),
			h: s.principal(s.setHallPolicy)},
		{Method: "POST", Path: "/gateway/v1/hall/logins", Auth: terminalAuth,
			Summary: "Open a sign-in at this terminal → {id, url}: the terminal shows url as a QR code; the resident consents on their phone",
			In:      HallLoginRequest{}, Out: replies(created(HallLoginResponse{})),
			h: s.principal(s.startLogin)},
		{Method: "GET", Path: "/gateway/v1/hall/logins/{id}", Auth: terminalAuth,
			Summary: "The terminal's sign-in: pending until the resident answers; then, once, the resident's identity (audited as a person read); 409 login_declined, 409 login_used",
			Out:     replies(ok(HallLoginResponse{})),
			h:       s.principal(s.collectLogin)},
		{Method: "GET", Path: "/me/hall/logins/{id}", Auth: "resident",
			Summary: "A hall terminal's sign-in request as the resident who scanned it sees it",
			Out:     replies(ok(HallLoginResponse{})),
			h:       s.resident(s.loginRequest)},
		{Method: "POST", Path: "/me/hall/logins/{id}", Auth: "resident",
			Summary: "Answer a terminal's sign-in request {approve}: approve lets it receive the resident's identity once; 409 login_decided",
			In:      LoginAnswer{}, Out: replies(ok(HallLoginResponse{})),
			h: s.resident(s.answerLogin)},
		{Method: "GET", Path: "/me/hall/tickets", Auth: "resident",
			Summary: "The resident's (or a dependent's, ?person_id=) hall tickets, newest first",
			Out:     replies(ok(HallTicketList{})),
			h:       s.resident(s.myTickets)},
		{Method: "POST", Path: "/me/hall/tickets/{id}/rating", Auth: "resident",
			Summary: "Rate a served ticket's service {stars: 1-5, comment?, person_id?}, once: 409 ticket_not_served, 409 already_rated",
			In:      RatingRequest{}, Out: replies(ok(HallTicketResponse{})),
			h: s.resident(s.rateTicket)},
		{Method: "GET", Path: "/admin/orgs/{id}/hall/tickets", Auth: "operator: org.write or stats.read",
			Summary: "A hall's tickets of ?date as it sees them",
			Out:     replies(ok(HallDayResponse{})),
			h:       s.principal(s.adminHallDay)},
	}
}

func (s *Server) bookingPlaces(w http.ResponseWriter, r *http.Request) error {
	os, err := s.Booking.Places(r.Context())
	if err != nil {
		return err
	}
	out := PlaceList{Places: make([]PlaceResponse, len(os))}
	for i, o := range os {
		out.Places[i] = placeResponse(o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) bookingSlots(w http.ResponseWriter, r *http.Request) error {
	days := 7
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 14 {
			return ErrLimitInvalid.Withf("days must be 1-14")
		}
		days = n
	}
	o, err := s.Booking.Place(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	sls, err := s.Booking.Slots(r.Context(), o.ID, days)
	if err != nil {
		return err
	}
	out := BookingSlotList{Place: placeResponse(o), Slots: make([]BookingSlotResponse, len(sls))}
	for i, sl := range sls {
		out.Slots[i] = bookingSlotResponse(sl)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) book(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in BookingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	b, err := s.Booking.Book(r.Context(), p, in.PersonID, in.SlotID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, bookingResponse(b))
	return nil
}

func (s *Server) myBookings(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	bs, err := s.Booking.Bookings(r.Context(), p, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	out := BookingList{Bookings: make([]BookingResponse, len(bs))}
	for i, b := range bs {
		out.Bookings[i] = bookingResponse(b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) cancelBooking(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	b, err := s.Booking.Cancel(r.Context(), p, r.URL.Query().Get("person_id"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, bookingResponse(b))
	return nil
}

func (s *Server) createBookingSlot(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in BookingSlotRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	sl, err := s.Booking.CreateSlot(r.Context(), p, booking.SlotInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, bookingSlotResponse(sl))
	return nil
}

func (s *Server) attendance(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeAttendance(w, r, p, "")
}

func (s *Server) adminAttendance(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeAttendance(w, r, p, r.PathValue("id"))
}

func (s *Server) writeAttendance(w http.ResponseWriter, r *http.Request, p *auth.Principal, orgID string) error {
	day, err := s.Booking.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	a, err := s.Booking.Attendance(r.Context(), p, orgID, day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, attendanceResponse(a))
	return nil
}

func (s *Server) enter(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in EntryRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	e, err := s.Booking.Enter(r.Context(), p, in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EntryResponse{BookingID: e.BookingID, MaskedName: e.MaskedName, Color: color(e.Color),
		Slot: bookingSlotResponse(&e.Slot), At: e.At})
	return nil
}

func (s *Server) takeTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HallTicketRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hall.Take(r.Context(), p, in.Code, in.Service)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, hallTicketResponse(t))
	return nil
}

func (s *Server) hallDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeHallDay(w, r, p, "")
}

func (s *Server) adminHallDay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.writeHallDay(w, r, p, r.PathValue("id"))
}

func (s *Server) writeHallDay(w http.ResponseWriter, r *http.Request, p *auth.Principal, orgID string) error {
	day, err := s.Hall.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	d, err := s.Hall.Tickets(r.Context(), p, orgID, day)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hallDayResponse(d))
	return nil
}

func (s *Server) finishTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	t, err := s.Hall.Finish(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hallTicketResponse(t))
	return nil
}

func (s *Server) hallPolicy(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	pol, err := s.Hall.Policy(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hallPolicy(pol))
	return nil
}

func (s *Server) setHallPolicy(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HallPolicy
	if err := decode(w, r, &in); err != nil {
		return err
	}
	pol, err := s.Hall.SetPolicy(r.Context(), p, hall.Policy{Yellow: string(in.Yellow), Window: in.Window})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hallPolicy(pol))
	return nil
}

// LoginURL is the page a resident's phone opens from a terminal's QR code.
func (s *Server) LoginURL(id string) string { return s.Config.PublicURL + "/me/hall/logins/" + id }

func (s *Server) loginResponse(l *hall.Login) HallLoginResponse {
	out := HallLoginResponse{ID: l.ID, Place: placeResponse(l.Org), State: LoginState(l.State), ExpiresAt: l.ExpiresAt, URL: s.LoginURL(l.ID)}
	if id := l.Identity; id != nil {
		out.Identity = &IdentityResponse{Name: id.Name, IDType: string(id.IDType), IDNumber: id.IDNumber, Phone: id.Phone, Purpose: id.Purpose, At: id.At}
	}
	return out
}

func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HallLoginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := s.Hall.StartLogin(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.loginResponse(l))
	return nil
}

func (s *Server) collectLogin(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	l, err := s.Hall.Collect(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Personal data: no cache anywhere may keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.loginResponse(l))
	return nil
}

func (s *Server) loginRequest(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	l, err := s.Hall.LoginRequest(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.loginResponse(l))
	return nil
}

func (s *Server) answerLogin(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in LoginAnswer
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := s.Hall.Answer(r.Context(), p, r.PathValue("id"), in.Approve)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.loginResponse(l))
	return nil
}

func (s *Server) myTickets(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ts, err := s.Hall.MyTickets(r.Context(), p, r.URL.Query().Get("person_id"))
	if err != nil {
		return err
	}
	out := HallTicketList{Tickets: make([]HallTicketResponse, len(ts))}
	for i, t := range ts {
		out.Tickets[i] = hallTicketResponse(t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) rateTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in RatingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hall.Rate(r.Context(), p, in.PersonID, r.PathValue("id"), in.Stars, in.Comment)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hallTicketResponse(t))
	return nil
}
