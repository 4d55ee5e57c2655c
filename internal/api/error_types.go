package api

import "github.com/healthcode/healthcode/internal/rules"

// ErrorResponse is the body of every 4xx and 5xx answer.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: Code is stable, for programs; Message
// is for people, and may change.
type ErrorDetail struct {
	Code     string        `json:"code" doc:"stable, snake_case: what a program matches"`
	Message  string        `json:"message" doc:"for people, in English; may change"`
	Problems []RuleProblem `json:"problems,omitempty" doc:"with rules_invalid only: every problem of the rule set"`
}

// RuleProblem is one problem of a rule set that does not compile or fails
// its own examples.
type RuleProblem struct {
	Rule    string `json:"rule,omitempty" doc:"the id of the rule at fault, or #n (0-based) when it has none"`
	Example string `json:"example,omitempty" doc:"the name of the failing example, or #n"`
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func ruleProblems(ps []rules.Problem) []RuleProblem {
	out := make([]RuleProblem, len(ps))
	for i, p := range ps {
		out[i] = RuleProblem(p)
	}
	return out
}

var errInternal = ErrorResponse{ErrorDetail{Code: "internal", Message: "the server failed; the error was logged"}}

// errAbandoned answers a request whose client went away; nobody reads it.
var errAbandoned = ErrorResponse{ErrorDetail{Code: "client_closed", Message: "the client closed the request"}}
