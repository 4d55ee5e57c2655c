// Package ratelimit is a token bucket per caller, in memory on one node:
// a caller may make burst requests at once, then one every period. It
// bounds what one key or account can do on a node; limits across nodes
// are the business of whoever uses it (see the gateway's daily quota).
package ratelimit

import (
	"math"
	"sync"
	"time"
)

// Limiter holds one bucket per key. It is safe for concurrent use.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets bounds memory: past it, buckets that have filled up again
// (callers idle for a while) are dropped, which forgets nothing that matters.
const maxBuckets = 100_000

// New returns a limiter; now is the clock (time.Now when nil).
func New(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, buckets: map[string]*bucket{}}
}

// Wait says how long key must wait for a token of a bucket of burst tokens
// that refills one every period (0: a token is there). It spends nothing.
func (l *Limiter) Wait(key string, burst int64, period time.Duration) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key, burst, period)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(period))
}

// Take spends a token of key's bucket.
func (l *Limiter) Take(key string, burst int64, period time.Duration) {
	l.mu.Lock()
	l.fill(key, burst, period).tokens--
	l.mu.Unlock()
}

// Allow spends a token if there is one, or says how long to wait for it.
func (l *Limiter) Allow(key string, burst int64, period time.Duration) (wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(key, burst, period)
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(period))
}

func (l *Limiter) fill(key string, burst int64, period time.Duration) *bucket {
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(burst), at: now}
		l.buckets[key] = b
	}
	if period > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(period))
	}
	b.at = now
	return b
}

// prune drops the buckets idle for an hour, which have refilled at any
// period callers use; keys are authenticated callers, so the map fills only
// with that many of them at once.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.at) > time.Hour {
			delete(l.buckets, k)
		}
	}
}
