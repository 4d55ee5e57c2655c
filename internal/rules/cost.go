package rules

import (
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
)

// Static cost bounds, checked by Compile. A recompute runs every rule for
// every resident, so a rule's cost is paid a million times:
//
//   - minCost bounds what a rule costs a person with no facts, which every
//     resident pays. Only computation over literals can exceed it (a
//     comprehension nested over list literals), and there it is a mistake.
//   - maxCost bounds the worst case for a person with maxFacts facts. It
//     admits a comparison of every fact with every other (about 4e7) and
//     refuses anything nested deeper, which would not finish.
//
// Costs are cel-go's abstract units (about one per operation); helpers cost
// one unit per fact they scan.
const (
	maxFacts     = 2000
	maxAttrs     = 16
	maxAttrValue = 1000 // the longest attribute (a note)
	minCost      = 10_000
	maxCost      = 100_000_000
)

type costEstimator struct{}

// EstimateSize bounds what cel-go cannot size from the expression itself:
// the facts, their fields, and anything derived from them.
func (costEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	size := func(max uint64) *cost.SizeEstimate { return &cost.SizeEstimate{Min: 0, Max: max} }
	if path := n.Path(); len(path) > 0 {
		switch last := path[len(path)-1]; {
		case len(path) == 1 && path[0] == "facts":
			return size(maxFacts)
		case last == "attrs":
			return size(maxAttrs)
		case last == "kind" || last == "source":
			return size(64)
		}
	}
	if t := n.Type(); t != nil {
		switch t.Kind() {
		case types.StringKind, types.BytesKind, types.DynKind:
			return size(maxAttrValue)
		case types.ListKind, types.MapKind:
			return size(maxFacts)
		}
	}
	return nil
}

func (costEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	switch overloadID {
	case "facts_any", "facts_any_attr", "facts_latest", "facts_latest_attr", "facts_count", "facts_count_attr",
		"facts_active", "facts_active_until", "facts_negative_since", "facts_single_negative_since":
		return cost.NewCallEstimate(cost.Estimate{Min: 1, Max: maxFacts}, nil)
	case "facts_negatives", "facts_normal_days":
		// A scan, then a sort of what it found.
		return cost.NewCallEstimate(cost.Estimate{Min: 1, Max: maxFacts * 12}, nil)
	case "days_int", "hours_int":
		return cost.NewCallEstimate(cost.Estimate{Min: 1, Max: 1}, nil)
	}
	return nil
}
