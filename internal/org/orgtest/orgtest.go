// Package orgtest is an in-memory stand-in for the organisation service, for
// the tests of the scenarios built on it (bookings, employers, halls,
// schools): the same answers to the same principals, without a database.
package orgtest

import (
	"cmp"
	"context"
	"slices"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/org"
)

// Orgs are organisations by id.
type Orgs map[string]*org.Org

// Authorize is the principal's own organisation, if its kind allows scope.
func (o Orgs) Authorize(_ context.Context, p *auth.Principal, scope string) (*org.Org, error) {
	x := o[p.Org]
	if x == nil {
		return nil, org.ErrOrgOnly
	}
	if !x.Kind.Allows(scope) {
		return nil, org.ErrScopeMissing
	}
	return x, nil
}

// Public is an organisation by id, for anyone.
func (o Orgs) Public(_ context.Context, id string) (*org.Org, error) {
	if x := o[id]; x != nil {
		return x, nil
	}
	return nil, org.ErrNotFound
}

// Get is an organisation in an operator's scope.
func (o Orgs) Get(_ context.Context, by *auth.Principal, id string) (*org.Org, error) {
	x := o[id]
	if x == nil || by.Kind != auth.Operator || !by.InScope(x.Region) {
		return nil, org.ErrNotFound
	}
	return x, nil
}

// List is the organisations in the operator's scope matching f, in the
// order they were registered.
func (o Orgs) List(_ context.Context, by *auth.Principal, f org.Filter) ([]*org.Org, error) {
	out := []*org.Org{}
	for _, x := range o {
		if by.InScope(x.Region) && (f.Kind == "" || string(x.Kind) == f.Kind) && x.Num > f.After {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b *org.Org) int { return cmp.Compare(a.Num, b.Num) })
	return out, nil
}

// OfKinds is every organisation of the kinds.
func (o Orgs) OfKinds(_ context.Context, kinds ...org.Kind) ([]*org.Org, error) {
	var out []*org.Org
	for _, x := range o {
		if slices.Contains(kinds, x.Kind) {
			out = append(out, x)
		}
	}
	return out, nil
}
