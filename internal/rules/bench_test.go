package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/fact"
)

// benchFacts builds a plausible history: daily declarations and routine
// mixed-tube negatives, plus a close contact once there are enough facts.
func benchFacts(n int) []fact.Fact {
	base := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)
	facts := make([]fact.Fact, 0, n)
	for i := 0; len(facts) < n; i++ {
		at := base.Add(time.Duration(i) * 24 * time.Hour)
		switch i % 3 {
		case 0:
			facts = append(facts, fact.Fact{Kind: fact.Declaration, At: at, Attrs: map[string]any{"temperature": 36.5}})
		case 1:
			facts = append(facts, fact.Fact{Kind: fact.NATResult, At: at, Attrs: map[string]any{"result": "negative", "tube_capacity": 10.0}})
		case 2:
			facts = append(facts, fact.Fact{Kind: fact.VaccineDose, At: at, Attrs: map[string]any{"dose": 1.0}})
		}
	}
	if n >= 3 {
		facts[n-1] = fact.Fact{Kind: fact.ContactClose, At: base.Add(time.Duration(n) * 24 * time.Hour)}
	}
	return facts
}

func BenchmarkEval(b *testing.B) {
	p, err := Compile(Default(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{0, 3, 20} {
		facts := benchFacts(n)
		now := time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC).Add(time.Duration(n+1) * 24 * time.Hour)
		b.Run(fmt.Sprintf("facts=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Eval(facts, now)
			}
		})
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	s := Default()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
