package codes

import (
	"math"
	"sync"
	"time"
)

// limiter is a token bucket per caller, on this node: burst lookups at
// once, then one every period.
type limiter struct {
	burst  float64
	period time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, period time.Duration) *limiter {
	return &limiter{burst: float64(burst), period: period, now: time.Now, buckets: map[string]*bucket{}}
}

// wait says how long the caller must wait for a token (0: one is there).
func (l *limiter) wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.period))
}

// take spends a token.
func (l *limiter) take(key string) {
	l.mu.Lock()
	l.fill(key).tokens--
	l.mu.Unlock()
}

func (l *limiter) fill(key string) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.period))
	b.at = now
	return b
}

// Lookups of a person by identity number (the fallback for people without
// phones, typed in by checkpoint staff) are limited per API key, whichever
// door the lookup comes through: a person at a desk needs a few a minute, a
// stolen key must not walk the register.
const (
	idLookupBurst  = 20
	idLookupPeriod = 3 * time.Second
)
