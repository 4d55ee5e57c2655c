package web

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/transport"
)

// The console's view of daily life on the code: per scenario, the
// organisations of the operator's region with their figures of a day
// (never a person), each linking to its organisation's page, which shows
// the same figures. The services decide who may and what is in scope.
var dailyConsoleNav = []navEntry{
	{"nav.employers", "/console/employers", auth.StatsRead},
	{"nav.schools", "/console/schools", auth.StatsRead},
	{"nav.scenic", "/console/scenic", auth.StatsRead},
	{"nav.halls", "/console/halls", auth.StatsRead},
	{"nav.transport", "/console/transport", auth.StatsRead},
}

func (s *Server) dailyConsoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/employers", s.console("", s.employersPage))
	mux.HandleFunc("GET /console/schools", s.console("", s.schoolsPage))
	mux.HandleFunc("GET /console/scenic", s.console("", s.scenicPage))
	mux.HandleFunc("GET /console/halls", s.console("", s.hallsPage))
	mux.HandleFunc("GET /console/transport", s.console("", s.transportPage))
}

// dayNav is a day's page with the days before and after (none after today).
type dayNav struct {
	Base, Date, Prev, Next string
}

func (s *Server) dayNav(base string, day time.Time) dayNav {
	return s.dayNavAhead(base, day, 0)
}

// dayNavAhead also leads to the days ahead, where bookings are already
// made (slots open a few days ahead).
func (s *Server) dayNavAhead(base string, day time.Time, ahead int) dayNav {
	d := dayNav{Base: base, Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly)}
	if next := day.AddDate(0, 0, 1); !next.After(s.now().AddDate(0, 0, ahead)) {
		d.Next = next.Format(time.DateOnly)
	}
	return d
}

// figuresRow is an organisation's line of an overview.
type figuresRow[F any] struct {
	Org        *org.Org
	RegionName string
	KindLabel  string
	F          F
}

type reasonColumn struct {
	Reason, Words string
}

// reasonColumns are the gate's refusal reasons in a table's few words.
func reasonColumns(p *page) []reasonColumn {
	var out []reasonColumn
	for _, x := range employer.Reasons {
		w := reasonWords(p, x)
		if _, ok := catalog["life.reason."+x]; ok {
			w = p.T("life.reason." + x)
		}
		out = append(out, reasonColumn{x, w})
	}
	return out
}

type employersData struct {
	Day     dayNav
	Reasons []reasonColumn
	Rows    []figuresRow[*employer.Figures]
	Total   *employer.Figures
}

func (s *Server) employersPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Employer.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	ov, err := s.Employer.Overview(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	d := employersData{Day: s.dayNav("/console/employers", day), Total: &ov.Total}
	d.Reasons = reasonColumns(p)
	for _, f := range ov.Employers {
		d.Rows = append(d.Rows, figuresRow[*employer.Figures]{f.Org, s.regionName(f.Org.Region), "", f})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.employers"), "/console/employers", d
	s.render(w, r, http.StatusOK, "console_employers", p)
	return nil
}

type schoolsData struct {
	Day   dayNav
	Rows  []figuresRow[*school.Figures]
	Total *school.Figures
}

func (s *Server) schoolsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.School.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	ov, err := s.School.Overview(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	d := schoolsData{Day: s.dayNav("/console/schools", day), Total: &ov.Total}
	for _, f := range ov.Schools {
		d.Rows = append(d.Rows, figuresRow[*school.Figures]{f.Org, s.regionName(f.Org.Region), "", f})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.schools"), "/console/schools", d
	s.render(w, r, http.StatusOK, "console_schools", p)
	return nil
}

type scenicData struct {
	Day   dayNav
	Rows  []figuresRow[*booking.Figures]
	Total *booking.Figures
}

func (s *Server) scenicPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Booking.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	ov, err := s.Booking.Overview(r.Context(), p.Op, org.ScenicSpot, day)
	if err != nil {
		return err
	}
	d := scenicData{Day: s.dayNavAhead("/console/scenic", day, 7), Total: &ov.Total}
	for _, f := range ov.Places {
		d.Rows = append(d.Rows, figuresRow[*booking.Figures]{f.Org, s.regionName(f.Org.Region), "", f})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.scenic"), "/console/scenic", d
	s.render(w, r, http.StatusOK, "console_scenic", p)
	return nil
}

// hallFigures are a hall's tickets with its online bookings.
type hallFigures struct {
	*hall.Figures
	Bookings *booking.Figures
}

type hallsData struct {
	Day   dayNav
	Rows  []figuresRow[hallFigures]
	Total hallFigures
}

func (s *Server) hallsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Hall.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	ov, err := s.Hall.Overview(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	bk, err := s.Booking.Overview(r.Context(), p.Op, org.ServiceHall, day)
	if err != nil {
		return err
	}
	booked := map[string]*booking.Figures{}
	for _, f := range bk.Places {
		booked[f.Org.ID] = f
	}
	d := hallsData{Day: s.dayNav("/console/halls", day), Total: hallFigures{&ov.Total, &bk.Total}}
	for _, f := range ov.Halls {
		b := booked[f.Org.ID]
		if b == nil {
			b = &booking.Figures{Org: f.Org}
		}
		d.Rows = append(d.Rows, figuresRow[hallFigures]{f.Org, s.regionName(f.Org.Region), "", hallFigures{f, b}})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.halls"), "/console/halls", d
	s.render(w, r, http.StatusOK, "console_halls", p)
	return nil
}

type transportOverviewData struct {
	Day       dayNav
	Rows      []figuresRow[*transport.Figures]
	Total     *transport.Figures
	Companies int
}

func (s *Server) transportPage(w http.ResponseWriter, r *http.Request, p *page) error {
	day, err := s.Transport.ParseDay(r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	ov, err := s.Transport.Overview(r.Context(), p.Op, day)
	if err != nil {
		return err
	}
	d := transportOverviewData{Day: s.dayNav("/console/transport", day), Total: &ov.Total, Companies: len(ov.Companies)}
	for _, f := range ov.Companies {
		d.Rows = append(d.Rows, figuresRow[*transport.Figures]{f.Org, s.regionName(f.Org.Region), kindLabel(p.Lang, f.Org.Kind), f})
	}
	p.Title, p.NavOn, p.Data = p.T("nav.transport"), "/console/transport", d
	s.render(w, r, http.StatusOK, "console_transport", p)
	return nil
}

// orgFigures is the panel of an organisation's page with its scenario's
// figures of a day; one field is set, by the organisation's kind.
type orgFigures struct {
	Day       dayNav
	Overview  string // the scenario's overview
	Employer  *employer.Figures
	Reasons   []reasonColumn
	School    *school.Figures
	Scenic    *booking.Figures
	Hall      *hallFigures
	Transport *transport.Figures
}

// orgFiguresOf reads the figures of the organisation's scenario, nil for
// a kind without one.
func (s *Server) orgFiguresOf(r *http.Request, p *page, o *org.Org) (*orgFigures, error) {
	ctx, q := r.Context(), r.URL.Query().Get("date")
	base := "/console/orgs/" + o.ID
	var err error
	var day time.Time
	f := &orgFigures{}
	ahead := 0
	switch o.Kind {
	case org.Employer:
		if day, err = s.Employer.ParseDay(q); err == nil {
			f.Employer, err = s.Employer.Figures(ctx, p.Op, o.ID, day)
		}
		f.Reasons = reasonColumns(p)
		f.Overview = "/console/employers"
	case org.School:
		if day, err = s.School.ParseDay(q); err == nil {
			f.School, err = s.School.Figures(ctx, p.Op, o.ID, day)
		}
		f.Overview = "/console/schools"
	case org.ScenicSpot:
		if day, err = s.Booking.ParseDay(q); err == nil {
			f.Scenic, err = s.Booking.Figures(ctx, p.Op, o.ID, day)
		}
		f.Overview = "/console/scenic"
		ahead = 7
	case org.ServiceHall:
		h := &hallFigures{}
		if day, err = s.Hall.ParseDay(q); err == nil {
			h.Figures, err = s.Hall.Figures(ctx, p.Op, o.ID, day)
		}
		if err == nil {
			h.Bookings, err = s.Booking.Figures(ctx, p.Op, o.ID, day)
		}
		f.Hall, f.Overview = h, "/console/halls"
	case org.Bus, org.Taxi:
		if day, err = s.Transport.ParseDay(q); err == nil {
			f.Transport, err = s.Transport.Figures(ctx, p.Op, o.ID, day)
		}
		f.Overview = "/console/transport"
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f.Day = s.dayNavAhead(base, day, ahead)
	return f, nil
}
