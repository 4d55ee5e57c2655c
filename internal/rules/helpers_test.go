package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/fact"
)

// base is 10:00 in Ningguo (Asia/Shanghai).
var base = time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)

const (
	ms   = time.Millisecond
	hour = time.Hour
	day  = 24 * time.Hour
)

var shanghai = defaultLocation()

// local is a wall-clock time in Ningguo.
func local(month time.Month, d, h, m int) time.Time {
	return time.Date(2022, month, d, h, m, 0, 0, shanghai)
}

// mk builds a fact from attribute pairs.
func mk(kind string, at time.Time, kv ...any) fact.Fact {
	f := fact.Fact{Kind: kind, At: at}
	if len(kv) > 0 {
		f.Attrs = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Attrs[kv[i].(string)] = kv[i+1]
		}
	}
	return f
}

func neg(at time.Time) fact.Fact { return mk(fact.NATResult, at, "result", "negative") }
func mixedNeg(at time.Time) fact.Fact {
	return mk(fact.NATResult, at, "result", "negative", "tube_capacity", 10.0)
}
func during(f fact.Fact, until time.Time) fact.Fact {
	f.Until = until
	return f
}
func recorded(f fact.Fact, at time.Time) fact.Fact {
	f.RecordedAt = at
	return f
}

func companion(at time.Time) fact.Fact {
	return mk(fact.ContactCompanion, at, "case_person", "p1", "venue", "v1",
		"case_at", at.Add(-10*time.Minute).Format(time.RFC3339), "person_at", at.Format(time.RFC3339))
}

func normalDecls(from time.Time, n int) []fact.Fact {
	out := make([]fact.Fact, n)
	for i := range out {
		out[i] = mk(fact.Declaration, from.AddDate(0, 0, i), "temperature", 36.5)
	}
	return out
}

func join(parts ...any) []fact.Fact {
	var out []fact.Fact
	for _, p := range parts {
		switch v := p.(type) {
		case fact.Fact:
			out = append(out, v)
		case []fact.Fact:
			out = append(out, v...)
		}
	}
	return out
}

func mustCompile(t testing.TB, s Set, opts Options) *Program {
	t.Helper()
	p, err := Compile(s, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

// one compiles a single-rule set around a condition (and until).
func one(t testing.TB, cond, until string) *Program {
	t.Helper()
	return mustCompile(t, Set{Rules: []Rule{{ID: "r", Color: Red, Condition: cond, Until: until, Reason: Text{ZH: "测试", EN: "test"}}}}, Options{})
}

func TestHelpers(t *testing.T) {
	facts := []fact.Fact{
		mk(fact.NATResult, base, "result", "negative", "tube_capacity", 10.0),
		mk(fact.NATResult, base.Add(day), "result", "negative"),
		mk(fact.NATResult, base.Add(2*day), "result", "mixed_positive", "tube_capacity", 5),
		mk(fact.Declaration, base, "temperature", 36.4, "symptoms", []any{"dry_cough"}),
		mk(fact.VaccineDose, base.Add(-100*day), "dose", 2.0),
		during(mk(fact.Isolation, base, "mode", "home"), base.Add(7*day)),
		mk(fact.VisitRiskArea, base.Add(-3*day), "region", "310115", "level", "high"),
		recorded(mk(fact.ContactClose, base.Add(-2*day)), base.Add(-day)),
	}
	now := base.Add(3 * day)
	tests := []struct {
		expr string
		want bool
	}{
		{"facts.any('nat.result')", true},
		{"facts.any('case.confirmed')", false},
		{"facts.any('nat.result', 'result', 'mixed_positive')", true},
		{"facts.any('nat.result', 'result', 'positive')", false},
		{"facts.any('nat.result', 'result', ['positive', 'mixed_positive'])", true},
		{"facts.any('nat.result', 'tube_capacity', 5)", true},              // JSON-free int attribute
		{"facts.any('nat.result', 'tube_capacity', 10)", true},             // float64 from JSON, compared as a number
		{"facts.any('nat.result', 'tube_capacity', 10.0)", true},           // double literal
		{"facts.count('nat.result', 'tube_capacity', 1, base) == 1", true}, // the default applies
		{"facts.any('declaration', 'symptoms', 'dry_cough')", true},        // list attribute contains
		{"facts.any('declaration', 'symptoms', 'fever')", false},
		{"facts.any('declaration', 'illness', true)", true},      // derived attribute
		{"facts.any('declaration', 'exposure', false)", true},    // default
		{"facts.any('declaration', 'exposure', 'false')", false}, // no coercion between types
		{"facts.any('nat.result', 'no_such_attr', 1)", false},
		{"facts.latest('nat.result').attrs.result == 'mixed_positive'", true},
		{"facts.latest('nat.result', 'result', 'negative').at == base + days(1)", true},
		{"facts.latest('case.confirmed').kind == '' && facts.latest('case.confirmed').at == timestamp('0001-01-01T00:00:00Z')", true},
		{"facts.count('nat.result', base) == 3", true},
		{"facts.count('nat.result', base + hours(1)) == 2", true},
		{"facts.count('nat.result', 'result', 'negative', base) == 2", true},
		{"facts.active('isolation')", true},
		{"facts.activeUntil('isolation') == base + days(7)", true},
		{"facts.active('visit.risk_area')", true}, // open: never ends
		{"facts.activeUntil('visit.risk_area') == timestamp('9999-12-31T23:59:59Z')", true},
		{"facts.active('case.confirmed')", false},
		{"facts.activeUntil('case.confirmed') == timestamp('0001-01-01T00:00:00Z')", true},
		{"facts.negativeSince(base + days(1))", true},
		{"facts.negativeSince(base + days(1) + duration('1ms'))", false},
		{"facts.singleNegativeSince(base)", true},
		{"facts.singleNegativeSince(base + days(1) + duration('1ms'))", false},
		{"facts.negatives(base, 2, hours(24), days(3))", true},
		{"facts.negatives(base, 2, hours(24) + duration('1ms'), days(3))", false},
		{"facts.negatives(base, 2, hours(24), hours(24) - duration('1ms'))", false},
		{"facts.negatives(base, 3, hours(1), days(30))", false},
		{"facts.negatives(base, 0, hours(1), days(1))", true},
		{"facts.latest('visit.risk_area').open && facts.latest('visit.risk_area').end == base - days(3)", true},
		{"facts.latest('isolation').end == base + days(7) && !facts.latest('isolation').open", true},
		{"facts.latest('contact.close').recorded_at == base - days(1)", true},
		{"facts.latest('nat.result').recorded_at == base + days(2)", true}, // falls back to at
		{"facts.latest('declaration').attrs.illness && !facts.latest('declaration').attrs.exposure", true},
		{"facts.exists(f, f.kind == 'vaccine.dose' && f.attrs.dose == 2)", true},
		{"facts.filter(f, f.kind == 'nat.result').latest('nat.result').attrs.result == 'mixed_positive'", true},
		{"size(facts) == 8 && facts[0].kind == 'nat.result'", true},
		{"days(2) == duration('48h') && hours(3) == duration('3h')", true},
		{"now == base + days(3)", true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p := one(t, replaceBase(tt.expr), "")
			d := p.Eval(facts, now)
			if len(d.Errors) > 0 {
				t.Fatalf("errors: %v", d.Errors)
			}
			if got := d.Color == Red; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// replaceBase lets the table above say "base" for the test's base time.
func replaceBase(expr string) string {
	out := ""
	for i := 0; i < len(expr); i++ {
		if i+4 <= len(expr) && expr[i:i+4] == "base" && (i+4 == len(expr) || expr[i+4] == ' ' || expr[i+4] == ')' || expr[i+4] == ',') {
			out += "timestamp('" + base.Format(time.RFC3339) + "')"
			i += 3
			continue
		}
		out += string(expr[i])
	}
	return out
}

func TestHelperErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"facts.latest(dyn(1)).at < now", "no such overload"},
		{"facts.filter(f, true).active('isolation')", "applies to the facts variable"},
		{"days(100001) > duration('1h')", "out of range"},
		{"facts[0].attrs.nope == 1", "no such key"},
		{"facts.latest('nat.result').at - duration('1h') < now", ""},             // fine with a fact
		{"facts.latest('case.confirmed').at - duration('1h') < now", "overflow"}, // below year 1: guard with any()
	}
	facts := []fact.Fact{neg(base)}
	for _, tt := range tests {
		d := one(t, tt.expr, "").Eval(facts, base.Add(hour))
		if tt.want == "" {
			if len(d.Errors) > 0 {
				t.Errorf("%s: unexpected %v", tt.expr, d.Errors)
			}
			continue
		}
		if len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Message, tt.want) || d.Errors[0].Field != "condition" {
			t.Errorf("%s: errors %v, want one mentioning %q", tt.expr, d.Errors, tt.want)
		}
		if d.Color != Green {
			t.Errorf("%s: a failing condition must not match, got %s", tt.expr, d.Color)
		}
	}
}

func TestNormalDays(t *testing.T) {
	ill := mk(fact.Declaration, local(4, 1, 9, 0), "symptoms", []any{"fever"})
	tests := []struct {
		name  string
		facts []fact.Fact
		want  int64
	}{
		{"none", []fact.Fact{ill}, 0},
		{"three", join(ill, normalDecls(local(4, 2, 9, 0), 3)), 3},
		{"same day does not count", join(ill, mk(fact.Declaration, local(4, 1, 23, 59), "temperature", 36.5)), 0},
		{"two on one day count once", join(ill, normalDecls(local(4, 2, 8, 0), 2), normalDecls(local(4, 2, 20, 0), 2)), 2},
		{"gap ends the run", join(ill, normalDecls(local(4, 2, 9, 0), 2), normalDecls(local(4, 5, 9, 0), 4)), 2},
		{"abnormal day ends the run", join(ill, normalDecls(local(4, 2, 9, 0), 2), mk(fact.Declaration, local(4, 3, 21, 0), "exposure", true), normalDecls(local(4, 4, 9, 0), 3)), 1},
		{"local midnight", join(ill, mk(fact.Declaration, local(4, 2, 0, 0), "temperature", 36.5), mk(fact.Declaration, local(4, 2, 23, 59), "temperature", 36.5), mk(fact.Declaration, local(4, 3, 0, 0), "temperature", 36.5)), 2},
		{"other kinds ignored", join(ill, neg(local(4, 2, 9, 0))), 0},
	}
	for _, tt := range tests {
		if got := normalDays(tt.facts, ill.At, shanghai); int64(got) != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// The region's zone is a parameter: the same declarations are one day or
// two apart depending on where midnight is.
func TestLocationOption(t *testing.T) {
	// 15:30 UTC is 23:30 in Shanghai; 16:30 UTC is 00:30 the next day there.
	ill := mk(fact.Declaration, time.Date(2022, 4, 1, 15, 30, 0, 0, time.UTC), "symptoms", []any{"fever"})
	next := mk(fact.Declaration, time.Date(2022, 4, 1, 16, 30, 0, 0, time.UTC), "temperature", 36.5)
	facts := []fact.Fact{ill, next}
	now := time.Date(2022, 4, 2, 1, 0, 0, 0, time.UTC)
	const expr = "facts.normalDays(facts.latest('declaration', 'illness', true).at) == 1"
	if one(t, expr, "").Eval(facts, now).Color != Red {
		t.Error("in Asia/Shanghai the second declaration is on the next day")
	}
	p := mustCompile(t, Set{Rules: []Rule{{ID: "r", Color: Red, Condition: expr, Reason: Text{ZH: "测试", EN: "test"}}}}, Options{Location: time.UTC})
	if p.Eval(facts, now).Color != Green || p.Location() != time.UTC {
		t.Error("in UTC both declarations are on the same day")
	}
}
