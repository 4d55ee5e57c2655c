package rules

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrColorUnknown = apierr.BadRequest("color_unknown", "unknown colour: use green, yellow or red")
	// ErrJSON is a rule set that is not a JSON object at all; ErrInvalid
	// is one that is, with problems (see InvalidError for the list).
	ErrJSON    = apierr.BadRequest("rules_json", "a rule set is a JSON object")
	ErrInvalid = apierr.BadRequest("rules_invalid", "the rule set has problems")
)
