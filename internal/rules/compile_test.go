package rules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/fact"
)

var reason = Text{ZH: "原因", EN: "reason"}

func rule(id string, c Color, cond string) Rule {
	return Rule{ID: id, Color: c, Condition: cond, Reason: reason}
}

func TestCompileRejects(t *testing.T) {
	ok := rule("ok", Yellow, "facts.any('clinic.fever')")
	tests := []struct {
		name  string
		set   Set
		rule  string // Problem.Rule or Problem.Example expected
		field string
		code  string
		msg   string // part of the message
	}{
		{"syntax", Set{Rules: []Rule{rule("a", Red, "facts.any('x'")}}, "a", "condition", CodeSyntax, "Syntax error"},
		{"syntax in until", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Until: "now +", Reason: reason}}}, "a", "until", CodeSyntax, "Syntax error"},
		{"type error", Set{Rules: []Rule{rule("a", Red, "facts.any(1)")}}, "a", "condition", CodeTypeCheck, "no matching overload"},
		{"type error in a comparison", Set{Rules: []Rule{rule("a", Red, "facts.latest('x').at > 3")}}, "a", "condition", CodeTypeCheck, "no matching overload"},
		{"unknown function", Set{Rules: []Rule{rule("a", Red, "facts.newest('x').at < now")}}, "a", "condition", CodeTypeCheck, "undeclared reference to 'newest'"},
		{"unknown variable", Set{Rules: []Rule{rule("a", Red, "person.age > 60")}}, "a", "condition", CodeTypeCheck, "undeclared reference to 'person'"},
		{"unknown field", Set{Rules: []Rule{rule("a", Red, "facts.latest('x').when < now")}}, "a", "condition", CodeTypeCheck, "undefined field 'when'"},
		{"condition not bool", Set{Rules: []Rule{rule("a", Red, "facts.count('x', now)")}}, "a", "condition", CodeResultType, "must be of type bool, is int"},
		{"condition dyn", Set{Rules: []Rule{rule("a", Red, "facts[0].attrs.exposure")}}, "a", "condition", CodeResultType, "is dyn"},
		{"until not timestamp", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Until: "days(14)", Reason: reason}}}, "a", "until", CodeResultType, "must be of type google.protobuf.Timestamp, is google.protobuf.Duration"},
		{"too costly for everyone", Set{Rules: []Rule{rule("a", Red, "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, a+b+c+d)))).size() > 0")}}, "a", "condition", CodeTooCostly, "for every person"},
		{"too costly with many facts", Set{Rules: []Rule{rule("a", Red, "facts.exists(f, facts.exists(g, facts.exists(h, f.at < g.at && g.at < h.at)))")}}, "a", "condition", CodeTooCostly, "2000 facts"},
		{"empty condition", Set{Rules: []Rule{rule("a", Red, "  ")}}, "a", "condition", CodeExprMissing, "empty"},
		{"bad constant", Set{Rules: []Rule{rule("a", Red, "now < timestamp('yesterday')")}}, "a", "condition", CodeExprInvalid, "yesterday"},
		{"duplicate id", Set{Rules: []Rule{ok, rule("ok", Red, "true")}}, "ok", "id", CodeIDDuplicate, "another rule"},
		{"missing id", Set{Rules: []Rule{rule("", Red, "true")}}, "#0", "id", CodeIDMissing, "needs an id"},
		{"bad id", Set{Rules: []Rule{rule("Close Contact", Red, "true")}}, "Close Contact", "id", CodeIDFormat, "a-z"},
		{"reserved id", Set{Rules: []Rule{rule(AppealRuleID, Red, "true")}}, AppealRuleID, "id", CodeIDReserved, "appeal"},
		{"bad colour", Set{Rules: []Rule{rule("a", Color(9), "true")}}, "a", "color", CodeColorUnknown, "green, yellow or red"},
		{"no colour", Set{Rules: []Rule{rule("a", 0, "true")}}, "a", "color", CodeColorUnknown, "green, yellow or red"},
		{"no reason", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true"}}}, "a", "reason", CodeReasonMissing, "zh-CN and English"},
		{"reason without English", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: Text{ZH: "原因"}}}}, "a", "reason", CodeReasonMissing, "in English"},
		{"reason without Chinese", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: Text{EN: "reason"}}}}, "a", "reason", CodeReasonMissing, "in zh-CN"},
		{"advice in one language", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: reason, Advice: Text{ZH: "请检测"}}}}, "a", "advice", CodeAdviceIncomplete, "English"},
		{"reason too long", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: Text{ZH: strings.Repeat("长", 501), EN: "x"}}}}, "a", "reason", CodeTextTooLong, "at most 500"},
		{"advice too long", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: reason, Advice: Text{ZH: "x", EN: strings.Repeat("x", 501)}}}}, "a", "advice", CodeTextTooLong, "at most 500"},
		{"window backwards", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Reason: reason, ValidFrom: base, ValidTo: base}}}, "a", "valid_to", CodeWindowInvalid, "after valid_from"},
		{"failing example: colour", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "fever", Now: base, Facts: []fact.Fact{mk(fact.ClinicFever, base, "clinic", "h")}, WantColor: Red, WantRule: "ok"}}},
			"fever", "result", CodeExampleFailed, "decided yellow by rule ok, want red by rule ok"},
		{"failing example: rule", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "nothing", Now: base, WantColor: Green, WantRule: "ok"}}},
			"nothing", "result", CodeExampleFailed, "decided green by no rule, want green by rule ok"},
		{"failing example: next evaluation", Set{Rules: []Rule{{ID: "a", Color: Red, Condition: "true", Until: "now + days(1)", Reason: reason}}, Examples: []Example{{Name: "n", Now: base, WantColor: Red, WantRule: "a", WantNextEval: base}}},
			"n", "result", CodeExampleFailed, "next evaluation"},
		{"example whose rule fails at run time", Set{Rules: []Rule{rule("a", Red, "facts[0].attrs.nope == 1")}, Examples: []Example{{Name: "e", Now: base, Facts: []fact.Fact{neg(base)}, WantColor: Green}}},
			"e", "result", CodeExampleFailed, "no such key"},
		{"example with an invalid fact", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "bad", Now: base, Facts: []fact.Fact{mk(fact.NATResult, base, "result", "neg")}, WantColor: Green}}},
			"bad", "facts[0]", CodeExampleFact, "fact_attr_not_allowed"},
		{"example without now", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "when", WantColor: Green}}}, "when", "now", CodeExampleNow, "time"},
		{"example without colour", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "what", Now: base}}}, "what", "want_color", CodeExampleColor, "green, yellow or red"},
		{"example without name", Set{Rules: []Rule{ok}, Examples: []Example{{Now: base, WantColor: Green}}}, "#0", "name", CodeExampleName, "needs a name"},
		{"examples with one name", Set{Rules: []Rule{ok}, Examples: []Example{{Name: "x", Now: base, WantColor: Green}, {Name: "x", Now: base, WantColor: Green}}}, "x", "name", CodeExampleName, "another example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.set, Options{})
			if p != nil || err == nil {
				t.Fatal("compiled")
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("%T %v is not an *InvalidError", err, err)
			}
			if len(inv.Problems) != 1 {
				t.Fatalf("problems %v, want exactly one", inv.Problems)
			}
			pr := inv.Problems[0]
			who := pr.Rule
			if who == "" {
				who = pr.Example
			}
			if who != tt.rule || pr.Field != tt.field || pr.Code != tt.code || !strings.Contains(pr.Message, tt.msg) {
				t.Errorf("got %+v, want %s %s %s containing %q", pr, tt.rule, tt.field, tt.code, tt.msg)
			}
			e, ok := apierr.As(err)
			if !ok || e.Code != "rules_invalid" || e.Status != 400 || !strings.Contains(e.Message, tt.rule) {
				t.Errorf("apierr view %+v", e)
			}
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	s := Set{Rules: []Rule{
		rule("a", Red, "facts.any("),
		rule("a", Color(7), "true"),
		{ID: "c", Color: Green, Condition: "1", Until: "2"},
	}}
	_, err := Compile(s, Options{})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatal(err)
	}
	var codes []string
	for _, p := range inv.Problems {
		codes = append(codes, p.Rule+":"+p.Code)
	}
	want := "a:syntax a:id_duplicate a:color_unknown c:reason_missing c:result_type c:result_type"
	if strings.Join(codes, " ") != want {
		t.Errorf("got %s\nwant %s", strings.Join(codes, " "), want)
	}
	b, _ := json.Marshal(inv.Problems[0])
	if !strings.Contains(string(b), `"rule":"a","field":"condition","code":"syntax"`) {
		t.Errorf("problem JSON %s", b)
	}
	if !strings.HasPrefix(err.Error(), `rules_invalid: rule "a" condition: `) {
		t.Errorf("message %q", err.Error())
	}
}

// Rules that compare facts pairwise are slow for people with long histories
// but legitimate, and stay allowed.
func TestPairwiseRuleAllowed(t *testing.T) {
	p := one(t, "facts.exists(f, f.kind == 'nat.result' && facts.exists(g, g.kind == 'nat.result' && g.at - f.at >= hours(24)))", "")
	if d := p.Eval([]fact.Fact{neg(base), neg(base.Add(day))}, base.Add(2*day)); d.Color != Red {
		t.Errorf("%+v", d)
	}
}

func TestEmptySetIsEveryoneGreen(t *testing.T) {
	p := mustCompile(t, Set{}, Options{})
	d := p.Eval([]fact.Fact{mk(fact.CaseConfirmed, base)}, base)
	if d.Color != Green || d.RuleID != "" || !d.NextEval.IsZero() {
		t.Errorf("%+v", d)
	}
}

func TestWindows(t *testing.T) {
	from, to := base.Add(day), base.Add(3*day)
	p := mustCompile(t, Set{Rules: []Rule{
		{ID: "late", Color: Red, Condition: "facts.any('clinic.fever')", Reason: reason, ValidFrom: from, ValidTo: to},
		rule("always", Yellow, "facts.any('clinic.fever')"),
	}}, Options{})
	visit := []fact.Fact{mk(fact.ClinicFever, base, "clinic", "h")}
	steps := []struct {
		now  time.Time
		want want
	}{
		{from.Add(-ms), want{Yellow, "always", from}},
		{from, want{Red, "late", to}},
		{to.Add(-ms), want{Red, "late", to}},
		{to, want{Yellow, "always", time.Time{}}},
		{to.Add(ms), want{Yellow, "always", time.Time{}}},
	}
	for _, s := range steps {
		check(t, p, "window at "+s.now.Format(time.RFC3339Nano), visit, s.now, s.want)
	}
	// A rule that would not match is still re-evaluated when it opens: its
	// condition may hold by then. One that does not match gives no closing time.
	check(t, p, "no facts before the window", nil, base, want{Green, "", from})
	check(t, p, "no facts inside the window", nil, from, green)
}

func TestNextEvalTakesTheEarliest(t *testing.T) {
	p := mustCompile(t, Set{Rules: []Rule{
		{ID: "long", Color: Red, Condition: "facts.any('contact.close')", Until: "facts.latest('contact.close').at + days(14)", Reason: reason},
		{ID: "short", Color: Yellow, Condition: "facts.any('contact.secondary')", Until: "facts.latest('contact.secondary').at + days(7)", Reason: reason},
		{ID: "never", Color: Yellow, Condition: "facts.any('visit.risk_area')", Until: "facts.activeUntil('visit.risk_area')", Reason: reason},
	}}, Options{})
	close, second := mk(fact.ContactClose, base), mk(fact.ContactSecondary, base)
	check(t, p, "both", []fact.Fact{close, second}, base.Add(day), want{Red, "long", base.Add(7 * day)})
	check(t, p, "after the shorter", []fact.Fact{close, second}, base.Add(7*day), want{Red, "long", base.Add(14 * day)})
	check(t, p, "a fact dated in the future", []fact.Fact{close, mk(fact.ContactSecondary, base.Add(3*day))}, base.Add(day), want{Red, "long", base.Add(3 * day)})
	open := mk(fact.VisitRiskArea, base, "region", "310115", "level", "high")
	check(t, p, "open-ended until means no re-evaluation", []fact.Fact{open}, base.Add(day), want{Yellow, "never", time.Time{}})
}

func TestUntilFailureKeepsTheRule(t *testing.T) {
	p := mustCompile(t, Set{Rules: []Rule{
		{ID: "a", Color: Red, Condition: "true", Until: "facts.latest('contact.close').at - days(1)", Reason: reason},
	}}, Options{})
	d := p.Eval(nil, base)
	if d.Color != Red || d.RuleID != "a" || len(d.Errors) != 1 || d.Errors[0].Field != "until" || !d.NextEval.IsZero() {
		t.Errorf("a rule whose until fails must still hold, with the error reported: %+v", d)
	}
}

func TestGuardKinds(t *testing.T) {
	env, err := envFor(defaultLocation())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr string
		want string
	}{
		{"facts.any('a')", "a"},
		{"facts.any('a') && facts.any('b', 'x', ['y', 'z']) && now > timestamp('2022-01-01T00:00:00Z')", "a b"},
		{"facts.active('iso') && facts.latest('x').at < now", "iso"},
		{"(facts.any('a') && true) && facts.any('b', 'n', 1)", "a b"},
		{"facts.any('a') || facts.any('b')", ""},
		{"!facts.any('a')", ""},
		{"true && !facts.any('a')", ""},
		{"facts.filter(f, true).any('a')", ""},
		{"cel.bind(facts, [], true) && true", ""},
		{"facts.any(now > now ? 'a' : 'b')", ""},
		{"facts.any('a', 'x', string(now))", ""},
		{"facts.latest('a').at > now", ""},
	}
	for _, tt := range tests {
		_, checked, prob := compileExpr(env, tt.expr, cel.BoolType)
		if prob != nil {
			t.Fatalf("%s: %v", tt.expr, prob)
		}
		if got := strings.Join(guardKinds(checked), " "); got != tt.want {
			t.Errorf("%s: guards %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// Guards are an optimisation only: a guarded rule decides as it would unguarded.
func TestGuardedRulesDecideAlike(t *testing.T) {
	guarded := one(t, "facts.any('clinic.fever') && facts.count('nat.result', now - days(30)) == 0", "")
	plain := one(t, "facts.count('clinic.fever', timestamp('0001-01-01T00:00:00Z')) > 0 && facts.count('nat.result', now - days(30)) == 0", "")
	if guarded.rules[0].need == 0 || plain.rules[0].need != 0 {
		t.Fatal("guard detection")
	}
	for _, facts := range [][]fact.Fact{
		nil,
		{neg(base)},
		{mk(fact.ClinicFever, base, "clinic", "h")},
		{mk(fact.ClinicFever, base, "clinic", "h"), neg(base)},
	} {
		if a, b := guarded.Eval(facts, base.Add(hour)), plain.Eval(facts, base.Add(hour)); a.Color != b.Color {
			t.Errorf("%v: guarded %s, plain %s", facts, a.Color, b.Color)
		}
	}
}

func TestColor(t *testing.T) {
	if !(Green < Yellow && Yellow < Red) {
		t.Fatal("colours are not ordered")
	}
	for _, c := range []Color{Green, Yellow, Red} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Color
		if err := json.Unmarshal(b, &back); err != nil || back != c {
			t.Errorf("%s: %s -> %v %v", c, b, back, err)
		}
		if p, err := ParseColor(c.String()); err != nil || p != c {
			t.Errorf("ParseColor(%s)", c)
		}
	}
	if b, _ := json.Marshal(Red); string(b) != `"red"` {
		t.Errorf("red is %s", b)
	}
	var c Color
	err := json.Unmarshal([]byte(`"orange"`), &c)
	if !errors.Is(err, ErrColorUnknown) {
		t.Errorf("orange: %v", err)
	}
	if _, err := json.Marshal(Color(9)); err == nil {
		t.Error("an invalid colour marshalled")
	}
	if b, err := json.Marshal(Color(0)); err != nil || string(b) != `""` {
		t.Errorf("zero colour: %s %v", b, err)
	}
	if Color(0).Valid() || Color(4).Valid() || !Yellow.Valid() {
		t.Error("Valid")
	}
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`{"rules":[{"id":"a","color":"red","condition":"true","untill":"now"}]}`, ErrJSON},
		{`{"rules":[{"id":"a","color":"purple","condition":"true"}]}`, ErrColorUnknown},
		{`{"rules":[]} {}`, ErrJSON},
		{`[1]`, ErrJSON},
		{`null`, ErrJSON}, // encoding/json would take it for {}
		{``, ErrJSON},
		{`{"rules":[{"id":"a","color":"red","condition":"true","valid_from":"tomorrow"}]}`, ErrJSON},
	}
	for _, tt := range tests {
		if _, err := ParseSet([]byte(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.in, err, tt.want)
		}
	}
	s, err := ParseSet([]byte(`{"rules":[{"id":"a","color":"yellow","condition":"facts.any('clinic.fever')","reason":{"zh":"发热门诊","en":"fever clinic"},"valid_from":"2022-04-01T00:00:00+08:00"}],
		"examples":[{"name":"e","now":"2022-04-02T00:00:00+08:00","facts":[{"kind":"clinic.fever","at":"2022-04-01T12:00:00+08:00","attrs":{"clinic":"h"}}],"want_color":"yellow","want_rule":"a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rules[0].Color != Yellow || s.Rules[0].ValidFrom.IsZero() || s.Examples[0].WantColor != Yellow {
		t.Errorf("%+v", s)
	}
	mustCompile(t, s, Options{})
}

func TestDecisionJSON(t *testing.T) {
	d := defaultProgram(t).Eval([]fact.Fact{mk(fact.ContactClose, base)}, base)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"color":"red","rule_id":"close_contact","reason":{"zh":"您被判定为确诊病例的密切接触者。","en":"You were identified as a close contact of a confirmed case."},`
	if !strings.HasPrefix(string(b), want) || !strings.HasSuffix(string(b), `"next_eval":"2022-04-15T02:00:00Z"}`) {
		t.Errorf("decision JSON %s", b)
	}
}

// FuzzCompile feeds arbitrary conditions to Compile: it may refuse them, it
// must not panic, and what it accepts must evaluate without panicking.
func FuzzCompile(f *testing.F) {
	for _, r := range Default().Rules {
		f.Add(r.Condition)
		f.Add(r.Until)
	}
	for _, s := range []string{"", "true", "facts.any(", "facts.latest('x').at > now", "1/0 == 1", "[1,2,3].map(x, x * x)[2] == 9",
		"facts.exists(f, f.attrs.result == 'negative')", "facts.negatives(now, -1, hours(-1), days(-1))", "days(9223372036854775807) > duration('1s')",
		"cel.bind(x, facts, x.any('a'))", "'\\xff' == '\\u00ff'", "facts.normalDays(timestamp('9999-12-31T23:59:59Z')) == 0", "((((((((((true))))))))))",
		"facts.latest('declaration', 'symptoms', ['fever', 1, true, 2.5, null])"} {
		f.Add(s)
	}
	facts := []fact.Fact{
		mk(fact.Declaration, base, "symptoms", []any{"fever"}, "temperature", 38.0),
		mk(fact.NATResult, base.Add(hour), "result", "negative", "tube_capacity", 10.0),
		during(mk(fact.Isolation, base, "mode", "home"), base.Add(day)),
		mk(fact.ContactClose, base),
	}
	f.Fuzz(func(t *testing.T, expr string) {
		// The same text as a condition and as an until.
		for _, r := range []Rule{
			{ID: "f", Color: Red, Condition: expr, Reason: reason},
			{ID: "f", Color: Red, Condition: "true", Until: expr, Reason: reason},
		} {
			p, err := Compile(Set{Rules: []Rule{r}}, Options{})
			if err != nil {
				var inv *InvalidError
				if !errors.As(err, &inv) || len(inv.Problems) == 0 {
					t.Fatalf("%q: error %v is not a list of problems", expr, err)
				}
				continue
			}
			p.Eval(facts, base.Add(2*hour))
			p.Eval(nil, base)
		}
	})
}
