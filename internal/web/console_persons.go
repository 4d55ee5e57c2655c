package web

import (
	"net/http"
	"strings"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

type personsData struct {
	Query    person.Query
	Color    string // the colour filter: "", yellow or red
	Searched bool
	Results  []personRow
	Next     string
	Form     person.Input
	Types    []idnum.Type
	Regions  []region.Region
	Created  *personRow
}

type personRow struct {
	person.Masked
	RegionName string
	HasPhone   bool
	Color      string // the current colour, from the status engine's cache
}

func (s *Server) personRow(op *auth.Principal, p *person.Person) personRow {
	c, _ := s.Status.Color(p.Num)
	return personRow{Masked: p.For(op), RegionName: s.Regions.FullName(p.Region), HasPhone: p.HasPhone, Color: c.String()}
}

func (s *Server) personsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	d := personsData{Query: person.Query{IDType: q.Get("id_type"), IDNumber: strings.TrimSpace(q.Get("id_number")),
		Phone: strings.TrimSpace(q.Get("phone")), Name: strings.TrimSpace(q.Get("name")), Region: q.Get("region"), After: q.Get("after"), Limit: 50},
		Form: person.Input{IDType: string(idnum.ResidentID), Region: p.Op.Region}}
	d.Color = q.Get("color")
	d.Searched = d.Query.IDNumber != "" || d.Query.Phone != "" || d.Query.Name != "" || d.Query.Region != "" || d.Color != "" || q.Has("all")
	if d.Color != "" {
		// The status engine knows who is yellow or red; the persons
		// service finds them, scoped and audited as any search.
		c, err := rules.ParseColor(d.Color)
		if err != nil {
			err = status.ErrColorFilter
		}
		var after int64
		if err == nil && d.Query.After != "" {
			if after, err = s.Persons.Handles().ParseID(d.Query.After); err != nil {
				err = person.ErrAfterInvalid
			}
		}
		if err == nil {
			d.Query.Nums, err = s.Status.WithColor(r.Context(), p.Op, c, d.Query.Region, after, d.Query.Limit)
		}
		if err != nil {
			return s.formErr(w, r, p, err, func(st int) error { return s.showPersons(w, r, p, st, d) })
		}
		d.Query.After = ""
	}
	if d.Searched {
		ps, err := s.Persons.Search(r.Context(), p.Op, d.Query)
		if err != nil {
			return s.formErr(w, r, p, err, func(st int) error { return s.showPersons(w, r, p, st, d) })
		}
		for _, x := range ps {
			d.Results = append(d.Results, s.personRow(p.Op, x))
		}
		if len(ps) == d.Query.Limit {
			d.Next = ps[len(ps)-1].ID
		}
	}
	return s.showPersons(w, r, p, http.StatusOK, d)
}

func (s *Server) showPersons(w http.ResponseWriter, r *http.Request, p *page, status int, d personsData) error {
	if d.Query.IDType == "" {
		d.Query.IDType = string(idnum.ResidentID)
	}
	d.Types, d.Regions = idnum.Types(), s.scopeRegions(p.Op)
	p.Title, p.NavOn, p.Data = p.T("nav.persons"), "/console/persons", d
	s.render(w, r, status, "console_persons", p)
	return nil
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request, p *page) error {
	in := person.Input{Name: strings.TrimSpace(r.PostFormValue("name")), IDType: r.PostFormValue("id_type"),
		IDNumber: strings.TrimSpace(r.PostFormValue("id_number")), Phone: strings.TrimSpace(r.PostFormValue("phone")), Region: r.PostFormValue("region")}
	x, err := s.Persons.Create(r.Context(), p.Op, in)
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showPersons(w, r, p, st, personsData{Form: in}) })
	}
	s.flash(w, r, "flash.person_created", idnum.MaskName(x.Name))
	redirect(w, r, "/console/persons/"+x.ID)
	return nil
}

// personData is the person page.
type personData struct {
	Person personRow
	Care   []*codes.CareCode
	Status *statusView
	Facts  []factView
}

func (s *Server) personPage(w http.ResponseWriter, r *http.Request, p *page) error {
	x, err := s.Persons.Lookup(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := personData{Person: s.personRow(p.Op, x)}
	if d.Care, err = s.Codes.CareCodes(r.Context(), x.Num); err != nil {
		return err
	}
	if err := s.personStatus(r, p, x.Num, &d); err != nil {
		return err
	}
	var actors []string
	for _, f := range d.Facts {
		actors = append(actors, f.RecordedBy)
	}
	if err := s.nameActors(r, p, actors...); err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = d.Person.Name, "/console/persons", d
	s.render(w, r, http.StatusOK, "console_person", p)
	return nil
}

// issuePersonCare issues a care code at a service desk.
func (s *Server) issuePersonCare(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.IssueCare(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	redirect(w, r, "/console/care/"+c.ID)
	return nil
}

// printCare shows a care code for printing; a reprint hands out a
// credential valid for days, so it is audited.
func (s *Server) printCare(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.CareCode(r.Context(), p.Op, "", r.PathValue("cid"))
	if err != nil {
		return err
	}
	if c.State == codes.CareValid {
		if err := audit.Record(r.Context(), s.DB, audit.Entry{At: s.now(), Actor: p.Op.Actor(), Action: "care_code.print",
			Subject: "person:" + c.PersonID, Region: c.Region, Detail: map[string]any{"care_code": c.ID}}); err != nil {
			return err
		}
	}
	return s.showCarePrint(w, r, p, c, "/console/persons/"+c.PersonID)
}

func (s *Server) revokePersonCare(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.RevokeCare(r.Context(), p.Op, "", r.PathValue("cid"))
	if err != nil {
		return err
	}
	s.flash(w, r, "flash.care_revoked", "")
	redirect(w, r, "/console/persons/"+c.PersonID)
	return nil
}
