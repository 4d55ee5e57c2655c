package rules

import (
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/fact"
)

// A lab's correction appends a nat.result with correction true for the same
// tube; the rules stop seeing the results of that tube recorded before it.
func TestCorrectionSupersedesTheTubesEarlierResult(t *testing.T) {
	p := defaultProgram(t)
	sampled := base
	res := func(result string, capacity int, tube string, rec time.Time, correction bool) fact.Fact {
		f := mk(fact.NATResult, sampled, "result", result, "tube", tube, "tube_capacity", capacity)
		if correction {
			f.Attrs["correction"] = true
		}
		return recorded(f, rec)
	}
	mixedPos := res("mixed_positive", 10, "T1", base.Add(6*hour), false)
	fixedNeg := res("negative", 10, "T1", base.Add(20*hour), true)
	mixedNeg := res("negative", 10, "T1", base.Add(6*hour), false)
	fixedPos := res("mixed_positive", 10, "T1", base.Add(20*hour), true)
	now := base.Add(day)
	steps := []struct {
		name  string
		facts []fact.Fact
		want  want
	}{
		{"mixed positive", []fact.Fact{mixedPos}, want{Red, "mixed_tube_positive", time.Time{}}},
		{"mixed positive corrected to negative", []fact.Fact{mixedPos, fixedNeg}, green},
		{"a negative corrected to positive", []fact.Fact{mixedNeg, fixedPos}, want{Red, "mixed_tube_positive", time.Time{}}},
		{"corrected twice: the last correction counts",
			[]fact.Fact{mixedPos, fixedNeg, res("mixed_positive", 10, "T1", base.Add(22*hour), true)},
			want{Red, "mixed_tube_positive", time.Time{}}},
		{"corrected twice, listed out of recording order",
			[]fact.Fact{res("mixed_positive", 10, "T1", base.Add(22*hour), true), mixedPos, fixedNeg},
			want{Red, "mixed_tube_positive", time.Time{}}},
		{"same recording instant: the later in the list counts",
			[]fact.Fact{res("mixed_positive", 10, "T1", base.Add(6*hour), false), res("negative", 10, "T1", base.Add(6*hour), true)},
			green},
		{"a correction of another tube hides nothing",
			[]fact.Fact{mixedPos, res("negative", 10, "T2", base.Add(20*hour), true)},
			want{Red, "mixed_tube_positive", time.Time{}}},
		{"a result without a tube is never superseded",
			[]fact.Fact{recorded(mk(fact.NATResult, sampled, "result", "positive"), base.Add(6*hour)), fixedNeg},
			want{Red, "nat_positive", time.Time{}}},
		{"a negative corrected away no longer clears a companion",
			[]fact.Fact{companion(base.Add(-2 * day)),
				recorded(mk(fact.NATResult, base.Add(-day), "result", "negative", "tube", "T0", "tube_capacity", 10), base.Add(-day+6*hour)),
				mixedNeg, res("invalid", 10, "T1", base.Add(20*hour), true)},
			want{Yellow, "companion", time.Time{}}},
	}
	for _, s := range steps {
		check(t, p, s.name, s.facts, now, s.want)
	}
	// Without a correction nothing is copied: the fast path stays.
	if d := p.Eval([]fact.Fact{mixedPos, mixedNeg}, now); d.Color != Red {
		t.Errorf("two uncorrected results of one tube: %s", d.Color)
	}
}
