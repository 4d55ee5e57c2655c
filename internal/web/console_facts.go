package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/status"
)

// FactPoster records the facts operators post (the status service, which
// decides whether the operator may post this fact about this person).
type FactPoster interface {
	Post(ctx context.Context, by *auth.Principal, in status.Posted) (status.PostResult, error)
}

// factForm is the facts entry form: one kind, its time(s) and attributes,
// drawn from the fact registry so that every kind can be entered.
type factForm struct {
	Person    personRow
	PersonID  string
	Kinds     []fact.KindInfo
	Kind      fact.KindInfo
	At, Until string // datetime-local values in the deployment's zone
	Fields    []factField
	Nonce     string
}

type factField struct {
	fact.AttrInfo
	Label   string
	Value   string
	Checked map[string]bool
	Options []option
}

type option struct {
	Value, Label string
}

const localTime = "2006-01-02T15:04"

// label picks the language of a registry text.
func label(l Lang, t fact.Text) string {
	if l == EN && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// enumLabel names an enum value: symptoms from their vocabulary, others
// from the catalogue where it has them, else the value itself (an API
// code, which operators also see in exports).
func enumLabel(l Lang, attr, v string) string {
	if attr == "symptoms" {
		for _, s := range fact.Symptoms {
			if s.Code == v {
				return label(l, s.Label)
			}
		}
	}
	if _, ok := catalog["enum."+v]; ok {
		return l.T("enum." + v)
	}
	return v
}

// postableKinds are the kinds the form offers: every kind of the registry
// but those only the platform records.
func postableKinds() []fact.KindInfo {
	var out []fact.KindInfo
	for _, k := range fact.Kinds() {
		if !status.Reserved(k.Kind) {
			out = append(out, k)
		}
	}
	return out
}

func (s *Server) newFactForm(r *http.Request, p *page, kind string) factForm {
	f := factForm{Kinds: postableKinds(), Nonce: ids.New()}
	k, ok := fact.Lookup(kind)
	if !ok || status.Reserved(kind) {
		k = f.Kinds[0]
	}
	f.Kind = k
	f.At = s.now().In(s.Config.Location).Format(localTime)
	for _, a := range k.Attrs {
		fl := factField{AttrInfo: a, Label: label(p.Lang, a.Label), Checked: map[string]bool{}}
		for _, v := range a.Values {
			fl.Options = append(fl.Options, option{v, enumLabel(p.Lang, a.Name, v)})
		}
		for _, v := range a.OneOf {
			fl.Options = append(fl.Options, option{strconv.FormatInt(v, 10), strconv.FormatInt(v, 10)})
		}
		if r.Method == http.MethodPost {
			fl.Value = r.PostFormValue("attr." + a.Name)
			for _, v := range r.PostForm["attr."+a.Name] {
				fl.Checked[v] = true
			}
		}
		f.Fields = append(f.Fields, fl)
	}
	if r.Method == http.MethodPost {
		f.At, f.Until, f.Nonce = r.PostFormValue("at"), r.PostFormValue("until"), r.PostFormValue("nonce")
	}
	return f
}

// parse turns the posted form into a fact; the registry's validation (in
// Record) says precisely what is wrong with it.
func (s *Server) parseFact(r *http.Request, f factForm) (fact.Fact, error) {
	out := fact.Fact{Kind: f.Kind.Kind, Attrs: map[string]any{}, Source: "console"}
	var err error
	if out.At, err = s.parseLocal("at", f.At, true); err != nil {
		return out, err
	}
	if out.Until, err = s.parseLocal("until", f.Until, false); err != nil {
		return out, err
	}
	for _, a := range f.Kind.Attrs {
		key := "attr." + a.Name
		raw := strings.TrimSpace(r.PostFormValue(key))
		switch a.Type {
		case fact.TypeEnumList:
			if vs := r.PostForm[key]; len(vs) > 0 {
				list := make([]any, len(vs))
				for i, v := range vs {
					list[i] = v
				}
				out.Attrs[a.Name] = list
			}
			continue
		case fact.TypeBool:
			if raw != "" {
				out.Attrs[a.Name] = raw == "true"
			}
			continue
		}
		if raw == "" {
			continue
		}
		switch a.Type {
		case fact.TypeInt, fact.TypeNumber:
			n, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				return out, fact.ErrAttrType.Withf("%s: %q must be a number", a.Name, raw)
			}
			out.Attrs[a.Name] = n
		case fact.TypeTime:
			t, err := s.parseLocal(a.Name, raw, true)
			if err != nil {
				return out, err
			}
			out.Attrs[a.Name] = t.UTC().Format(time.RFC3339)
		default:
			out.Attrs[a.Name] = raw
		}
	}
	return out, nil
}

// parseLocal reads a datetime-local value in the deployment's zone.
func (s *Server) parseLocal(field, v string, required bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return time.Time{}, fact.ErrAtMissing.Withf("%s is required", field)
		}
		return time.Time{}, nil
	}
	for _, layout := range []string{localTime, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, s.Config.Location); err == nil {
			return t, nil
		}
	}
	return time.Time{}, ErrTimeInvalid.Withf("%s: %q is not a date and time", field, v)
}

func (s *Server) factsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	f := s.newFactForm(r, p, r.URL.Query().Get("kind"))
	f.PersonID = strings.TrimSpace(r.URL.Query().Get("person"))
	if f.PersonID != "" {
		x, err := s.Persons.Lookup(r.Context(), p.Op, f.PersonID)
		if err != nil {
			return s.formErr(w, r, p, err, func(st int) error { return s.showFacts(w, r, p, st, f) })
		}
		f.Person = s.personRow(p.Op, x)
	}
	return s.showFacts(w, r, p, http.StatusOK, f)
}

func (s *Server) showFacts(w http.ResponseWriter, r *http.Request, p *page, status int, f factForm) error {
	p.Title, p.NavOn, p.Data = p.T("nav.facts"), "/console/facts", f
	s.render(w, r, status, "console_facts", p)
	return nil
}

func (s *Server) recordFact(w http.ResponseWriter, r *http.Request, p *page) error {
	kind := r.PostFormValue("kind")
	f := s.newFactForm(r, p, kind)
	f.PersonID = strings.TrimSpace(r.PostFormValue("person"))
	show := func(st int) error { return s.showFacts(w, r, p, st, f) }
	if s.Facts == nil {
		return ErrFactsUnavailable
	}
	x, err := s.Persons.Lookup(r.Context(), p.Op, f.PersonID)
	if err != nil {
		return s.formErr(w, r, p, err, show)
	}
	f.Person = s.personRow(p.Op, x)
	fc, err := s.parseFact(r, f)
	if err != nil {
		return s.formErr(w, r, p, err, show)
	}
	// The kind posted, not the one the form fell back to: a kind that is
	// unknown or reserved is refused, never recorded as another.
	fc.Kind = kind
	// The form's nonce makes a double submission one fact.
	res, err := s.Facts.Post(r.Context(), p.Op, status.Posted{PersonID: x.ID, Fact: fc, Key: "console:" + f.Nonce})
	if err != nil {
		return s.formErr(w, r, p, err, show)
	}
	key := "flash.fact_recorded"
	if !res.Created {
		key = "flash.fact_duplicate"
	}
	s.flash(w, r, key, label(p.Lang, f.Kind.Label))
	redirect(w, r, "/console/persons/"+x.ID)
	return nil
}
