// Package rules turns a person's facts into a colour. A rule set is data (an
// ordered list of rules whose conditions are CEL expressions over the facts
// and the current time) so that a health authority can change the rules
// while the system runs; Compile validates a set and Eval applies it.
package rules

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/fact"
)

// Text is a message in zh-CN and English.
type Text = fact.Text

// Set is a rule set: the rules in order, and example cases it must pass.
type Set struct {
	Rules    []Rule    `json:"rules"`
	Examples []Example `json:"examples,omitempty"`
}

// Rule gives a colour to everyone its condition matches.
type Rule struct {
	ID    string `json:"id"`
	Color Color  `json:"color"`
	// Condition is a CEL expression of type bool over facts and now.
	Condition string `json:"condition"`
	// Until is an optional CEL expression of type timestamp: when the rule
	// stops matching by the passing of time alone (14 days after a contact).
	// The rule matches only while now is before it, which keeps the
	// re-evaluation time the engine reports exact.
	Until  string `json:"until,omitempty"`
	Reason Text   `json:"reason"`
	Advice Text   `json:"advice,omitzero"`
	// ValidFrom and ValidTo bound when the rule is in force (zero = unbounded).
	ValidFrom time.Time `json:"valid_from,omitzero"`
	ValidTo   time.Time `json:"valid_to,omitzero"`
}

// Example is a case the set must decide as stated, checked by Compile.
type Example struct {
	Name      string      `json:"name"`
	Now       time.Time   `json:"now"`
	Facts     []fact.Fact `json:"facts"`
	WantColor Color       `json:"want_color"`
	// WantRule is the rule that must decide; "" means no rule matches.
	WantRule string `json:"want_rule,omitempty"`
	// WantNextEval, when set, is the re-evaluation time the decision must carry.
	WantNextEval time.Time `json:"want_next_eval,omitzero"`
}

// ParseSet reads a rule set from JSON, refusing unknown fields so that a
// misspelt "untill" is an error rather than a rule that never expires.
func ParseSet(data []byte) (Set, error) {
	// encoding/json takes null for an empty object; an empty set is {}.
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return Set{}, ErrJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Set
	if err := dec.Decode(&s); err != nil {
		if e, ok := apierr.As(err); ok {
			return Set{}, e
		}
		return Set{}, ErrJSON.Withf("rule set is not valid JSON: %v", err)
	}
	if dec.More() {
		return Set{}, ErrJSON.Withf("rule set has trailing data after the JSON object")
	}
	return s, nil
}
