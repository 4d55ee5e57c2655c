package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/person"
)

// Closed-loop management's console pages: isolation sites with their
// admissions, readings and releases, the transfers of positives with their
// trails, and the 12345 hotline's tickets with corrections.

func (s *Server) closedLoopRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/isolation", s.console(auth.PersonRead, s.isolationPage))
	mux.HandleFunc("POST /console/isolation/sites", s.console(auth.IsolationWrite, s.createIsolationSite))
	mux.HandleFunc("POST /console/isolation/sites/{id}/rooms", s.console(auth.IsolationWrite, s.addIsolationRoom))
	mux.HandleFunc("POST /console/isolation/admit", s.console(auth.IsolationWrite, s.admitPage))
	mux.HandleFunc("GET /console/isolation/stays/{id}", s.console(auth.PersonRead, s.stayPage))
	mux.HandleFunc("POST /console/isolation/stays/{id}/readings", s.console(auth.IsolationWrite, s.recordReading))
	mux.HandleFunc("POST /console/isolation/stays/{id}/discharge", s.console(auth.IsolationWrite, s.endStay(false)))
	mux.HandleFunc("POST /console/isolation/stays/{id}/release", s.console(auth.IsolationWrite, s.endStay(true)))
	mux.HandleFunc("GET /console/transfers", s.console(auth.PersonRead, s.transfersPage))
	mux.HandleFunc("POST /console/transfers", s.console(auth.IsolationWrite, s.dispatchPage))
	mux.HandleFunc("POST /console/transfers/{id}/{step}", s.console(auth.IsolationWrite, s.transferStepPage))
	mux.HandleFunc("GET /console/hotline", s.console(auth.HotlineWrite, s.hotlinePage))
	mux.HandleFunc("POST /console/hotline", s.console(auth.HotlineWrite, s.openTicketPage))
	mux.HandleFunc("GET /console/hotline/{id}", s.console(auth.HotlineWrite, s.ticketPage))
	mux.HandleFunc("POST /console/hotline/{id}/appeal", s.console(auth.HotlineWrite, s.ticketAppealPage))
	mux.HandleFunc("POST /console/hotline/{id}/correction", s.console(auth.PersonCorrect, s.ticketCorrectionPage))
	mux.HandleFunc("POST /console/hotline/{id}/close", s.console(auth.HotlineWrite, s.closeTicketPage))
}

var closedLoopNav = []navEntry{
	{"nav.isolation", "/console/isolation", auth.PersonRead},
	{"nav.transfers", "/console/transfers", auth.PersonRead},
	{"nav.hotline", "/console/hotline", auth.HotlineWrite},
}

type isolationData struct {
	Sites     []*isolation.Site
	Stays     []*isolation.Stay
	Missing   []isolation.Missing
	Regions   []regionOption
	Kinds     []string
	Reasons   []string
	Admit     admitForm
	SiteError string // the site a room form failed for
}

type admitForm struct {
	Site, Room, Code, IDNumber, Reason, Days string
}

func (s *Server) isolationPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showIsolation(w, r, p, http.StatusOK, admitForm{Reason: "close_contact", Days: "14"})
}

func (s *Server) showIsolation(w http.ResponseWriter, r *http.Request, p *page, status int, f admitForm) error {
	ctx := r.Context()
	d := isolationData{Regions: s.regionOptions(p), Kinds: isolation.SiteKinds, Reasons: isolation.Reasons, Admit: f}
	var err error
	if d.Sites, err = s.Isolation.Sites(ctx, p.Op); err != nil {
		return err
	}
	if d.Stays, err = s.Isolation.Stays(ctx, p.Op, isolation.StayQuery{Open: true}); err != nil {
		return err
	}
	if d.Missing, err = s.Isolation.MissingReadings(ctx, p.Op, ""); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.isolation"), "/console/isolation", d
	s.render(w, r, status, "console_isolation", p)
	return nil
}

func (s *Server) createIsolationSite(w http.ResponseWriter, r *http.Request, p *page) error {
	_, err := s.Isolation.CreateSite(r.Context(), p.Op, isolation.SiteInput{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"),
		Address: r.PostFormValue("address"), Region: r.PostFormValue("region")})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showIsolation(w, r, p, st, admitForm{Days: "14"}) })
	}
	redirect(w, r, "/console/isolation")
	return nil
}

func (s *Server) addIsolationRoom(w http.ResponseWriter, r *http.Request, p *page) error {
	capacity, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("capacity")), 10, 64)
	_, err := s.Isolation.AddRoom(r.Context(), p.Op, r.PathValue("id"), isolation.RoomInput{Number: r.PostFormValue("number"), Capacity: capacity})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showIsolation(w, r, p, st, admitForm{Days: "14"}) })
	}
	redirect(w, r, "/console/isolation")
	return nil
}

func (s *Server) admitPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := admitForm{Site: r.PostFormValue("site"), Room: r.PostFormValue("room"), Code: r.PostFormValue("code"),
		IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Reason: r.PostFormValue("reason"), Days: r.PostFormValue("days")}
	// One room select lists the rooms of every site as site/room.
	if site, room, ok := strings.Cut(f.Room, "/"); ok {
		f.Site, f.Room = site, room
	}
	days, _ := strconv.Atoi(strings.TrimSpace(f.Days))
	st, err := s.Isolation.Admit(r.Context(), p.Op, isolation.AdmitInput{Identity: isolation.Identity{Code: f.Code, IDNumber: f.IDNumber},
		Site: f.Site, Room: f.Room, Reason: f.Reason, Days: days})
	if err != nil {
		f.Code = "" // a code is good for a minute: scan it again
		return s.formErr(w, r, p, err, func(status int) error { return s.showIsolation(w, r, p, status, f) })
	}
	redirect(w, r, "/console/isolation/stays/"+st.ID)
	return nil
}

type stayData struct {
	Stay           *isolation.Stay
	Color          string
	DischargeKinds []string
	ReleaseReasons []string
}

func (s *Server) stayPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showStay(w, r, p, http.StatusOK)
}

func (s *Server) showStay(w http.ResponseWriter, r *http.Request, p *page, status int) error {
	st, err := s.Isolation.Stay(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	c, _ := s.Status.Color(st.Person)
	p.Title, p.NavOn = p.T("iso.stay_title", st.MaskedName), "/console/isolation"
	p.Data = stayData{Stay: st, Color: c.String(), DischargeKinds: isolation.DischargeKinds, ReleaseReasons: isolation.ReleaseReasons}
	s.render(w, r, status, "console_isolation_stay", p)
	return nil
}

func (s *Server) recordReading(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("celsius")), 64)
	if err != nil {
		c = 0
	}
	if _, err := s.Isolation.Record(r.Context(), p.Op, r.PathValue("id"), isolation.ReadingInput{Celsius: c}); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showStay(w, r, p, st) })
	}
	redirect(w, r, "/console/isolation/stays/"+r.PathValue("id"))
	return nil
}

func (s *Server) endStay(release bool) handler {
	return func(w http.ResponseWriter, r *http.Request, p *page) error {
		in := isolation.EndInput{Kind: r.PostFormValue("kind"), Note: r.PostFormValue("note")}
		var err error
		if release {
			_, err = s.Isolation.Release(r.Context(), p.Op, r.PathValue("id"), in)
		} else {
			_, err = s.Isolation.Discharge(r.Context(), p.Op, r.PathValue("id"), in)
		}
		if err != nil {
			return s.formErr(w, r, p, err, func(st int) error { return s.showStay(w, r, p, st) })
		}
		redirect(w, r, "/console/isolation/stays/"+r.PathValue("id"))
		return nil
	}
}

type transfersData struct {
	Transfers []*isolation.Transfer
	Sites     []*isolation.Site
	Form      transferForm
}

type transferForm struct {
	Code, IDNumber, Origin, Dest, Vehicle string
}

func (s *Server) transfersPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showTransfers(w, r, p, http.StatusOK, transferForm{})
}

func (s *Server) showTransfers(w http.ResponseWriter, r *http.Request, p *page, status int, f transferForm) error {
	d := transfersData{Form: f}
	var err error
	if d.Transfers, err = s.Isolation.Transfers(r.Context(), p.Op, ""); err != nil {
		return err
	}
	if d.Sites, err = s.Isolation.Sites(r.Context(), p.Op); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.transfers"), "/console/transfers", d
	s.render(w, r, status, "console_transfers", p)
	return nil
}

func (s *Server) dispatchPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := transferForm{Code: r.PostFormValue("code"), IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Origin: r.PostFormValue("origin"),
		Dest: r.PostFormValue("dest"), Vehicle: r.PostFormValue("vehicle")}
	_, err := s.Isolation.Dispatch(r.Context(), p.Op, isolation.TransferInput{Identity: isolation.Identity{Code: f.Code, IDNumber: f.IDNumber},
		Origin: f.Origin, Dest: f.Dest, Vehicle: f.Vehicle, Note: r.PostFormValue("note")})
	if err != nil {
		f.Code = ""
		return s.formErr(w, r, p, err, func(st int) error { return s.showTransfers(w, r, p, st, f) })
	}
	redirect(w, r, "/console/transfers")
	return nil
}

func (s *Server) transferStepPage(w http.ResponseWriter, r *http.Request, p *page) error {
	step := map[string]string{"pickup": isolation.PickedUp, "arrival": isolation.Arrived}[r.PathValue("step")]
	if step == "" {
		return ErrPageNotFound
	}
	if _, err := s.Isolation.Advance(r.Context(), p.Op, r.PathValue("id"), step, isolation.StepInput{Note: r.PostFormValue("note")}); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTransfers(w, r, p, st, transferForm{}) })
	}
	redirect(w, r, "/console/transfers#t-"+r.PathValue("id"))
	return nil
}

type hotlineData struct {
	State      string
	Tickets    []*hotline.Ticket
	Categories []string
	Regions    []regionOption
	Form       hotline.Input
}

func (s *Server) hotlinePage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showHotline(w, r, p, http.StatusOK, hotline.Input{Category: hotline.WrongColor})
}

func (s *Server) showHotline(w http.ResponseWriter, r *http.Request, p *page, status int, f hotline.Input) error {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = hotline.Open
	}
	ts, err := s.Hotline.Tickets(r.Context(), p.Op, state)
	if err != nil {
		return err
	}
	p.Title, p.NavOn = p.T("nav.hotline"), "/console/hotline"
	p.Data = hotlineData{State: state, Tickets: ts, Categories: hotline.Categories, Regions: s.regionOptions(p), Form: f}
	s.render(w, r, status, "console_hotline", p)
	return nil
}

func (s *Server) openTicketPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := hotline.Input{Category: r.PostFormValue("category"), Summary: r.PostFormValue("summary"), PersonID: strings.TrimSpace(r.PostFormValue("person_id")),
		IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Region: r.PostFormValue("region")}
	t, err := s.Hotline.OpenTicket(r.Context(), p.Op, f)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showHotline(w, r, p, st, f) })
	}
	redirect(w, r, "/console/hotline/"+t.ID)
	return nil
}

type ticketData struct {
	Ticket  *hotline.Ticket
	Overdue bool
	Form    person.Correction
}

func (s *Server) ticketPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showTicket(w, r, p, http.StatusOK, person.Correction{})
}

func (s *Server) showTicket(w http.ResponseWriter, r *http.Request, p *page, status int, f person.Correction) error {
	t, err := s.Hotline.Ticket(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Title, p.NavOn = p.T("hl.ticket_title", p.T("hl.category."+t.Category)), "/console/hotline"
	p.Data = ticketData{Ticket: t, Overdue: t.IsOverdue(s.now()), Form: f}
	s.render(w, r, status, "console_hotline_ticket", p)
	return nil
}

func (s *Server) ticketAppealPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Hotline.LinkAppeal(r.Context(), p.Op, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("appeal_id"))); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTicket(w, r, p, st, person.Correction{}) })
	}
	redirect(w, r, "/console/hotline/"+r.PathValue("id"))
	return nil
}

func (s *Server) ticketCorrectionPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := person.Correction{Name: r.PostFormValue("name"), IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Reason: r.PostFormValue("reason")}
	if _, err := s.Hotline.Correct(r.Context(), p.Op, r.PathValue("id"), f); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTicket(w, r, p, st, f) })
	}
	redirect(w, r, "/console/hotline/"+r.PathValue("id"))
	return nil
}

func (s *Server) closeTicketPage(w http.ResponseWriter, r *http.Request, p *page) error {
	if _, err := s.Hotline.Close(r.Context(), p.Op, r.PathValue("id"), r.PostFormValue("resolution")); err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTicket(w, r, p, st, person.Correction{}) })
	}
	redirect(w, r, "/console/hotline/"+r.PathValue("id"))
	return nil
}
