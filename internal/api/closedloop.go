package api

import (
	"context"
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/person"
)

// Closed-loop management: isolation sites with rooms, stays and readings,
// transfers of positives with their trails, and the 12345 hotline's tickets.
func (s *Server) closedLoopRoutes() []route {
	return []route{
		{Method: "POST", Path: "/admin/isolation/sites", Auth: "operator: isolation.write",
			Summary: "Add an isolation site {kind: hotel|hospital|home, name, address?, region?}",
			In:      IsolationSiteRequest{}, Out: replies(created(IsolationSiteResponse{})),
			h: s.operator(auth.IsolationWrite, s.createIsolationSite)},
		{Method: "GET", Path: "/admin/isolation/sites", Auth: "operator: person.read",
			Summary: "The isolation sites in the operator's region with their rooms and places taken",
			Out:     replies(ok(IsolationSiteList{})),
			h:       s.operator(auth.PersonRead, s.isolationSites)},
		{Method: "GET", Path: "/admin/isolation/sites/{id}", Auth: "operator: person.read",
			Summary: "One isolation site with its rooms",
			Out:     replies(ok(IsolationSiteResponse{})),
			h:       s.operator(auth.PersonRead, s.isolationSite)},
		{Method: "POST", Path: "/admin/isolation/sites/{id}/rooms", Auth: "operator: isolation.write",
			Summary: "Add a room {number, capacity}; 409 isolation_room_exists",
			In:      IsolationRoomRequest{}, Out: replies(created(IsolationRoomResponse{})),
			h: s.operator(auth.IsolationWrite, s.addIsolationRoom)},
		{Method: "POST", Path: "/admin/isolation/stays", Auth: "operator: isolation.write",
			Summary: "Admit a person {site_id, room_id?, code | id_type+id_number | person_id, reason, days, at?}: records isolation until the planned end; 409 isolation_already_admitted, 409 isolation_room_full; nothing written when refused",
			In:      AdmissionRequest{}, Out: replies(created(StayResponse{})),
			h: s.operator(auth.IsolationWrite, s.admit)},
		{Method: "GET", Path: "/admin/isolation/stays", Auth: "operator: person.read",
			Summary: "Stays at the sites in scope, newest first: ?site_id=, ?open=true for those still at a site",
			Out:     replies(ok(StayList{})),
			h:       s.operator(auth.PersonRead, s.stays)},
		{Method: "GET", Path: "/admin/isolation/stays/{id}", Auth: "operator: person.read",
			Summary: "A stay with its temperature readings",
			Out:     replies(ok(StayResponse{})),
			h:       s.operator(auth.PersonRead, s.stay)},
		{Method: "POST", Path: "/admin/isolation/stays/{id}/readings", Auth: "operator: isolation.write",
			Summary: "Record a temperature {celsius, at?} in its half-day (am before 14:00, pm); 409 isolation_reading_exists, 409 isolation_not_admitted",
			In:      ReadingRequest{}, Out: replies(created(ReadingResponse{})),
			h: s.operator(auth.IsolationWrite, s.recordReading)},
		{Method: "GET", Path: "/admin/isolation/readings/missing", Auth: "operator: person.read",
			Summary: "Half-days without a reading of persons still at the sites in scope, oldest first; ?site_id=",
			Out:     replies(ok(MissingReadingList{})),
			h:       s.operator(auth.PersonRead, s.missingReadings)},
		{Method: "POST", Path: "/admin/isolation/stays/{id}/discharge", Auth: "operator: isolation.write",
			Summary: "Discharge {kind: to_hospital|to_home, note?, at?}: the person leaves the site still isolated (at home: isolation at home until the planned end); 409 isolation_not_admitted, 409 isolation_before_admission",
			In:      StayEndRequest{}, Out: replies(ok(StayResponse{})),
			h: s.operator(auth.IsolationWrite, s.discharge)},
		{Method: "POST", Path: "/admin/isolation/stays/{id}/release", Auth: "operator: isolation.write",
			Summary: "Release {kind: isolation_ended|recovered|excluded, note?, at?}: records case.released, so the colour follows; 409 isolation_not_admitted, 409 isolation_before_admission",
			In:      StayEndRequest{}, Out: replies(ok(StayResponse{})),
			h: s.operator(auth.IsolationWrite, s.release)},
		{Method: "POST", Path: "/admin/transfers", Auth: "operator: isolation.write",
			Summary: "Dispatch the transfer of a positive {code | id_type+id_number | person_id, origin, dest_site_id, vehicle, note?, at?}; 409 positive_transfer_open",
			In:      PositiveTransferRequest{}, Out: replies(created(PositiveTransferResponse{})),
			h: s.operator(auth.IsolationWrite, s.dispatch)},
		{Method: "GET", Path: "/admin/transfers", Auth: "operator: person.read",
			Summary: "Transfers to sites in scope with their trails, newest first; ?state=dispatched|picked_up|arrived",
			Out:     replies(ok(PositiveTransferList{})),
			h:       s.operator(auth.PersonRead, s.transfers)},
		{Method: "GET", Path: "/admin/transfers/{id}", Auth: "operator: person.read",
			Summary: "One transfer's trail",
			Out:     replies(ok(PositiveTransferResponse{})),
			h:       s.operator(auth.PersonRead, s.transfer)},
		{Method: "POST", Path: "/admin/transfers/{id}/pickup", Auth: "operator: isolation.write",
			Summary: "The person is picked up {note?, at?}; 409 positive_transfer_step_order unless dispatched and not before it",
			In:      PositiveTransferStepRequest{}, Out: replies(ok(PositiveTransferResponse{})),
			h: s.operator(auth.IsolationWrite, s.transferStep(isolation.PickedUp))},
		{Method: "POST", Path: "/admin/transfers/{id}/arrival", Auth: "operator: isolation.write",
			Summary: "The person arrived at the destination {note?, at?}; 409 positive_transfer_step_order unless picked up and not before it",
			In:      PositiveTransferStepRequest{}, Out: replies(ok(PositiveTransferResponse{})),
			h: s.operator(auth.IsolationWrite, s.transferStep(isolation.Arrived))},
		{Method: "POST", Path: "/admin/hotline/tickets", Auth: "operator: hotline.write",
			Summary: "Open a 12345 ticket {category: wrong_color|wrong_identity|cannot_register, summary, person_id | id_type+id_number, region?}, routed to the person's region, with its deadline",
			In:      HotlineTicketRequest{}, Out: replies(created(HotlineTicketResponse{})),
			h: s.operator(auth.HotlineWrite, s.openTicket)},
		{Method: "GET", Path: "/admin/hotline/tickets", Auth: "operator: hotline.write",
			Summary: "Tickets routed to the operator's region: ?state=open (by deadline, the default), overdue or closed",
			Out:     replies(ok(HotlineTicketList{})),
			h:       s.operator(auth.HotlineWrite, s.tickets)},
		{Method: "GET", Path: "/admin/hotline/tickets/{id}", Auth: "operator: hotline.write",
			Summary: "One ticket",
			Out:     replies(ok(HotlineTicketResponse{})),
			h:       s.operator(auth.HotlineWrite, s.ticket)},
		{Method: "POST", Path: "/admin/hotline/tickets/{id}/appeal", Auth: "operator: hotline.write",
			Summary: "Link an open ticket to its person's appeal {appeal_id?} (default the newest); 404 ticket_appeal_not_found, 409 ticket_closed",
			In:      HotlineAppealRequest{}, Out: replies(ok(HotlineTicketResponse{})),
			h: s.operator(auth.HotlineWrite, s.ticketAppeal)},
		{Method: "POST", Path: "/admin/hotline/tickets/{id}/correction", Auth: "operator: person.correct",
			Summary: "Correct the ticket's person's name or identity number {name?, id_type?, id_number?, reason?}: sealed like any person data, audited with the values before and after masked; 409 person_exists, 409 ticket_closed",
			In:      HotlineCorrectionRequest{}, Out: replies(ok(HotlineTicketResponse{})),
			h: s.operator(auth.PersonCorrect, s.ticketCorrection)},
		{Method: "POST", Path: "/admin/hotline/tickets/{id}/close", Auth: "operator: hotline.write",
			Summary: "Close a ticket {resolution}; 409 ticket_closed the second time",
			In:      HotlineCloseRequest{}, Out: replies(ok(HotlineTicketResponse{})),
			h: s.operator(auth.HotlineWrite, s.closeTicket)},
	}
}

func isolationSite(st *isolation.Site) IsolationSiteResponse {
	out := IsolationSiteResponse{ID: st.ID, Kind: st.Kind, Name: st.Name, Address: st.Address, Region: st.Region, Capacity: st.Capacity,
		Occupied: st.Occupied, CreatedAt: st.CreatedAt, Rooms: make([]IsolationRoomResponse, len(st.Rooms))}
	for i, r := range st.Rooms {
		out.Rooms[i] = IsolationRoomResponse{ID: r.ID, Number: r.Number, Capacity: r.Capacity, Occupied: r.Occupied}
	}
	return out
}

func valTime(t *timeField) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func reading(r isolation.Reading) ReadingResponse {
	return ReadingResponse{Day: r.Day, Slot: r.Slot, Celsius: r.Celsius, Fever: r.Fever, At: r.At}
}

func stayResponse(st *isolation.Stay) StayResponse {
	out := StayResponse{ID: st.ID, PersonID: st.PersonID, MaskedName: st.MaskedName, Site: IsolationPlace{st.Site, st.SiteName, st.SiteKind},
		Room: st.RoomNumber, Reason: st.Reason, Method: st.Method, AdmittedAt: st.AdmittedAt, Until: st.Until, EndedAt: optTime(st.EndedAt),
		EndKind: st.EndKind, EndNote: st.EndNote, Readings: make([]ReadingResponse, len(st.Readings))}
	for i, r := range st.Readings {
		out.Readings[i] = reading(r)
	}
	return out
}

func (s *Server) createIsolationSite(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in IsolationSiteRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := s.Isolation.CreateSite(r.Context(), p, isolation.SiteInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, isolationSite(st))
	return nil
}

func (s *Server) isolationSites(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	sts, err := s.Isolation.Sites(r.Context(), p)
	if err != nil {
		return err
	}
	out := IsolationSiteList{Sites: make([]IsolationSiteResponse, len(sts))}
	for i, st := range sts {
		out.Sites[i] = isolationSite(st)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) isolationSite(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	st, err := s.Isolation.Site(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, isolationSite(st))
	return nil
}

func (s *Server) addIsolationRoom(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in IsolationRoomRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rm, err := s.Isolation.AddRoom(r.Context(), p, r.PathValue("id"), isolation.RoomInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, IsolationRoomResponse{ID: rm.ID, Number: rm.Number, Capacity: rm.Capacity, Occupied: rm.Occupied})
	return nil
}

func (s *Server) admit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in AdmissionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := s.Isolation.Admit(r.Context(), p, isolation.AdmitInput{Identity: isolation.Identity{Code: in.Code, IDType: in.IDType,
		IDNumber: in.IDNumber, PersonID: in.PersonID}, Site: in.Site, Room: in.Room, Reason: in.Reason, Days: in.Days, At: valTime(in.At)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, stayResponse(st))
	return nil
}

func (s *Server) stays(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q := r.URL.Query()
	sts, err := s.Isolation.Stays(r.Context(), p, isolation.StayQuery{Site: q.Get("site_id"), Open: q.Get("open") == "true"})
	if err != nil {
		return err
	}
	out := StayList{Stays: make([]StayResponse, len(sts))}
	for i, st := range sts {
		out.Stays[i] = stayResponse(st)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) stay(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	st, err := s.Isolation.Stay(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stayResponse(st))
	return nil
}

func (s *Server) recordReading(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ReadingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rd, err := s.Isolation.Record(r.Context(), p, r.PathValue("id"), isolation.ReadingInput{Celsius: in.Celsius, At: valTime(in.At)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, reading(*rd))
	return nil
}

func (s *Server) missingReadings(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ms, err := s.Isolation.MissingReadings(r.Context(), p, r.URL.Query().Get("site_id"))
	if err != nil {
		return err
	}
	out := MissingReadingList{Missing: make([]MissingReading, len(ms))}
	for i, m := range ms {
		out.Missing[i] = MissingReading{StayID: m.Stay.ID, PersonID: m.Stay.PersonID, MaskedName: m.Stay.MaskedName, Site: m.Stay.SiteName,
			Room: m.Stay.RoomNumber, Day: m.Day, Slot: m.Slot, DueBy: m.DueBy}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) discharge(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.endStay(w, r, p, s.Isolation.Discharge)
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.endStay(w, r, p, s.Isolation.Release)
}

func (s *Server) endStay(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	do func(ctx context.Context, by *auth.Principal, id string, in isolation.EndInput) (*isolation.Stay, error)) error {
	var in StayEndRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := do(r.Context(), p, r.PathValue("id"), isolation.EndInput{Kind: in.Kind, Note: in.Note, At: valTime(in.At)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stayResponse(st))
	return nil
}

func positiveTransfer(t *isolation.Transfer) PositiveTransferResponse {
	out := PositiveTransferResponse{ID: t.ID, PersonID: t.PersonID, MaskedName: t.MaskedName, Origin: t.Origin,
		Dest: IsolationPlace{t.Dest, t.DestName, t.DestKind}, Vehicle: t.Vehicle, State: t.State, Trail: make([]PositiveTransferStep, len(t.Trail))}
	for i, st := range t.Trail {
		out.Trail[i] = PositiveTransferStep{Step: st.Step, At: st.At, By: st.By, Note: st.Note}
	}
	return out
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in PositiveTransferRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Isolation.Dispatch(r.Context(), p, isolation.TransferInput{Identity: isolation.Identity{Code: in.Code, IDType: in.IDType,
		IDNumber: in.IDNumber, PersonID: in.PersonID}, Origin: in.Origin, Dest: in.Dest, Vehicle: in.Vehicle, Note: in.Note, At: valTime(in.At)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, positiveTransfer(t))
	return nil
}

func (s *Server) transfers(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ts, err := s.Isolation.Transfers(r.Context(), p, r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	out := PositiveTransferList{Transfers: make([]PositiveTransferResponse, len(ts))}
	for i, t := range ts {
		out.Transfers[i] = positiveTransfer(t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	t, err := s.Isolation.Transfer(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, positiveTransfer(t))
	return nil
}

func (s *Server) transferStep(step string) authed {
	return func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		var in PositiveTransferStepRequest
		if err := decode(w, r, &in); err != nil {
			return err
		}
		t, err := s.Isolation.Advance(r.Context(), p, r.PathValue("id"), step, isolation.StepInput{Note: in.Note, At: valTime(in.At)})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, positiveTransfer(t))
		return nil
	}
}

func hotlineTicket(t *hotline.Ticket, now time.Time) HotlineTicketResponse {
	out := HotlineTicketResponse{ID: t.ID, Category: t.Category, PersonID: t.PersonID, MaskedName: t.MaskedName, Region: t.Region, Summary: t.Summary,
		State: t.State, Overdue: t.IsOverdue(now), OpenedAt: t.OpenedAt, Deadline: t.Deadline, AppealID: t.AppealID, ClosedAt: optTime(t.ClosedAt),
		Resolution: t.Resolution}
	if c := t.Correction; c != nil {
		out.Correction = &HotlineCorrection{Fields: c.Fields, Before: c.Before, After: c.After, At: t.CorrectedAt, By: t.CorrectedBy}
	}
	return out
}

func (s *Server) openTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HotlineTicketRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hotline.OpenTicket(r.Context(), p, hotline.Input(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, hotlineTicket(t, time.Now()))
	return nil
}

func (s *Server) tickets(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ts, err := s.Hotline.Tickets(r.Context(), p, r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	now := time.Now()
	out := HotlineTicketList{Tickets: make([]HotlineTicketResponse, len(ts))}
	for i, t := range ts {
		out.Tickets[i] = hotlineTicket(t, now)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	t, err := s.Hotline.Ticket(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineTicket(t, time.Now()))
	return nil
}

func (s *Server) ticketAppeal(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HotlineAppealRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hotline.LinkAppeal(r.Context(), p, r.PathValue("id"), in.AppealID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineTicket(t, time.Now()))
	return nil
}

func (s *Server) ticketCorrection(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HotlineCorrectionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hotline.Correct(r.Context(), p, r.PathValue("id"), person.Correction(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineTicket(t, time.Now()))
	return nil
}

func (s *Server) closeTicket(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in HotlineCloseRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Hotline.Close(r.Context(), p, r.PathValue("id"), in.Resolution)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hotlineTicket(t, time.Now()))
	return nil
}
