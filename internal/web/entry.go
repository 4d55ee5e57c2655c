package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/idnum"
)

// The border desk (入境登记): staff check a traveller's foreign credential
// and register the arrival, which issues a local code to print.

var entryNav = []navEntry{{"nav.entry", "/console/entry", auth.EntryWrite}}

func (s *Server) entryConsoleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/entry", s.console(auth.EntryWrite, s.entryPage))
	mux.HandleFunc("POST /console/entry/verify", s.console(auth.EntryWrite, s.entryVerify))
	mux.HandleFunc("POST /console/entry", s.console(auth.EntryWrite, s.entryRegister))
}

type entryForm struct {
	Credential, Name, IDType, IDNumber, Phone, Origin, Port, Transport string
}

type entryData struct {
	Form     entryForm
	Checked  *foreignView
	Arrival  *entry.Arrival
	Arrivals []*entry.Arrival
	IDTypes  []idnum.Type
}

// foreignView is a verification as the desk shows it.
type foreignView struct {
	Valid                         bool
	Format, Kind, Country, Issuer string
	Name, BirthDate               string
	Details                       []entryDetail
	Reasons                       []string // in the reader's language
}

type entryDetail struct{ Key, Value string }

func (s *Server) entryPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showEntry(w, r, p, http.StatusOK, entryData{Form: entryForm{IDType: string(idnum.Passport), Transport: "air"}})
}

func (s *Server) showEntry(w http.ResponseWriter, r *http.Request, p *page, status int, d entryData) error {
	as, err := s.Entry.Arrivals(r.Context(), p.Op, 50)
	if err != nil {
		return err
	}
	d.Arrivals = as
	for _, t := range idnum.Types() {
		if t != idnum.ResidentID {
			d.IDTypes = append(d.IDTypes, t)
		}
	}
	p.Title, p.NavOn, p.Data = p.T("nav.entry"), "/console/entry", d
	s.render(w, r, status, "console_entry", p)
	return nil
}

func entryFormOf(r *http.Request) entryForm {
	return entryForm{Credential: r.PostFormValue("credential"), Name: r.PostFormValue("name"), IDType: r.PostFormValue("id_type"),
		IDNumber: r.PostFormValue("id_number"), Phone: r.PostFormValue("phone"), Origin: r.PostFormValue("origin_country"),
		Port: r.PostFormValue("port"), Transport: r.PostFormValue("transport")}
}

func (s *Server) entryVerify(w http.ResponseWriter, r *http.Request, p *page) error {
	f := entryFormOf(r)
	res, err := s.Entry.Verify(r.Context(), p.Op, f.Credential)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showEntry(w, r, p, st, entryData{Form: f}) })
	}
	v := foreignViewOf(p.Lang, &res)
	// What the credential says fills the form, for staff to check against
	// the passport.
	if res.Valid {
		if f.Name == "" {
			f.Name = res.Holder.Name
		}
		if f.Origin == "" {
			f.Origin = entry.Alpha3(res.IssuerCountry)
		}
	}
	status := http.StatusOK
	if !res.Valid {
		status = http.StatusUnprocessableEntity
	}
	return s.showEntry(w, r, p, status, entryData{Form: f, Checked: v})
}

func (s *Server) entryRegister(w http.ResponseWriter, r *http.Request, p *page) error {
	f := entryFormOf(r)
	a, err := s.Entry.RegisterArrival(r.Context(), p.Op, entry.ArrivalInput{Credential: f.Credential, Name: f.Name, IDType: f.IDType,
		IDNumber: strings.TrimSpace(f.IDNumber), Phone: strings.TrimSpace(f.Phone), OriginCountry: f.Origin, Port: f.Port, Transport: f.Transport})
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error {
			d := entryData{Form: f}
			if res, verr := s.Entry.Verify(r.Context(), p.Op, f.Credential); verr == nil && !res.Valid {
				d.Checked = foreignViewOf(p.Lang, &res)
			}
			return s.showEntry(w, r, p, st, d)
		})
	}
	return s.showEntry(w, r, p, http.StatusCreated, entryData{Arrival: a, Form: entryForm{IDType: string(idnum.Passport), Transport: "air", Port: f.Port}})
}

func foreignViewOf(l Lang, r *foreign.Result) *foreignView {
	v := &foreignView{Valid: r.Valid, Format: string(r.Format), Kind: string(r.Kind), Country: r.IssuerCountry, Issuer: r.Issuer,
		Name: r.Holder.Name, BirthDate: r.Holder.BirthDate}
	for _, k := range []string{"result", "sampled_at", "test_type", "dose", "doses", "date", "product", "first_positive", "valid_until", "cards"} {
		if x, ok := r.Details[k]; ok && x != nil && x != "" {
			v.Details = append(v.Details, entryDetail{k, anyText(x)})
		}
	}
	for _, x := range r.Reasons {
		t, _ := entry.ReasonText(string(x))
		v.Reasons = append(v.Reasons, label(l, t)+" ("+string(x)+")")
	}
	return v
}

func anyText(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(x)
}
