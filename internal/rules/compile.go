package rules

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/healthcode/healthcode/internal/apierr"
)

// Options configure compilation.
type Options struct {
	// Location is the region's time zone, in which normalDays counts days.
	// Nil means Asia/Shanghai.
	Location *time.Location
}

// Program is a compiled, validated rule set. It is immutable and safe for
// concurrent use; compile once per rule-set version and keep it.
type Program struct {
	rules []compiledRule
	loc   *time.Location
	// kindBits numbers the kinds that rules require (see guardKinds).
	kindBits map[string]uint64
}

type compiledRule struct {
	Rule
	cond  cel.Program
	until cel.Program // nil when the rule has no until
	// need is the set of kinds (bits of kindBits) without which the
	// condition is false; Eval skips the rule when one is absent.
	need uint64
}

// Location returns the zone the program counts days in.
func (p *Program) Location() *time.Location { return p.loc }

// Problem is one reason a rule set is refused. The console shows the list
// next to the rules it names.
type Problem struct {
	// Rule is the id of the rule at fault, or "#n" (0-based position) when it has none.
	Rule string `json:"rule,omitempty"`
	// Example is the name of the failing example, or "#n".
	Example string `json:"example,omitempty"`
	// Field is the field at fault: id, color, reason, advice, valid_to,
	// condition, until, name, now, want_color, facts[i] or, for a failing
	// example, result.
	Field   string `json:"field,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Rule != "":
		fmt.Fprintf(&b, "rule %q", p.Rule)
	case p.Example != "":
		fmt.Fprintf(&b, "example %q", p.Example)
	}
	if p.Field != "" {
		fmt.Fprintf(&b, " %s", p.Field)
	}
	fmt.Fprintf(&b, ": %s", p.Message)
	return b.String()
}

// InvalidError is Compile's refusal: every problem found, not just the first,
// so that an operator can fix a set in one pass. It unwraps to an
// *apierr.Error with code rules_invalid (HTTP 400) whose message lists the
// problems; an API that wants the structured list takes it with errors.As.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string { return "rules_invalid: " + e.summary() }

func (e *InvalidError) Unwrap() error {
	return ErrInvalid.Withf("%s", e.summary())
}

func (e *InvalidError) summary() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// Problem codes.
const (
	CodeIDMissing        = "id_missing"
	CodeIDFormat         = "id_format"
	CodeIDDuplicate      = "id_duplicate"
	CodeIDReserved       = "id_reserved"
	CodeColorUnknown     = "color_unknown"
	CodeReasonMissing    = "reason_missing"
	CodeAdviceIncomplete = "advice_incomplete"
	CodeTextTooLong      = "text_too_long"
	CodeWindowInvalid    = "window_invalid"
	CodeExprMissing      = "expression_missing"
	CodeSyntax           = "syntax"
	CodeTypeCheck        = "type_check"
	CodeResultType       = "result_type"
	CodeExprInvalid      = "expression_invalid"
	CodeTooCostly        = "too_costly"
	CodeExampleName      = "example_name"
	CodeExampleNow       = "example_now"
	CodeExampleColor     = "example_color"
	CodeExampleFact      = "example_fact"
	CodeExampleFailed    = "example_failed"
)

// ProblemCodes lists every problem code, for a reader that words each one
// in its own language.
var ProblemCodes = []string{CodeIDMissing, CodeIDFormat, CodeIDDuplicate, CodeIDReserved, CodeColorUnknown,
	CodeReasonMissing, CodeAdviceIncomplete, CodeTextTooLong, CodeWindowInvalid, CodeExprMissing, CodeSyntax,
	CodeTypeCheck, CodeResultType, CodeExprInvalid, CodeTooCostly, CodeExampleName, CodeExampleNow,
	CodeExampleColor, CodeExampleFact, CodeExampleFailed}

// Compile validates a rule set and prepares it for evaluation. The set is
// refused, with an *InvalidError listing every problem, when a rule has no id
// or a duplicate or malformed one, a colour other than green, yellow or red,
// a reason missing in either language, advice in only one language, a
// reason or advice over 500 characters, a window that ends before it
// starts, a condition that does not parse or type-check as bool, an until
// that does not type-check as timestamp; or
// when any of the set's examples is malformed or decided otherwise than it
// states. Other errors are internal.
func Compile(s Set, opts Options) (*Program, error) {
	loc := opts.Location
	if loc == nil {
		loc = defaultLocation()
	}
	env, err := envFor(loc)
	if err != nil {
		return nil, fmt.Errorf("rules: CEL environment: %w", err)
	}
	var problems []Problem
	p := &Program{loc: loc, rules: make([]compiledRule, 0, len(s.Rules)), kindBits: map[string]uint64{}}
	seen := make(map[string]bool, len(s.Rules))
	for i, r := range s.Rules {
		name := r.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		add := func(field, code, format string, args ...any) {
			problems = append(problems, Problem{Rule: name, Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case r.ID == "":
			add("id", CodeIDMissing, "a rule needs an id")
		case !validID(r.ID):
			add("id", CodeIDFormat, "an id is 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter")
		case r.ID == AppealRuleID:
			add("id", CodeIDReserved, "%s is the id decisions carry while an appeal is in effect", AppealRuleID)
		case seen[r.ID]:
			add("id", CodeIDDuplicate, "another rule has this id")
		}
		seen[r.ID] = true
		if !r.Color.Valid() {
			add("color", CodeColorUnknown, "colour must be green, yellow or red")
		}
		if missing := missingLanguages(r.Reason); missing != "" {
			add("reason", CodeReasonMissing, "the reason is missing in %s", missing)
		}
		if missing := missingLanguages(r.Advice); missing != "" && missing != "zh-CN and English" {
			add("advice", CodeAdviceIncomplete, "the advice is missing in %s", missing)
		}
		if tooLong(r.Reason) {
			add("reason", CodeTextTooLong, "the reason is at most %d characters in each language", maxText)
		}
		if tooLong(r.Advice) {
			add("advice", CodeTextTooLong, "the advice is at most %d characters in each language", maxText)
		}
		if !r.ValidFrom.IsZero() && !r.ValidTo.IsZero() && !r.ValidTo.After(r.ValidFrom) {
			add("valid_to", CodeWindowInvalid, "valid_to must be after valid_from")
		}
		cr := compiledRule{Rule: r}
		var prob *Problem
		var checked *cel.Ast
		if cr.cond, checked, prob = compileExpr(env, r.Condition, cel.BoolType); prob != nil {
			add("condition", prob.Code, "%s", prob.Message)
		} else {
			cr.need = p.bits(guardKinds(checked))
		}
		if r.Until != "" {
			if cr.until, _, prob = compileExpr(env, r.Until, cel.TimestampType); prob != nil {
				add("until", prob.Code, "%s", prob.Message)
			}
		}
		p.rules = append(p.rules, cr)
	}
	if len(problems) > 0 {
		// Examples cannot be judged against rules that did not compile.
		return nil, &InvalidError{Problems: problems}
	}
	problems = append(problems, p.checkExamples(s.Examples)...)
	if len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	return p, nil
}

// maxText bounds a reason or advice in one language: what a phone shows
// under the code, not a page.
const maxText = 500

func tooLong(t Text) bool {
	return utf8.RuneCountInString(t.ZH) > maxText || utf8.RuneCountInString(t.EN) > maxText
}

func missingLanguages(t Text) string {
	switch {
	case strings.TrimSpace(t.ZH) == "" && strings.TrimSpace(t.EN) == "":
		return "zh-CN and English"
	case strings.TrimSpace(t.ZH) == "":
		return "zh-CN"
	case strings.TrimSpace(t.EN) == "":
		return "English"
	}
	return ""
}

func validID(id string) bool {
	if len(id) > 64 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// compileExpr parses, type-checks and plans one expression, telling the
// three kinds of failure apart because they need different fixes.
func compileExpr(env *cel.Env, src string, want *cel.Type) (cel.Program, *cel.Ast, *Problem) {
	if strings.TrimSpace(src) == "" {
		return nil, nil, &Problem{Code: CodeExprMissing, Message: "the expression is empty"}
	}
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return nil, nil, &Problem{Code: CodeSyntax, Message: iss.Err().Error()}
	}
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		return nil, nil, &Problem{Code: CodeTypeCheck, Message: iss.Err().Error()}
	}
	if got := checked.OutputType(); !got.IsExactType(want) {
		return nil, nil, &Problem{Code: CodeResultType, Message: fmt.Sprintf("must be of type %s, is %s", want, got)}
	}
	est, err := env.EstimateCost(checked, costEstimator{})
	switch {
	case err != nil:
		return nil, nil, &Problem{Code: CodeTooCostly, Message: "its cost cannot be estimated: " + err.Error()}
	case est.Min > minCost:
		return nil, nil, &Problem{Code: CodeTooCostly, Message: fmt.Sprintf(
			"costs at least %d for every person, more than the %d allowed; avoid comprehensions over literals", est.Min, minCost)}
	case est.Max > maxCost:
		return nil, nil, &Problem{Code: CodeTooCostly, Message: fmt.Sprintf(
			"may cost %d for a person with %d facts, more than the %d allowed; avoid nesting comprehensions over facts", est.Max, maxFacts, maxCost)}
	}
	// OptOptimize folds constants (duration('336h'), list literals) once here
	// instead of on every evaluation, and reports bad constants now.
	prg, err := env.Program(checked, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, &Problem{Code: CodeExprInvalid, Message: err.Error()}
	}
	return prg, checked, nil
}

// guardKinds finds the kinds a condition cannot be true without: those
// named by facts.any(kind, ...) or facts.active(kind) among the top-level
// operands of &&. Such a call is false when no fact of the kind is visible,
// and false && anything is false in CEL, so skipping the rule is exact.
// Arguments must be literals, so that skipping cannot hide an error either.
// Most people have facts of few kinds, so most rules are skipped.
func guardKinds(checked *cel.Ast) []string {
	var kinds []string
	var walk func(e celast.Expr)
	walk = func(e celast.Expr) {
		if e.Kind() != celast.CallKind {
			return
		}
		call := e.AsCall()
		switch call.FunctionName() {
		case operators.LogicalAnd:
			for _, arg := range call.Args() {
				walk(arg)
			}
		case "any", "active":
			target := call.Target()
			if target == nil || target.Kind() != celast.IdentKind || target.AsIdent() != "facts" {
				return
			}
			args := call.Args()
			if len(args) == 0 {
				return
			}
			for _, arg := range args {
				if !isLiteral(arg) {
					return
				}
			}
			if kind, ok := args[0].AsLiteral().(types.String); ok {
				kinds = append(kinds, string(kind))
			}
		}
	}
	walk(checked.NativeRep().Expr())
	return kinds
}

func isLiteral(e celast.Expr) bool {
	switch e.Kind() {
	case celast.LiteralKind:
		return true
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			if !isLiteral(el) {
				return false
			}
		}
		return true
	}
	return false
}

// bits returns the set of kinds as bits, numbering new kinds as they come.
// Past 64 distinct kinds a rule simply goes unguarded.
func (p *Program) bits(kinds []string) uint64 {
	var need uint64
	for _, k := range kinds {
		bit, ok := p.kindBits[k]
		if !ok {
			if len(p.kindBits) == 64 {
				continue
			}
			bit = 1 << len(p.kindBits)
			p.kindBits[k] = bit
		}
		need |= bit
	}
	return need
}

func (p *Program) checkExamples(examples []Example) []Problem {
	var problems []Problem
	seen := make(map[string]bool, len(examples))
	for i, ex := range examples {
		name := ex.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		add := func(field, code, format string, args ...any) {
			problems = append(problems, Problem{Example: name, Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
		}
		switch {
		case ex.Name == "":
			add("name", CodeExampleName, "an example needs a name")
		case seen[ex.Name]:
			add("name", CodeExampleName, "another example has this name")
		}
		seen[ex.Name] = true
		bad := false
		if ex.Now.IsZero() {
			add("now", CodeExampleNow, "an example needs the time it is evaluated at")
			bad = true
		}
		if !ex.WantColor.Valid() {
			add("want_color", CodeExampleColor, "want_color must be green, yellow or red")
			bad = true
		}
		for j := range ex.Facts {
			if err := ex.Facts[j].Validate(); err != nil {
				msg := err.Error()
				if e, ok := apierr.As(err); ok {
					msg = e.Code + ": " + e.Message
				}
				add(fmt.Sprintf("facts[%d]", j), CodeExampleFact, "%s", msg)
				bad = true
			}
		}
		if bad {
			continue
		}
		d := p.Eval(ex.Facts, ex.Now)
		for _, e := range d.Errors {
			add("result", CodeExampleFailed, "rule %q %s failed: %s", e.RuleID, e.Field, e.Message)
		}
		if d.Color != ex.WantColor || d.RuleID != ex.WantRule {
			add("result", CodeExampleFailed, "decided %s by %s, want %s by %s",
				d.Color, ruleName(d.RuleID), ex.WantColor, ruleName(ex.WantRule))
		}
		if !ex.WantNextEval.IsZero() && !d.NextEval.Equal(ex.WantNextEval) {
			add("result", CodeExampleFailed, "next evaluation %s, want %s", timeName(d.NextEval), timeName(ex.WantNextEval))
		}
	}
	return problems
}

func ruleName(id string) string {
	if id == "" {
		return "no rule"
	}
	return "rule " + id
}

func timeName(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.Format(time.RFC3339Nano)
}
