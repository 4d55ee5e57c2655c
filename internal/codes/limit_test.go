package codes

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2022, 4, 1, 10, 0, 0, 0, time.UTC)
	l := newLimiter(3, time.Second)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if w := l.wait("a"); w != 0 {
			t.Fatalf("lookup %d waits %v", i, w)
		}
		l.take("a")
	}
	if w := l.wait("a"); w != time.Second {
		t.Fatalf("a fourth lookup waits %v, want 1s", w)
	}
	if w := l.wait("b"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	now = now.Add(1500 * time.Millisecond)
	if w := l.wait("a"); w != 0 {
		t.Fatal("no token back after a period")
	}
	l.take("a")
	if w := l.wait("a"); w != 500*time.Millisecond {
		t.Fatalf("waits %v, want the rest of the period", w)
	}
	now = now.Add(time.Hour)
	l.wait("a")
	if b := l.buckets["a"]; b.tokens != 3 {
		t.Fatalf("a bucket fills to %v, want the burst of 3", b.tokens)
	}
}
