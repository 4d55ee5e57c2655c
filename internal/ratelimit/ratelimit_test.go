package ratelimit

import (
	"errors"
	"testing"
	"time"
)

// A caller gets its burst at once, then one request per period; callers
// do not share buckets.
func TestBurstThenOnePerPeriod(t *testing.T) {
	now := time.Date(2022, 4, 1, 10, 0, 0, 0, time.UTC)
	l := New(func() time.Time { return now })
	for i := range 3 {
		if w := l.Allow("a", 3, 2*time.Second); w != 0 {
			t.Fatalf("request %d of the burst waits %v", i+1, w)
		}
	}
	if w := l.Allow("a", 3, 2*time.Second); w != 2*time.Second {
		t.Fatalf("after the burst: wait %v, want 2s", w)
	}
	if w := l.Allow("b", 3, 2*time.Second); w != 0 {
		t.Fatalf("another caller waits %v", w)
	}
	now = now.Add(time.Second)
	if w := l.Wait("a", 3, 2*time.Second); w != time.Second {
		t.Fatalf("half a period later: wait %v, want 1s", w)
	}
	now = now.Add(time.Second)
	if w := l.Allow("a", 3, 2*time.Second); w != 0 {
		t.Fatalf("a period later: wait %v", w)
	}
	if w := l.Wait("a", 3, 2*time.Second); w == 0 {
		t.Fatal("the refilled token was not spent")
	}
}

func TestGuessesStopAfterBurstAndRefill(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	refused := errors.New("too many wrong codes")
	g := NewGuesses(3, time.Minute, refused, func() time.Time { return now })
	for i := range 3 {
		if err := g.Check("parent"); err != nil {
			t.Fatalf("guess %d refused: %v", i+1, err)
		}
		g.Wrong("parent")
	}
	err := g.Check("parent")
	var ra interface{ RetryAfter() time.Duration }
	if !errors.Is(err, refused) || !errors.As(err, &ra) || ra.RetryAfter() != time.Minute {
		t.Fatalf("the fourth guess: %v, want %v with a minute to wait", err, refused)
	}
	if err := g.Check("other"); err != nil {
		t.Fatalf("another caller refused: %v", err)
	}
	now = now.Add(time.Minute)
	if err := g.Check("parent"); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
}
