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

func (s *Server) writeAdminPerson(w http.ResponseWriter, r *http.Request, pr *auth.Principal, p *person.Person) error {
	st, err := s.Status.Status(r.Context(), p.Num)
	if err != nil {
		return err
	}
	facts, err := s.Status.Facts(r.Context(), p.Num, 200)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AdminPersonResponse{PersonView: s.view(p, pr), Color: color(st.Color), Reason: text(st.Reason),
		Advice: text(st.Advice), RuleID: st.RuleID, Status: viewStatus(st, true), Facts: storedFacts(facts)})
	return nil
}

func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, pr *auth.Principal, p *person.Person) error {
	st, err := s.Status.Status(r.Context(), p.Num)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MeResponse{PersonView: s.view(p, pr), Color: color(st.Color), Reason: text(st.Reason), Advice: text(st.Advice),
		UpdatedAt: st.UpdatedAt})
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
	var in FactRequest
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
	out := FactPosted{PersonID: s.Persons.Handles().ID(res.Person), Created: res.Created}
	if res.Status != nil {
		v := viewStatus(*res.Status, pr.Kind == auth.Operator)
		out.Status = &v
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
	var in DeclarationRequest
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
	writeJSON(w, http.StatusCreated, DeclarationResponse{PersonID: who.ID, DeclaredAt: at.UTC().Truncate(time.Millisecond),
		Status: viewStatus(st, false)})
	return nil
}

// myFacts is GET /me/facts: the resident's own (or a dependent's) records,
// newest first, with the ids an appeal refers to.
func (s *Server) myFacts(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	who, facts, err := s.Status.ResidentFacts(r.Context(), pr, r.URL.Query().Get("person_id"), 200)
	if err != nil {
		return err
	}
	out := ResidentFactsResponse{PersonID: who.ID, Facts: make([]ResidentFact, 0, len(facts))}
	for _, f := range facts {
		info, _ := fact.Lookup(f.Kind)
		out.Facts = append(out.Facts, ResidentFact{ID: f.ID, Kind: f.Kind, Label: text(info.Label), At: f.At, Until: f.Until, Attrs: f.Attrs})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	o, err := s.Status.Rules(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rulesOverview(o))
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
	writeJSON(w, http.StatusOK, RuleSetResponse{Version: ruleVersion(info), Set: ruleSet(set)})
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
		writeJSON(w, http.StatusBadRequest, ErrorResponse{ErrorDetail{Code: e.Code, Message: e.Message, Problems: ruleProblems(inv.Problems)}})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ruleVersion(v))
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
	writeJSON(w, http.StatusOK, dryRun(out))
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
	writeJSON(w, http.StatusAccepted, ActivateResponse{Version: v, Recompute: recomputeJob(job)})
	return nil
}

func (s *Server) recomputeProgress(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	job, err := s.Status.Recompute(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RecomputeResponse{Recompute: recomputeJob(job)})
	return nil
}

// stats is GET /admin/stats: colour counts per town in scope.
func (s *Server) stats(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	towns, err := s.Status.Stats(r.Context(), pr)
	if err != nil {
		return err
	}
	out := StatsResponse{Towns: make([]TownColorsNamed, 0, len(towns)), Total: TownColors{Region: pr.Region}}
	for _, t := range towns {
		out.Towns = append(out.Towns, TownColorsNamed{TownColors: TownColors(t), Name: s.Regions.FullName(t.Region)})
		out.Total.Registered += t.Registered
		out.Total.Green += t.Green
		out.Total.Yellow += t.Yellow
		out.Total.Red += t.Red
	}
	sort.Slice(out.Towns, func(i, j int) bool { return out.Towns[i].Region < out.Towns[j].Region })
	writeJSON(w, http.StatusOK, out)
	return nil
}

// postAppeal is POST /me/appeals.
func (s *Server) postAppeal(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in AppealRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.Status.FileAppeal(r.Context(), pr, in.PersonID, status.AppealInput{Reason: in.Reason, Evidence: in.Evidence,
		Credentials: in.Credentials})
	if err != nil {
		return err
	}
	st, err := s.Status.Status(r.Context(), a.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, AppealFiled{Appeal: appealResponse(a), Status: viewStatus(st, false)})
	return nil
}

func (s *Server) myAppeals(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	as, err := s.Status.Appeals(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appealList(as))
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
	writeJSON(w, http.StatusOK, appealList(as))
	return nil
}

func (s *Server) reviewAppeal(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	rv, err := s.Status.Review(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appealReview(rv))
	return nil
}

func (s *Server) decideAppeal(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in DecisionRequest
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
	writeJSON(w, http.StatusOK, AppealDecided{Appeal: appealResponse(a)})
	return nil
}
