package fact

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks a fact before it is stored: the kind is known, at is set,
// until follows the kind's policy and comes after at, and every attribute is
// known, well typed and in range, with the required ones present. The error
// is an *apierr.Error whose code says which of these failed:
//
//	fact_kind_unknown, fact_at_missing, fact_until_required,
//	fact_until_not_allowed, fact_until_before_at, fact_attr_unknown,
//	fact_attr_missing, fact_attr_type, fact_attr_out_of_range,
//	fact_attr_not_allowed, fact_attr_duplicate, fact_attr_format,
//	fact_attr_conflict
func Validate(kind string, at, until time.Time, attrs map[string]any) error {
	return validate(kind, at, until, attrs)
}

// MaxSkew is how far past the recorder's clock a fact's at may lie: the
// clocks of labs, sampling phones and other nodes drift a little.
const MaxSkew = 5 * time.Minute

// MaxUntilAhead is how far past now an until may lie (a year of isolation
// or of a granted appeal is already far more than any rule asks).
const MaxUntilAhead = 366 * 24 * time.Hour

// ValidateAt is Validate for a fact recorded at now: something that
// happened cannot have happened later than now (give or take MaxSkew),
// while an until, where the kind has one, and the at of a scheduled kind (an
// isolation order) may lie ahead up to MaxUntilAhead.
func ValidateAt(kind string, at, until time.Time, attrs map[string]any, now time.Time) error {
	if err := validate(kind, at, until, attrs); err != nil {
		return err
	}
	if k := registry[kind]; k.Scheduled && at.After(now.Add(MaxUntilAhead)) {
		return ErrAtFuture.Withf("%s: at (%s) is more than %d days ahead", kind, at.UTC().Format(time.RFC3339), int(MaxUntilAhead.Hours()/24))
	} else if !k.Scheduled && at.After(now.Add(MaxSkew)) {
		return ErrAtFuture.Withf("%s: at (%s) is later than now (%s)", kind, at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !until.IsZero() && until.After(now.Add(MaxUntilAhead)) {
		return ErrUntilTooFar.Withf("%s: until (%s) is more than %d days ahead", kind, until.UTC().Format(time.RFC3339), int(MaxUntilAhead.Hours()/24))
	}
	return nil
}

func validate(kind string, at, until time.Time, attrs map[string]any) error {
	k := registry[kind]
	if k == nil {
		return ErrKindUnknown.Withf("unknown fact kind %q", kind)
	}
	if at.IsZero() {
		return ErrAtMissing.Withf("%s: at is required", kind)
	}
	switch {
	case k.Until == UntilRequired && until.IsZero():
		return ErrUntilRequired.Withf("%s: until is required", kind)
	case k.Until == UntilNone && !until.IsZero():
		return ErrUntilNotAllowed.Withf("%s: until is not allowed, a %s has no duration", kind, kind)
	case !until.IsZero() && !until.After(at):
		return ErrUntilBeforeAt.Withf("%s: until (%s) must be after at (%s)",
			kind, until.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	// Sorted so that the same bad input always gets the same error.
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		a := k.attr(name)
		if a == nil {
			return ErrAttrUnknown.Withf("%s: unknown attribute %q (known: %s)", kind, name, attrNames(k))
		}
		if attrs[name] == nil {
			continue // JSON null is absence; a required one is reported below
		}
		if err := checkAttr(kind, a, attrs[name]); err != nil {
			return &AttrError{Kind: kind, Attr: a, Err: err}
		}
	}
	for i := range k.Attrs {
		if a := &k.Attrs[i]; a.Required && attrs[a.Name] == nil {
			return &AttrError{Kind: kind, Attr: a, Err: ErrAttrMissing.Withf("%s: attribute %q is required", kind, a.Name)}
		}
	}
	if k.check != nil {
		return k.check(attrs)
	}
	return nil
}

// AttrError is a refusal of one attribute: the *apierr.Error it wraps says
// why, and Attr which, so that a form names the field in its reader's
// language (体温 rather than "temperature").
type AttrError struct {
	Kind string
	Attr *AttrInfo
	Err  error
}

func (e *AttrError) Error() string { return e.Err.Error() }
func (e *AttrError) Unwrap() error { return e.Err }

// RefuseAttr is err about the attribute name of kind, for a form that reads
// a field before Validate sees it (a temperature that is not a number).
func RefuseAttr(kind, name string, err error) error {
	if k := registry[kind]; k != nil {
		if a := k.attr(name); a != nil {
			return &AttrError{Kind: kind, Attr: a, Err: err}
		}
	}
	return err
}

func attrNames(k *KindInfo) string {
	if len(k.Attrs) == 0 {
		return "none"
	}
	names := make([]string, len(k.Attrs))
	for i, a := range k.Attrs {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

func typeErr(kind string, a *AttrInfo, want string, v any) error {
	return ErrAttrType.Withf("%s: attribute %q must be %s, got %s", kind, a.Name, want, describe(v))
}

func rangeErr(kind string, a *AttrInfo, format string, args ...any) error {
	return ErrAttrOutOfRange.Withf("%s: attribute %q %s", kind, a.Name, fmt.Sprintf(format, args...))
}

func conflict(kind, attr, why string) error {
	return ErrAttrConflict.Withf("%s: attribute %q: %s", kind, attr, why)
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	if _, ok := toFloat(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func checkAttr(kind string, a *AttrInfo, v any) error {
	switch a.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return typeErr(kind, a, "a string", v)
		}
		return checkString(kind, a, s)
	case TypeEnum:
		s, ok := v.(string)
		if !ok {
			return typeErr(kind, a, "a string", v)
		}
		if !slices.Contains(a.Values, s) {
			return ErrAttrNotAllowed.Withf("%s: attribute %q must be one of %s, got %q",
				kind, a.Name, strings.Join(a.Values, ", "), s)
		}
	case TypeEnumList:
		list, ok := toStrings(v)
		if !ok {
			return typeErr(kind, a, "a list of strings", v)
		}
		if a.Max != nil && float64(len(list)) > *a.Max {
			return rangeErr(kind, a, "has %d entries, at most %g allowed", len(list), *a.Max)
		}
		for i, s := range list {
			if !slices.Contains(a.Values, s) {
				return ErrAttrNotAllowed.Withf("%s: attribute %q: %q is not one of %s",
					kind, a.Name, s, strings.Join(a.Values, ", "))
			}
			if slices.Contains(list[:i], s) {
				return ErrAttrDuplicate.Withf("%s: attribute %q lists %q twice", kind, a.Name, s)
			}
		}
	case TypeBool:
		if _, ok := v.(bool); !ok {
			return typeErr(kind, a, "a boolean", v)
		}
	case TypeInt:
		f, ok := toFloat(v)
		if !ok {
			return typeErr(kind, a, "an integer", v)
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return typeErr(kind, a, "an integer", v)
		}
		if len(a.OneOf) > 0 && !slices.Contains(a.OneOf, int64(f)) {
			return rangeErr(kind, a, "must be one of %s, got %g", joinInts(a.OneOf), f)
		}
		return checkNumber(kind, a, f)
	case TypeNumber:
		f, ok := toFloat(v)
		if !ok {
			return typeErr(kind, a, "a number", v)
		}
		return checkNumber(kind, a, f)
	case TypeTime:
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				return ErrAttrMissing.Withf("%s: attribute %q is the zero time", kind, a.Name)
			}
		case string:
			if _, err := time.Parse(time.RFC3339Nano, t); err != nil {
				return typeErr(kind, a, "an RFC 3339 time", v)
			}
		default:
			return typeErr(kind, a, "an RFC 3339 time", v)
		}
	}
	return nil
}

func checkString(kind string, a *AttrInfo, s string) error {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return rangeErr(kind, a, "must not be empty")
	}
	if a.Max != nil && float64(n) > *a.Max {
		return rangeErr(kind, a, "is %d characters long, at most %g allowed", n, *a.Max)
	}
	switch a.Format {
	case FormatRegion:
		if !isDigits(s, 6) {
			return ErrAttrFormat.Withf("%s: attribute %q must be a 6-digit GB/T 2260 region code, got %q", kind, a.Name, s)
		}
	case FormatRegionOrCountry:
		if !isDigits(s, 6) && !isUpper(s, 3) {
			return ErrAttrFormat.Withf("%s: attribute %q must be a 6-digit GB/T 2260 region code or a GB/T 2659 alpha-3 country code, got %q", kind, a.Name, s)
		}
	}
	return nil
}

func checkNumber(kind string, a *AttrInfo, f float64) error {
	if math.IsNaN(f) || (a.Min != nil && f < *a.Min) || (a.Max != nil && f > *a.Max) {
		lo, hi := "-inf", "+inf"
		if a.Min != nil {
			lo = fmt.Sprintf("%g", *a.Min)
		}
		if a.Max != nil {
			hi = fmt.Sprintf("%g", *a.Max)
		}
		return rangeErr(kind, a, "must be between %s and %s, got %g", lo, hi, f)
	}
	return nil
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isUpper(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func joinInts(v []int64) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// toFloat accepts every numeric representation an attribute can arrive in:
// float64 from encoding/json, json.Number with UseNumber, Go integers from
// code that builds facts directly.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case int16:
		return float64(n), true
	case int8:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint8:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return int64(f), true
}

// Number returns v as a float64 if it is any numeric representation.
func Number(v any) (float64, bool) { return toFloat(v) }

func toStrings(v any) ([]string, bool) {
	switch l := v.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// Strings returns v as a list of strings if it is one ([]string, or []any
// of strings as decoded from JSON).
func Strings(v any) ([]string, bool) { return toStrings(v) }
