package status

import (
	"context"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
)

// Reserved reports whether a kind of fact is recorded only by the platform
// itself, so that no one may post it (forms leave it out).
func Reserved(kind string) bool { return kind == fact.AppealGranted }

// Posted is a fact someone posts about a person from outside the platform:
// an operator at the console or through the API, or an integrator's system
// (a hospital, a pharmacy chain).
type Posted struct {
	PersonID string    // the person's public id
	Fact     fact.Fact // Kind, At, Until, Attrs, Source
	// Key, if not empty, makes the fact idempotent (see NewFact.Key).
	Key string
}

// Post records a posted fact on behalf of by, who must be an operator whose
// role writes facts (fact.write) or an API key with the scope facts:KIND for
// the fact's kind. appeal.granted is reserved: it is recorded by deciding an
// appeal (Decide), whose audit trail and expiry a posted grant would skip.
// The person must be in by's scope; one outside it is not found, like one
// that does not exist. Refusals store nothing.
//
// Features that record facts as the platform (test results, tracing,
// temperatures at checkpoints) call Record.
func (s *Service) Post(ctx context.Context, by *auth.Principal, in Posted) (PostResult, error) {
	switch {
	case by == nil:
		return PostResult{}, by.Require(auth.FactWrite)
	case by.Kind == auth.Operator:
		if err := by.Require(auth.FactWrite); err != nil {
			return PostResult{}, err
		}
	case by.Kind != auth.APIKey:
		return PostResult{}, auth.ErrForbidden.Withf("only operators and integrators with an API key post facts")
	}
	if Reserved(in.Fact.Kind) {
		return PostResult{}, ErrFactKindReserved.Withf("%s is recorded by deciding an appeal: POST /api/v1/admin/appeals/{id}/decision", in.Fact.Kind)
	}
	if by.Kind == auth.APIKey && !by.HasScope(auth.ScopeFactsPref+in.Fact.Kind) {
		return PostResult{}, auth.ErrScopeMissing.Withf("this API key may not post %q facts (it needs the scope %s%s)",
			in.Fact.Kind, auth.ScopeFactsPref, in.Fact.Kind)
	}
	if in.PersonID == "" {
		return PostResult{}, ErrPersonIDMissing
	}
	num, err := s.ids.ParseID(in.PersonID)
	if err != nil {
		return PostResult{}, person.ErrNotFound
	}
	people, err := s.personRegions(ctx, s.db, []int64{num})
	if err != nil {
		return PostResult{}, err
	}
	if !by.InScope(people[0].region) {
		return PostResult{}, person.ErrNotFound
	}
	n, err := s.Record(ctx, NewFact{Person: num, Fact: in.Fact, RecordedBy: by.Actor(), Key: in.Key})
	if err != nil {
		return PostResult{}, err
	}
	out := PostResult{Person: num, Created: n == 1}
	// A pharmacy reporting a purchase learns nothing about the buyer's
	// colour unless its key may look colours up anyway.
	if by.Kind == auth.Operator || by.HasScope(auth.ScopeStatus) {
		st, err := s.Status(ctx, num)
		if err != nil {
			return PostResult{}, err
		}
		out.Status = &st
	}
	return out, nil
}

// PostResult is what a poster learns: whom the fact was about, whether it
// was new (false: its key was already stored), and the person's status
// after it, for a poster who may read colours (an operator, or a key with
// the status scope; nil for others).
type PostResult struct {
	Person  int64
	Created bool
	Status  *Status
}
