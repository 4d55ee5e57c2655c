package api

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
)

// statusView is a person's decision as the API shows it. Residents see the
// colour, why and what to do; operators also the deciding rule and when the
// engine looks again.
type statusView struct {
	Color     rules.Color `json:"color"`
	Reason    fact.Text   `json:"reason"`
	Advice    fact.Text   `json:"advice"`
	RuleID    *string     `json:"rule_id,omitempty"`
	NextEval  time.Time   `json:"next_eval,omitzero"`
	Version   uint64      `json:"version"`
	UpdatedAt time.Time   `json:"updated_at,omitzero"`
}

func viewStatus(st status.Status, operator bool) statusView {
	v := statusView{Color: st.Color, Reason: st.Reason, Advice: st.Advice, Version: st.Version, UpdatedAt: st.UpdatedAt}
	if operator {
		rule := st.RuleID
		v.RuleID, v.NextEval = &rule, st.NextEval
	}
	return v
}

// adminPersonView is GET /admin/persons/{id}: the person, the colour, the
// reason and the rule that decided it, and the facts behind it.
type adminPersonView struct {
	personView
	Color  rules.Color     `json:"color"`
	Reason fact.Text       `json:"reason"`
	Advice fact.Text       `json:"advice"`
	RuleID string          `json:"rule_id"`
	Status statusView      `json:"status"`
	Facts  []status.Stored `json:"facts"`
}

func (s *Server) writeAdminPerson(w http.ResponseWriter, r *http.Request, pr *auth.Principal, p *person.Person) error {
	st, err := s.Status.Status(r.Context(), p.Num)
	if err != nil {
		return err
	}
	facts, err := s.Status.Facts(r.Context(), p.Num, 200)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, adminPersonView{personView: s.view(p, pr), Color: st.Color, Reason: st.Reason, Advice: st.Advice,
		RuleID: st.RuleID, Status: viewStatus(st, true), Facts: facts})
	return nil
}

// meView is GET /me: the masked profile, the colour, why, and what to do.
type meView struct {
	personView
	Color     rules.Color `json:"color"`
	Reason    fact.Text   `json:"reason"`
	Advice    fact.Text   `json:"advice"`
	UpdatedAt time.Time   `json:"updated_at,omitzero"`
}

func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, pr *auth.Principal, p *person.Person) error {
	st, err := s.Status.Status(r.Context(), p.Num)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meView{personView: s.view(p, pr), Color: st.Color, Reason: st.Reason, Advice: st.Advice, UpdatedAt: st.UpdatedAt})
	return nil
}

// factPoster admits the kinds of caller that post facts: operators, and
// integrators with an API key. Whether this one may post this fact is the
// status service's to say (status.Post), once the body names the kind.
func (s *Server) factPoster(h authed) http.HandlerFunc {
	return s.call(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		switch p.Kind {
		case auth.Operator:
			// An early refusal: the service checks it again.
			if err := p.Require(auth.FactWrite); err != nil {
				return err
			}
		case auth.APIKey:
		default:
			return auth.ErrOperatorOnly.Withf("this endpoint is for operators and integrators with an API key")
		}
		return h(w, r, p)
	})
}

// postFact is POST /admin/facts.
func (s *Server) postFact(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		PersonID string         `json:"person_id"`
		Kind     string         `json:"kind"`
		At       timeField      `json:"at"`
		Until    *timeField     `json:"until"`
		Attrs    map[string]any `json:"attrs"`
		Source   string         `json:"source"`
		Key      string         `json:"key"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	f := fact.Fact{Kind: in.Kind, At: in.At.Time, Attrs: in.Attrs, Source: in.Source}
	if in.Until != nil {
		f.Until = in.Until.Time
	}
	res, err := s.Status.Post(r.Context(), pr, status.Posted{PersonID: in.PersonID, Fact: f, Key: in.Key})
	if err != nil {
		return err
	}
	out := map[string]any{"person_id": s.Persons.Handles().ID(res.Person), "created": res.Created}
	if res.Status != nil {
		out["status"] = viewStatus(*res.Status, pr.Kind == auth.Operator)
	}
	code := http.StatusCreated
	if !res.Created {
		code = http.StatusOK // the key was already recorded
	}
	writeJSON(w, code, out)
	return nil
}

// postDeclaration is POST /me/declarations: the daily health declaration
// (打卡), stored as a declaration fact.
func (s *Server) postDeclaration(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		PersonID    string   `json:"person_id"`
		Temperature *float64 `json:"temperature"`
		Symptoms    []string `json:"symptoms"`
		Exposure    *bool    `json:"exposure"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	attrs := map[string]any{}
	if in.Temperature != nil {
		attrs["temperature"] = *in.Temperature
	}
	if in.Symptoms != nil {
		attrs["symptoms"] = in.Symptoms
	}
	if in.Exposure != nil {
		attrs["exposure"] = *in.Exposure
	}
	who, at, err := s.Status.Declare(r.Context(), pr, in.PersonID, attrs)
	if err != nil {
		return err
	}
	st, err := s.Status.Status(r.Context(), who.Num)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"person_id": who.ID, "declared_at": at.UTC().Truncate(time.Millisecond),
		"status": viewStatus(st, false)})
	return nil
}

// myFacts is GET /me/facts: the resident's own (or a dependent's) records,
// newest first, with the ids an appeal refers to.
func (s *Server) myFacts(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	who, facts, err := s.Status.ResidentFacts(r.Context(), pr, r.URL.Query().Get("person_id"), 200)
	if err != nil {
		return err
	}
	type item struct {
		ID    string         `json:"id"`
		Kind  string         `json:"kind"`
		Label fact.Text      `json:"label"`
		At    time.Time      `json:"at"`
		Until time.Time      `json:"until,omitzero"`
		Attrs map[string]any `json:"attrs"`
	}
	out := make([]item, 0, len(facts))
	for _, f := range facts {
		info, _ := fact.Lookup(f.Kind)
		out = append(out, item{ID: f.ID, Kind: f.Kind, Label: info.Label, At: f.At, Until: f.Until, Attrs: f.Attrs})
	}
	writeJSON(w, http.StatusOK, map[string]any{"person_id": who.ID, "facts": out})
	return nil
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	o, err := s.Status.Rules(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) getRuleSet(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	info, set, err := s.Status.RuleSet(r.Context(), pr, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"version": info, "set": set})
	return nil
}

// createRuleSet is POST /admin/rules: the body is a rule set (docs/RULES.md).
// A set that does not compile, type-check or pass its own examples is a 400
// that lists every problem under error.problems.
func (s *Server) createRuleSet(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := jsonBody(w, r)
	if err != nil {
		return err
	}
	v, err := s.Status.CreateRuleSet(r.Context(), pr, body)
	var inv *rules.InvalidError
	if errors.As(err, &inv) {
		e, _ := apierr.As(err)
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"code": e.Code, "message": e.Message, "problems": inv.Problems}})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) dryRunRules(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	out, err := s.Status.DryRunRules(r.Context(), pr, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) activateRules(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	v, err := status.ParseVersion(r.PathValue("version"))
	if err != nil {
		return err
	}
	job, err := s.Status.Activate(r.Context(), pr, v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"version": v, "recompute": job})
	return nil
}

func (s *Server) recomputeProgress(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	job, err := s.Status.Recompute(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recompute": job})
	return nil
}

// stats is GET /admin/stats: colour counts per town in scope.
func (s *Server) stats(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	towns, err := s.Status.Stats(r.Context(), pr)
	if err != nil {
		return err
	}
	type town struct {
		status.TownCount
		Name string `json:"name"`
	}
	out := make([]town, 0, len(towns))
	var total status.TownCount
	total.Region = pr.Region
	for _, t := range towns {
		out = append(out, town{TownCount: t, Name: s.Regions.FullName(t.Region)})
		total.Registered += t.Registered
		total.Green += t.Green
		total.Yellow += t.Yellow
		total.Red += t.Red
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
	writeJSON(w, http.StatusOK, map[string]any{"towns": out, "total": total})
	return nil
}

// postAppeal is POST /me/appeals.
func (s *Server) postAppeal(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		PersonID string   `json:"person_id"`
		Reason   string   `json:"reason"`
		Evidence []string `json:"evidence"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.Status.FileAppeal(r.Context(), pr, in.PersonID, status.AppealInput{Reason: in.Reason, Evidence: in.Evidence})
	if err != nil {
		return err
	}
	st, err := s.Status.Status(r.Context(), a.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"appeal": a, "status": viewStatus(st, false)})
	return nil
}

func (s *Server) myAppeals(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	as, err := s.Status.Appeals(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeals": as})
	return nil
}

func (s *Server) appealQueue(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 100, 500)
	if err != nil {
		return err
	}
	as, err := s.Status.AppealQueue(r.Context(), pr, strings.TrimSpace(q.Get("state")), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeals": as})
	return nil
}

func (s *Server) decideAppeal(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		Decision string     `json:"decision"`
		Note     string     `json:"note"`
		Until    *timeField `json:"until"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	d := status.Decision{Decision: in.Decision, Note: in.Note}
	if in.Until != nil {
		d.Until = in.Until.Time
	}
	a, err := s.Status.Decide(r.Context(), pr, r.PathValue("id"), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeal": a})
	return nil
}
