package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
)

// The pages of scenic spots and service halls: residents book slots, see
// their bookings and hall tickets and rate the service, and answer a hall
// terminal's sign-in; a scenic spot opens slots, admits visitors at the
// gate by their code and reads the day's attendance; a hall's queue
// machine gives tickets by the code, with the refusals' reasons.
func (s *Server) visitRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me/visits", s.resident(s.visitsPage))
	mux.HandleFunc("POST /me/visits/bookings", s.resident(s.visitBook))
	mux.HandleFunc("POST /me/visits/bookings/{id}/cancel", s.resident(s.visitCancel))
	mux.HandleFunc("POST /me/visits/tickets/{id}/rate", s.resident(s.visitRate))
	mux.HandleFunc("GET /me/hall/logins/{id}", s.resident(s.hallLoginPage))
	mux.HandleFunc("POST /me/hall/logins/{id}", s.resident(s.hallLoginAnswer))

	mux.HandleFunc("GET /unit/booking", s.unit(s.unitBooking))
	mux.HandleFunc("POST /unit/booking/slots", s.unit(s.unitOpenSlot))
	mux.HandleFunc("POST /unit/booking/entry", s.unit(s.unitEnter))
	mux.HandleFunc("GET /unit/hall", s.unit(s.unitHall))
	mux.HandleFunc("POST /unit/hall/tickets", s.unit(s.unitTakeTicket))
	mux.HandleFunc("POST /unit/hall/tickets/{id}/done", s.unit(s.unitFinishTicket))
	mux.HandleFunc("POST /unit/hall/policy", s.unit(s.unitHallPolicy))
	mux.HandleFunc("POST /unit/hall/logins", s.unit(s.unitStartLogin))
	mux.HandleFunc("GET /unit/hall/logins/{id}", s.unit(s.unitHallLoginPage))
}

type residentVisitsData struct {
	Places   []*org.Org
	Place    *org.Org
	Slots    []*booking.Slot
	Bookings []*booking.Booking
	Tickets  []*hall.Ticket
	ToRate   int // served tickets not rated yet
}

func (s *Server) visitsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showVisits(w, r, p, http.StatusOK)
}

func (s *Server) showVisits(w http.ResponseWriter, r *http.Request, p *page, status int) error {
	_, err := s.Persons.ActingFor(r.Context(), p.Resident, "")
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next=/me/visits")
		return nil
	}
	if err != nil {
		return err
	}
	var d residentVisitsData
	if d.Places, err = s.Booking.Places(r.Context()); err != nil {
		return err
	}
	id := r.FormValue("place")
	if id == "" && len(d.Places) > 0 {
		id = d.Places[0].ID
	}
	for _, o := range d.Places {
		if o.ID == id {
			d.Place = o
		}
	}
	if d.Place != nil {
		if d.Slots, err = s.Booking.Slots(r.Context(), d.Place.ID, 7); err != nil {
			return err
		}
	}
	if d.Bookings, err = s.Booking.Bookings(r.Context(), p.Resident, ""); err != nil {
		return err
	}
	if d.Tickets, err = s.Hall.MyTickets(r.Context(), p.Resident, ""); err != nil {
		return err
	}
	for _, t := range d.Tickets {
		if t.State == hall.Done && t.Rating == 0 {
			d.ToRate++
		}
	}
	p.Title, p.Data = p.T("visit.title"), d
	s.render(w, r, status, "visits", p)
	return nil
}

func (s *Server) visitBook(w http.ResponseWriter, r *http.Request, p *page) error {
	b, err := s.Booking.Book(r.Context(), p.Resident, "", r.PostFormValue("slot"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVisits(w, r, p, st) })
	}
	s.flash(w, r, "flash.visit_booked", b.Org.Name+" · "+p.Time(b.Slot.StartsAt))
	redirect(w, r, withQuery("/me/visits", "place", b.Org.ID))
	return nil
}

func (s *Server) visitCancel(w http.ResponseWriter, r *http.Request, p *page) error {
	b, err := s.Booking.Cancel(r.Context(), p.Resident, "", r.PathValue("id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVisits(w, r, p, st) })
	}
	s.flash(w, r, "flash.visit_cancelled", b.Org.Name+" · "+p.Time(b.Slot.StartsAt))
	redirect(w, r, "/me/visits")
	return nil
}

func (s *Server) visitRate(w http.ResponseWriter, r *http.Request, p *page) error {
	stars, _ := strconv.Atoi(r.PostFormValue("stars"))
	t, err := s.Hall.Rate(r.Context(), p.Resident, "", r.PathValue("id"), stars, r.PostFormValue("comment"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showVisits(w, r, p, st) })
	}
	s.flash(w, r, "flash.visit_rated", t.Org.Name+" · "+strings.Repeat("★", t.Rating))
	redirect(w, r, "/me/visits")
	return nil
}

func (s *Server) hallLoginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	l, err := s.Hall.LoginRequest(r.Context(), p.Resident, r.PathValue("id"))
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register?next="+r.URL.Path)
		return nil
	}
	if err != nil {
		return err
	}
	p.Title, p.Data = p.T("hall.login_title"), l
	s.render(w, r, http.StatusOK, "hall_login", p)
	return nil
}

func (s *Server) hallLoginAnswer(w http.ResponseWriter, r *http.Request, p *page) error {
	l, err := s.Hall.Answer(r.Context(), p.Resident, r.PathValue("id"), r.PostFormValue("approve") == "1")
	if err != nil {
		return err
	}
	key := "flash.login_declined"
	if l.State == hall.LoginConsented {
		key = "flash.login_consented"
	}
	s.flash(w, r, key, l.Org.Name)
	redirect(w, r, "/me")
	return nil
}

// unitBookingData is a scenic spot's or hall's day.
type unitBookingData struct {
	Attendance *booking.Attendance
	Date       string
	Gate       bool // a scenic spot: admits at the gate
	Entry      *booking.Entry
	Slot       slotForm
}

// slotForm is what a unit typed to open a slot, kept when refused.
type slotForm struct {
	Date, Start, End, Capacity string
}

func (s *Server) unitBooking(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitBooking(w, r, p, http.StatusOK, nil, slotForm{})
}

func (s *Server) showUnitBooking(w http.ResponseWriter, r *http.Request, p *page, status int, e *booking.Entry, f slotForm) error {
	day, err := s.Booking.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	a, err := s.Booking.Attendance(r.Context(), p.Unit.p, "", day)
	if err != nil {
		return err
	}
	if f.Date == "" {
		f = slotForm{Date: day.Format(time.DateOnly), Start: "09:00", End: "11:00", Capacity: "100"}
	}
	d := unitBookingData{Attendance: a, Date: day.Format(time.DateOnly), Gate: p.Unit.org.Kind.Allows(org.ScopeEntry), Entry: e, Slot: f}
	p.Title, p.NavOn, p.Data = p.T("visit.unit_title"), "/unit/booking", d
	s.render(w, r, status, "unit_booking", p)
	return nil
}

func (s *Server) unitOpenSlot(w http.ResponseWriter, r *http.Request, p *page) error {
	f := slotForm{Date: r.PostFormValue("date"), Start: r.PostFormValue("start"), End: r.PostFormValue("end"), Capacity: r.PostFormValue("capacity")}
	loc := s.Config.Location
	start, err1 := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+f.Start, loc)
	end, err2 := time.ParseInLocation("2006-01-02 15:04", f.Date+" "+f.End, loc)
	capacity, err3 := strconv.ParseInt(strings.TrimSpace(f.Capacity), 10, 64)
	var err error = booking.ErrSlotInvalid
	var sl *booking.Slot
	if err1 == nil && err2 == nil && err3 == nil {
		sl, err = s.Booking.CreateSlot(r.Context(), p.Unit.p, booking.SlotInput{StartsAt: start, EndsAt: end, Capacity: capacity})
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitBooking(w, r, p, st, nil, f) })
	}
	s.flash(w, r, "flash.slot_opened", p.Time(sl.StartsAt)+" · "+strconv.FormatInt(sl.Capacity, 10))
	redirect(w, r, withQuery("/unit/booking", "date", f.Date))
	return nil
}

func (s *Server) unitEnter(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.Booking.Enter(r.Context(), p.Unit.p, strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitBooking(w, r, p, st, nil, slotForm{}) })
	}
	return s.showUnitBooking(w, r, p, http.StatusOK, e, slotForm{})
}

// unitHallData is a hall's day at its queue machine.
type unitHallData struct {
	Day      *hall.Day
	Date     string
	Ticket   *hall.Ticket // the one just given
	Service  string
	Login    *hall.Login
	LoginQR  string
	Services []string
}

// hallServices are offered to type faster; any name is accepted.
var hallServices = []string{"户籍办理", "社保业务", "医保业务", "不动产登记", "公积金", "出入境", "税务", "市场监管"}

func (s *Server) unitHall(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitHall(w, r, p, http.StatusOK, unitHallData{})
}

func (s *Server) showUnitHall(w http.ResponseWriter, r *http.Request, p *page, status int, d unitHallData) error {
	day, err := s.Hall.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	if d.Day, err = s.Hall.Tickets(r.Context(), p.Unit.p, "", day); err != nil {
		return err
	}
	d.Date = day.Format(time.DateOnly)
	if d.Service == "" {
		d.Service = hallServices[0]
	}
	d.Services = hallServices
	p.Title, p.NavOn, p.Data = p.T("hall.unit_title"), "/unit/hall", d
	s.render(w, r, status, "unit_hall", p)
	return nil
}

func (s *Server) unitTakeTicket(w http.ResponseWriter, r *http.Request, p *page) error {
	service := strings.TrimSpace(r.PostFormValue("service"))
	t, err := s.Hall.Take(r.Context(), p.Unit.p, strings.TrimSpace(r.PostFormValue("code")), service)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitHall(w, r, p, st, unitHallData{Service: service}) })
	}
	return s.showUnitHall(w, r, p, http.StatusCreated, unitHallData{Ticket: t, Service: service})
}

func (s *Server) unitFinishTicket(w http.ResponseWriter, r *http.Request, p *page) error {
	t, err := s.Hall.Finish(r.Context(), p.Unit.p, r.PathValue("id"))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitHall(w, r, p, st, unitHallData{}) })
	}
	s.flash(w, r, "flash.ticket_done", t.Line+" "+strconv.FormatInt(t.Number, 10))
	redirect(w, r, "/unit/hall")
	return nil
}

func (s *Server) unitHallPolicy(w http.ResponseWriter, r *http.Request, p *page) error {
	_, err := s.Hall.SetPolicy(r.Context(), p.Unit.p, hall.Policy{Yellow: r.PostFormValue("yellow"), Window: r.PostFormValue("window")})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showUnitHall(w, r, p, st, unitHallData{}) })
	}
	s.flash(w, r, "flash.hall_policy", "")
	redirect(w, r, "/unit/hall")
	return nil
}

func (s *Server) unitStartLogin(w http.ResponseWriter, r *http.Request, p *page) error {
	l, err := s.Hall.StartLogin(r.Context(), p.Unit.p)
	if err != nil {
		return err
	}
	redirect(w, r, "/unit/hall/logins/"+l.ID)
	return nil
}

func (s *Server) unitHallLoginPage(w http.ResponseWriter, r *http.Request, p *page) error {
	// Personal data: no cache anywhere may keep it.
	w.Header().Set("Cache-Control", "no-store")
	p.Title, p.NavOn = p.T("hall.login_title"), "/unit/hall"
	l, err := s.Hall.Collect(r.Context(), p.Unit.p, r.PathValue("id"))
	if err != nil {
		// The terminal says why (declined, handed over already, expired)
		// where it waited, and offers the next sign-in.
		return s.formErr(w, r, p, err, func(st int) error {
			p.Data = unitHallData{}
			s.render(w, r, st, "unit_hall_login", p)
			return nil
		})
	}
	d := unitHallData{Login: l}
	if l.State == hall.LoginPending {
		if d.LoginQR, err = qrSVG(s.Config.PublicURL+"/me/hall/logins/"+l.ID, qrcode.Medium, p.T("hall.login_qr")); err != nil {
			return err
		}
	}
	p.Data = d
	s.render(w, r, http.StatusOK, "unit_hall_login", p)
	return nil
}
