package rules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/interpreter"

	"github.com/healthcode/healthcode/internal/fact"
)

// The CEL side of a fact. Facts are not converted into CEL maps: a factVal
// points into the caller's slice and fields are read on access, so a rule
// that looks at two facts out of twenty costs two field reads, not twenty
// map constructions.

const factTypeName = "Fact"

var factType = types.NewObjectType(factTypeName)

// never is the latest time an until can name; an until at or after it means
// the rule does not end by time (an open fact), so no re-evaluation is due.
var never = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// noFact is what latest() returns when there is none: kind "" and every time
// the zero timestamp, so "latest(x).at > y" is false without a guard.
var noFact fact.Fact

type factVal struct{ f *fact.Fact }

func (v factVal) ConvertToNative(t reflect.Type) (any, error) {
	switch t {
	case reflect.TypeFor[*fact.Fact](), reflect.TypeFor[any]():
		return v.f, nil
	case reflect.TypeFor[fact.Fact]():
		return *v.f, nil
	}
	return nil, fmt.Errorf("cannot convert Fact to %v", t)
}

func (v factVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.TypeType:
		return factType
	case factType:
		return v
	}
	if t.TypeName() == factTypeName {
		return v
	}
	return types.NewErr("type conversion error from Fact to '%s'", t.TypeName())
}

func (v factVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(factVal)
	if !ok {
		return types.False
	}
	return types.Bool(o.f == v.f || reflect.DeepEqual(*o.f, *v.f))
}

func (v factVal) Type() ref.Type { return factType }
func (v factVal) Value() any     { return v.f }

// Get lets a Fact be read where the checker could not tell its type (a dyn
// value): the interpreter then selects fields through Indexer.
func (v factVal) Get(index ref.Val) ref.Val {
	name, ok := index.(types.String)
	if !ok {
		return types.NewErr("no such key: %v", index)
	}
	fd := factFields[string(name)]
	if fd == nil {
		return types.NewErr("no such field: %s", name)
	}
	return fd.get(v.f)
}

type factField struct {
	t   *types.Type
	get func(f *fact.Fact) ref.Val
}

var factFieldNames = []string{"kind", "at", "until", "open", "end", "source", "recorded_at", "attrs"}

// zeroTime is boxed once: "facts.latest(kind).at" on a person without such a
// fact is the most common field read, and boxing a Timestamp allocates.
var zeroTime ref.Val = types.Timestamp{}

func timestamp(t time.Time) ref.Val {
	if t.IsZero() {
		return zeroTime
	}
	return types.Timestamp{Time: t}
}

var factFields = map[string]*factField{
	"kind":  {types.StringType, func(f *fact.Fact) ref.Val { return types.String(f.Kind) }},
	"at":    {types.TimestampType, func(f *fact.Fact) ref.Val { return timestamp(f.At) }},
	"until": {types.TimestampType, func(f *fact.Fact) ref.Val { return timestamp(f.Until) }},
	"open":  {types.BoolType, func(f *fact.Fact) ref.Val { return types.Bool(f.Until.IsZero()) }},
	"end": {types.TimestampType, func(f *fact.Fact) ref.Val {
		if f.Until.IsZero() {
			return timestamp(f.At)
		}
		return timestamp(f.Until)
	}},
	"source":      {types.StringType, func(f *fact.Fact) ref.Val { return types.String(f.Source) }},
	"recorded_at": {types.TimestampType, func(f *fact.Fact) ref.Val { return timestamp(f.Recorded()) }},
	"attrs":       {types.NewMapType(types.StringType, types.DynType), attrsOf},
}

// attrsOf builds the attribute map a rule sees: recorded attributes, the
// kind's defaults for absent ones, and the derived "illness" of a
// declaration, so that f.attrs agrees with what the helpers match on.
func attrsOf(f *fact.Fact) ref.Val {
	m := make(map[string]any, len(f.Attrs)+2)
	if info, ok := fact.Lookup(f.Kind); ok {
		for _, a := range info.Attrs {
			if a.Default != nil {
				m[a.Name] = a.Default
			}
		}
	}
	for k, v := range f.Attrs {
		if n, ok := v.(json.Number); ok {
			v, _ = n.Float64()
		}
		m[k] = v
	}
	if f.Kind == fact.Declaration {
		m["illness"] = f.DeclaresIllness()
	}
	return types.NewStringInterfaceMap(types.DefaultTypeAdapter, m)
}

// factProvider adds the Fact type to the standard registry.
type factProvider struct{ *types.Registry }

func (p factProvider) FindStructType(name string) (*types.Type, bool) {
	if name == factTypeName {
		return types.NewTypeTypeWithParam(factType), true
	}
	return p.Registry.FindStructType(name)
}

func (p factProvider) FindStructFieldNames(name string) ([]string, bool) {
	if name == factTypeName {
		return factFieldNames, true
	}
	return p.Registry.FindStructFieldNames(name)
}

func (p factProvider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if name != factTypeName {
		return p.Registry.FindStructFieldType(name, field)
	}
	fd := factFields[field]
	if fd == nil {
		return nil, false
	}
	return &types.FieldType{
		Type:  fd.t,
		IsSet: func(any) bool { return true },
		GetFrom: func(target any) (any, error) {
			f, ok := target.(*fact.Fact)
			if !ok {
				return nil, fmt.Errorf("field %s of a %T", field, target)
			}
			return fd.get(f), nil
		},
	}, true
}

// NewValue refuses Fact{...} literals: rules read facts, they do not make them.
func (p factProvider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if name == factTypeName {
		return types.NewErr("facts cannot be constructed in a rule")
	}
	return p.Registry.NewValue(name, fields)
}

// factList is the value of the facts variable: the visible facts of one
// person at one instant. It carries now so that helpers such as active()
// need no extra argument.
type factList struct {
	facts []fact.Fact
	now   time.Time
}

func (l *factList) ConvertToNative(t reflect.Type) (any, error) {
	switch t {
	case reflect.TypeFor[[]fact.Fact](), reflect.TypeFor[any]():
		return l.facts, nil
	}
	return l.generic().ConvertToNative(t)
}

func (l *factList) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.TypeType:
		return types.ListType
	case types.ListType:
		return l
	}
	return types.NewErr("type conversion error from list to '%s'", t.TypeName())
}

func (l *factList) Equal(other ref.Val) ref.Val { return l.generic().Equal(other) }
func (l *factList) Type() ref.Type              { return types.ListType }
func (l *factList) Value() any                  { return l.facts }
func (l *factList) Add(other ref.Val) ref.Val   { return l.generic().Add(other) }
func (l *factList) Size() ref.Val               { return types.Int(len(l.facts)) }

func (l *factList) Contains(v ref.Val) ref.Val {
	fv, ok := v.(factVal)
	if !ok {
		return types.False
	}
	for i := range l.facts {
		if (factVal{&l.facts[i]}).Equal(fv) == types.True {
			return types.True
		}
	}
	return types.False
}

func (l *factList) Get(index ref.Val) ref.Val {
	i, ok := index.(types.Int)
	if !ok {
		return types.ValOrErr(index, "no such overload")
	}
	if i < 0 || int(i) >= len(l.facts) {
		return types.NewErr("index out of range: %d", i)
	}
	return factVal{&l.facts[i]}
}

func (l *factList) Iterator() traits.Iterator { return &factIter{l: l} }

// generic materialises the list for the rare operations (concatenation,
// equality) that the standard list implementation already gets right.
func (l *factList) generic() traits.Lister {
	elems := make([]ref.Val, len(l.facts))
	for i := range l.facts {
		elems[i] = factVal{&l.facts[i]}
	}
	return types.NewRefValList(types.DefaultTypeAdapter, elems)
}

type factIter struct {
	l *factList
	i int
}

func (it *factIter) ConvertToNative(reflect.Type) (any, error) {
	return nil, fmt.Errorf("type conversion on iterators not supported")
}
func (it *factIter) ConvertToType(ref.Type) ref.Val { return types.NewErr("no such overload") }
func (it *factIter) Equal(ref.Val) ref.Val          { return types.NewErr("no such overload") }
func (it *factIter) Type() ref.Type                 { return types.IteratorType }
func (it *factIter) Value() any                     { return nil }
func (it *factIter) HasNext() ref.Val               { return types.Bool(it.i < len(it.l.facts)) }
func (it *factIter) Next() ref.Val {
	if it.i >= len(it.l.facts) {
		return nil
	}
	it.i++
	return factVal{&it.l.facts[it.i-1]}
}

// activation resolves the two variables without building a map per call;
// the list lives inside it so that one evaluation allocates once.
type activation struct {
	list factList
	now  ref.Val
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "facts":
		return &a.list, true
	case "now":
		return a.now, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
