// Package fact is the vocabulary that features and the status engine share.
// Features append facts about a person (a confirmed case, a test result, a
// declaration); the status engine reads them and the rules decide a colour.
// Keeping the kinds and their attributes in one registry means a rule can
// rely on an attribute being present and well typed, and the console can
// list what may be recorded.
package fact

import (
	"time"
)

// Fact is one thing known about a person. It deliberately carries no storage
// id or author: the store adds those, and the rules must not depend on them.
type Fact struct {
	Kind string `json:"kind"`
	// At is when the fact became true (sampling time for a test, time of
	// exposure for a contact, decision time for an appeal).
	At time.Time `json:"at"`
	// Until is when it stops being true; zero means open-ended or
	// instantaneous, depending on the kind (see KindInfo.Until).
	Until time.Time      `json:"until,omitzero"`
	Attrs map[string]any `json:"attrs,omitempty"`
	// Source points at the record that produced the fact (a tracing run,
	// a lab upload, an integrator's reference), for the audit trail.
	Source string `json:"source,omitempty"`
	// RecordedAt is when the platform learnt the fact. It differs from At
	// when results arrive late, which matters for appeals: an appeal hides
	// what was known when it was granted, not what happened before it.
	RecordedAt time.Time `json:"recorded_at,omitzero"`
}

// Open reports whether the fact has no end.
func (f *Fact) Open() bool { return f.Until.IsZero() }

// ActiveAt reports whether the fact holds at t: it has started and has not
// ended (an open fact never ends).
func (f *Fact) ActiveAt(t time.Time) bool {
	return !t.Before(f.At) && (f.Until.IsZero() || t.Before(f.Until))
}

// Recorded returns RecordedAt, or At when the recorder did not say, so that
// hand-written facts (rule examples, imports) still order sensibly.
func (f *Fact) Recorded() time.Time {
	if f.RecordedAt.IsZero() {
		return f.At
	}
	return f.RecordedAt
}

// Attr returns the named attribute, falling back to the default the kind
// declares for it (an absent tube_capacity means a single tube). The second
// result is false when the attribute is absent and has no default.
func (f *Fact) Attr(name string) (any, bool) {
	if v, ok := f.Attrs[name]; ok {
		return v, true
	}
	if k := registry[f.Kind]; k != nil {
		if a := k.attr(name); a != nil && a.Default != nil {
			return a.Default, true
		}
	}
	return nil, false
}

// Validate checks the fact against the registry; see the package function.
func (f *Fact) Validate() error { return Validate(f.Kind, f.At, f.Until, f.Attrs) }

// ValidateAt checks the fact as recorded at now (see ValidateAt).
func (f *Fact) ValidateAt(now time.Time) error {
	return ValidateAt(f.Kind, f.At, f.Until, f.Attrs, now)
}

// DeclaresIllness reports whether a declaration reports a fever (37.3 °C or
// more) or any symptom: what Hangzhou turned yellow for.
func (f *Fact) DeclaresIllness() bool {
	if f.Kind != Declaration {
		return false
	}
	if t, ok := toFloat(f.Attrs["temperature"]); ok && t >= FeverCelsius {
		return true
	}
	s, _ := toStrings(f.Attrs["symptoms"])
	return len(s) > 0
}

// DeclaresExposure reports whether a declaration declares an exposure.
func (f *Fact) DeclaresExposure() bool {
	if f.Kind != Declaration {
		return false
	}
	b, _ := f.Attrs["exposure"].(bool)
	return b
}
