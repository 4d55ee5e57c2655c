package rules

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/decls"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"

	"github.com/healthcode/healthcode/internal/fact"
)

// Building a CEL environment takes milliseconds; rule sets are compiled far
// more often than time zones change, so environments are kept per zone.
var envs sync.Map // location name -> *cel.Env

func envFor(loc *time.Location) (*cel.Env, error) {
	if e, ok := envs.Load(loc.String()); ok {
		return e.(*cel.Env), nil
	}
	e, err := newEnv(loc)
	if err != nil {
		return nil, err
	}
	actual, _ := envs.LoadOrStore(loc.String(), e)
	return actual.(*cel.Env), nil
}

func newEnv(loc *time.Location) (*cel.Env, error) {
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, err
	}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(factProvider{reg}),
		cel.Variable("facts", cel.ListType(factType)),
		cel.Variable("now", cel.TimestampType),
		ext.Bindings(),
		// Rules are short; a limit keeps a pasted megabyte from tying up the parser.
		cel.ParserExpressionSizeLimit(4096),
		cel.ParserRecursionLimit(64),
	}
	return cel.NewEnv(append(opts, helpers(loc)...)...)
}

var listOfFacts = cel.ListType(factType)

// argKind is what a helper expects of an argument. cel-go's generated
// guards check a list argument by building an iterator on every call, which
// cost more than the helpers themselves; these checks are type switches.
type argKind uint8

const (
	argFacts argKind = iota
	argString
	argTimestamp
	argDuration
	argInt
	argAny
)

func argOK(k argKind, v ref.Val) bool {
	switch k {
	case argFacts:
		if _, ok := v.(*factList); ok {
			return true
		}
		_, ok := v.(traits.Lister)
		return ok
	case argString:
		_, ok := v.(types.String)
		return ok
	case argTimestamp:
		_, ok := v.(types.Timestamp)
		return ok
	case argDuration:
		_, ok := v.(types.Duration)
		return ok
	case argInt:
		_, ok := v.(types.Int)
		return ok
	}
	return true
}

var celTypes = map[argKind]*cel.Type{
	argFacts: listOfFacts, argString: cel.StringType, argTimestamp: cel.TimestampType,
	argDuration: cel.DurationType, argInt: cel.IntType, argAny: cel.DynType,
}

// helper declares one overload whose implementation (a func of one, two or
// any number of ref.Val) receives arguments already checked against kinds;
// a mismatch (possible through dyn) is a "no such overload" error, never a
// panic. One- and two-argument implementations are bound as such because
// the variadic form allocates an argument slice on every call.
func helper(name, id string, member bool, kinds []argKind, result *cel.Type, impl any) cel.EnvOption {
	params := make([]*cel.Type, len(kinds))
	for i, k := range kinds {
		params[i] = celTypes[k]
	}
	noOverload := func(v ref.Val) ref.Val {
		return types.NewErr("no such overload: %s applied to %s", name, v.Type().TypeName())
	}
	var binding cel.OverloadOpt
	switch fn := impl.(type) {
	case func(ref.Val) ref.Val:
		binding = cel.UnaryBinding(func(a ref.Val) ref.Val {
			if !argOK(kinds[0], a) {
				return noOverload(a)
			}
			return fn(a)
		})
	case func(ref.Val, ref.Val) ref.Val:
		binding = cel.BinaryBinding(func(a, b ref.Val) ref.Val {
			if !argOK(kinds[0], a) {
				return noOverload(a)
			}
			if !argOK(kinds[1], b) {
				return noOverload(b)
			}
			return fn(a, b)
		})
	case func(...ref.Val) ref.Val:
		binding = cel.FunctionBinding(func(args ...ref.Val) ref.Val {
			for i, k := range kinds {
				if !argOK(k, args[i]) {
					return noOverload(args[i])
				}
			}
			return fn(args...)
		})
	default:
		panic(fmt.Sprintf("rules: helper %s: unsupported implementation %T", id, impl))
	}
	var overload cel.FunctionOpt
	if member {
		overload = cel.MemberOverload(id, params, result, binding)
	} else {
		overload = cel.Overload(id, params, result, binding)
	}
	return cel.Function(name, overload, decls.DisableTypeGuards(true))
}

func helpers(loc *time.Location) []cel.EnvOption {
	F, S, T, D, I, A := argFacts, argString, argTimestamp, argDuration, argInt, argAny
	k := func(ks ...argKind) []argKind { return ks }
	str := func(v ref.Val) string { return string(v.(types.String)) }
	tm := func(v ref.Val) time.Time { return v.(types.Timestamp).Time }
	return []cel.EnvOption{
		helper("any", "facts_any", true, k(F, S), cel.BoolType, func(l, kind ref.Val) ref.Val {
			return withFacts(l, func(fl *factList) ref.Val { return types.Bool(latest(fl.facts, str(kind), "", nil) != nil) })
		}),
		helper("any", "facts_any_attr", true, k(F, S, S, A), cel.BoolType, func(a ...ref.Val) ref.Val {
			return withFacts(a[0], func(fl *factList) ref.Val { return types.Bool(latest(fl.facts, str(a[1]), str(a[2]), a[3]) != nil) })
		}),
		helper("latest", "facts_latest", true, k(F, S), factType, func(l, kind ref.Val) ref.Val {
			return withFacts(l, func(fl *factList) ref.Val { return orNoFact(latest(fl.facts, str(kind), "", nil)) })
		}),
		helper("latest", "facts_latest_attr", true, k(F, S, S, A), factType, func(a ...ref.Val) ref.Val {
			return withFacts(a[0], func(fl *factList) ref.Val { return orNoFact(latest(fl.facts, str(a[1]), str(a[2]), a[3])) })
		}),
		helper("count", "facts_count", true, k(F, S, T), cel.IntType, func(a ...ref.Val) ref.Val {
			return withFacts(a[0], func(fl *factList) ref.Val { return types.Int(count(fl.facts, str(a[1]), "", nil, tm(a[2]))) })
		}),
		helper("count", "facts_count_attr", true, k(F, S, S, A, T), cel.IntType, func(a ...ref.Val) ref.Val {
			return withFacts(a[0], func(fl *factList) ref.Val {
				return types.Int(count(fl.facts, str(a[1]), str(a[2]), a[3], tm(a[4])))
			})
		}),
		helper("active", "facts_active", true, k(F, S), cel.BoolType, func(l, kind ref.Val) ref.Val {
			return withNow(l, "active", func(fl *factList) ref.Val {
				_, ok := activeUntil(fl.facts, str(kind), fl.now)
				return types.Bool(ok)
			})
		}),
		helper("activeUntil", "facts_active_until", true, k(F, S), cel.TimestampType, func(l, kind ref.Val) ref.Val {
			return withNow(l, "activeUntil", func(fl *factList) ref.Val {
				until, _ := activeUntil(fl.facts, str(kind), fl.now)
				return types.Timestamp{Time: until}
			})
		}),
		helper("negatives", "facts_negatives", true, k(F, T, I, D, D), cel.BoolType, func(a ...ref.Val) ref.Val {
			return withFacts(a[0], func(fl *factList) ref.Val {
				return types.Bool(negatives(fl.facts, tm(a[1]), int64(a[2].(types.Int)),
					a[3].(types.Duration).Duration, a[4].(types.Duration).Duration))
			})
		}),
		helper("negativeSince", "facts_negative_since", true, k(F, T), cel.BoolType, func(l, since ref.Val) ref.Val {
			return withFacts(l, func(fl *factList) ref.Val { return types.Bool(negativeSince(fl.facts, tm(since), false)) })
		}),
		helper("singleNegativeSince", "facts_single_negative_since", true, k(F, T), cel.BoolType, func(l, since ref.Val) ref.Val {
			return withFacts(l, func(fl *factList) ref.Val { return types.Bool(negativeSince(fl.facts, tm(since), true)) })
		}),
		helper("normalDays", "facts_normal_days", true, k(F, T), cel.IntType, func(l, since ref.Val) ref.Val {
			return withFacts(l, func(fl *factList) ref.Val { return types.Int(normalDays(fl.facts, tm(since), loc)) })
		}),
		helper("days", "days_int", false, k(I), cel.DurationType, func(n ref.Val) ref.Val {
			return durationOf(n.(types.Int), 24*time.Hour)
		}),
		helper("hours", "hours_int", false, k(I), cel.DurationType, func(n ref.Val) ref.Val {
			return durationOf(n.(types.Int), time.Hour)
		}),
	}
}

// maxDurationUnits keeps days(n) and hours(n) far from time.Duration overflow
// (about 292 years) while allowing anything a rule could mean.
const maxDurationUnits = 100_000

func durationOf(n types.Int, unit time.Duration) ref.Val {
	if n < -maxDurationUnits || n > maxDurationUnits {
		return types.NewErr("duration of %d units is out of range", int64(n))
	}
	return types.Duration{Duration: time.Duration(n) * unit}
}

func orNoFact(f *fact.Fact) ref.Val {
	if f == nil {
		return factVal{&noFact}
	}
	return factVal{f}
}

// withFacts runs a helper on the facts variable directly, or on a list a rule
// derived from it (facts.filter(...)), which must be copied first.
func withFacts(l ref.Val, fn func(*factList) ref.Val) ref.Val {
	if fl, ok := l.(*factList); ok {
		return fn(fl)
	}
	fl, err := copyFacts(l)
	if err != nil {
		return err
	}
	return fn(fl)
}

// withNow is withFacts for helpers that depend on the current time, which
// only the facts variable carries.
func withNow(l ref.Val, name string, fn func(*factList) ref.Val) ref.Val {
	if fl, ok := l.(*factList); ok {
		return fn(fl)
	}
	return types.NewErr("%s() applies to the facts variable, not to a list derived from it", name)
}

func copyFacts(l ref.Val) (*factList, ref.Val) {
	lister, ok := l.(traits.Lister)
	if !ok {
		return nil, types.NewErr("expected a list of facts, got %s", l.Type().TypeName())
	}
	n := int(lister.Size().(types.Int))
	out := &factList{facts: make([]fact.Fact, 0, n)}
	for i := 0; i < n; i++ {
		fv, ok := lister.Get(types.Int(i)).(factVal)
		if !ok {
			return nil, types.NewErr("expected a list of facts")
		}
		out.facts = append(out.facts, *fv.f)
	}
	return out, nil
}

// latest returns the fact of the kind with the latest at, optionally with an
// attribute matching want; among equal times the later one in the list,
// which is the order the store recorded them in.
func latest(facts []fact.Fact, kind, attr string, want ref.Val) *fact.Fact {
	var best *fact.Fact
	for i := range facts {
		f := &facts[i]
		if f.Kind != kind || (best != nil && f.At.Before(best.At)) {
			continue
		}
		if want != nil && !attrMatches(f, attr, want) {
			continue
		}
		best = f
	}
	return best
}

func count(facts []fact.Fact, kind, attr string, want ref.Val, since time.Time) int {
	n := 0
	for i := range facts {
		f := &facts[i]
		if f.Kind != kind || f.At.Before(since) {
			continue
		}
		if want != nil && !attrMatches(f, attr, want) {
			continue
		}
		n++
	}
	return n
}

// activeUntil reports whether a fact of the kind holds at now and, if so, the
// latest end among those that do (never for an open one).
func activeUntil(facts []fact.Fact, kind string, now time.Time) (time.Time, bool) {
	var until time.Time
	found := false
	for i := range facts {
		f := &facts[i]
		if f.Kind != kind || !f.ActiveAt(now) {
			continue
		}
		found = true
		end := f.Until
		if end.IsZero() {
			end = never
		}
		if end.After(until) {
			until = end
		}
	}
	return until, found
}

func isNegative(f *fact.Fact, singleTube bool) bool {
	if f.Kind != fact.NATResult || f.Attrs["result"] != fact.ResultNegative {
		return false
	}
	if !singleTube {
		return true
	}
	c, _ := f.Attr("tube_capacity")
	n, ok := fact.Number(c)
	return ok && n == 1
}

func negativeSince(facts []fact.Fact, since time.Time, singleTube bool) bool {
	for i := range facts {
		if f := &facts[i]; !f.At.Before(since) && isNegative(f, singleTube) {
			return true
		}
	}
	return false
}

// negatives reports whether n negative tests sampled at or after since exist
// such that consecutive ones are at least gap apart and the first and last
// are at most within apart (Anhui: 2 tests in 3 days, 24 h apart).
func negatives(facts []fact.Fact, since time.Time, n int64, gap, within time.Duration) bool {
	if n <= 0 {
		return true
	}
	var buf [16]time.Time
	times := buf[:0]
	for i := range facts {
		if f := &facts[i]; !f.At.Before(since) && isNegative(f, false) {
			times = append(times, f.At)
		}
	}
	if int64(len(times)) < n {
		return false
	}
	slices.SortFunc(times, time.Time.Compare)
	// From each possible first test, taking the earliest test that keeps the
	// gap is never worse than a later one, so one greedy pass per start is exact.
	for i, first := range times {
		got, last := int64(1), first
		for _, t := range times[i+1:] {
			if got >= n || t.Sub(first) > within {
				break
			}
			if t.Sub(last) >= gap {
				got++
				last = t
			}
		}
		if got >= n {
			return true
		}
	}
	return false
}

// normalDays counts the consecutive days, starting the day after since's day
// in the region's zone, on each of which the person declared and every
// declaration was normal (no fever, no symptom, no exposure). The run ends
// at the first day without a declaration or with an abnormal one. It cannot
// grow by time alone, which is why rules built on it need no until.
func normalDays(facts []fact.Fact, since time.Time, loc *time.Location) int {
	first := dayNumber(since, loc) + 1
	type day struct {
		n      int64
		normal bool
	}
	var buf [32]day
	days := buf[:0]
	for i := range facts {
		f := &facts[i]
		if f.Kind != fact.Declaration {
			continue
		}
		if d := dayNumber(f.At, loc); d >= first {
			days = append(days, day{d, !f.DeclaresIllness() && !f.DeclaresExposure()})
		}
	}
	slices.SortFunc(days, func(a, b day) int { return int(a.n - b.n) })
	run, want := 0, first
	for i := 0; i < len(days); {
		if days[i].n != want {
			break
		}
		normal := true
		for ; i < len(days) && days[i].n == want; i++ {
			normal = normal && days[i].normal
		}
		if !normal {
			break
		}
		run++
		want++
	}
	return run
}

// dayNumber numbers calendar days in loc, so that consecutive local days
// differ by one whatever the offset.
func dayNumber(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func attrMatches(f *fact.Fact, name string, want ref.Val) bool {
	var v any
	if name == "illness" && f.Kind == fact.Declaration {
		v = f.DeclaresIllness()
	} else {
		var ok bool
		if v, ok = f.Attr(name); !ok {
			return false
		}
	}
	return valueMatches(v, want)
}

// valueMatches compares an attribute as stored (JSON-decoded Go values) with
// a CEL value without converting the attribute: numbers compare by value
// across int and double, a list attribute matches when it contains the
// wanted value, and a wanted list matches any of its elements.
func valueMatches(v any, want ref.Val) bool {
	switch w := want.(type) {
	case types.String:
		switch x := v.(type) {
		case string:
			return x == string(w)
		case []string:
			return slices.Contains(x, string(w))
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok && s == string(w) {
					return true
				}
			}
		}
		return false
	case types.Bool:
		b, ok := v.(bool)
		return ok && b == bool(w)
	case types.Int:
		n, ok := fact.Number(v)
		return ok && n == float64(w)
	case types.Uint:
		n, ok := fact.Number(v)
		return ok && n == float64(w)
	case types.Double:
		n, ok := fact.Number(v)
		return ok && n == float64(w)
	case traits.Lister:
		size := int(w.Size().(types.Int))
		for i := 0; i < size; i++ {
			if valueMatches(v, w.Get(types.Int(i))) {
				return true
			}
		}
		return false
	}
	return false
}

// defaultLocation is the region's zone when the caller names none. China has
// kept UTC+8 without daylight saving since 1991, so a fixed zone is a correct
// fallback where the system has no zoneinfo.
func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Shanghai", 8*3600)
}
