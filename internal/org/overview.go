package org

import (
	"context"

	"github.com/healthcode/healthcode/internal/auth"
)

// Lister lists the organisations in an operator's scope (the service's
// List), for a scenario's overview of the region.
type Lister interface {
	List(ctx context.Context, by *auth.Principal, f Filter) ([]*Org, error)
}

// MaxOverview bounds the organisations an overview counts: a province's
// 2,700 employers fit; a larger region narrows the scope first.
const MaxOverview = 10_000

// InScope is every organisation of the kinds in the operator's scope, in
// the order they were registered, for an operator who reads statistics
// (an overview's figures are statistics, whoever else reads the list).
func InScope(ctx context.Context, l Lister, by *auth.Principal, kinds ...Kind) ([]*Org, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	out := []*Org{}
	for _, k := range kinds {
		var after int64
		for len(out) < MaxOverview {
			page, err := l.List(ctx, by, Filter{Kind: string(k), After: after, Limit: 500})
			if err != nil {
				return nil, err
			}
			out = append(out, page...)
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].Num
		}
	}
	if len(out) > MaxOverview {
		out = out[:MaxOverview]
	}
	return out, nil
}

// IDs are the organisations' ids.
func IDs(os []*Org) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.ID
	}
	return out
}

// Index makes one record per organisation with mk, in the organisations'
// order, and the same records by organisation id: an overview fills the
// records from queries grouped by org_id and returns them in order.
func Index[T any](os []*Org, mk func(*Org) *T) ([]*T, map[string]*T) {
	out := make([]*T, len(os))
	byID := make(map[string]*T, len(os))
	for i, o := range os {
		out[i] = mk(o)
		byID[o.ID] = out[i]
	}
	return out, byID
}
