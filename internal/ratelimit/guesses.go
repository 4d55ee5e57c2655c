package ratelimit

import "time"

// Guesses bounds how many wrong secrets (join codes and the like) one
// caller may try: Burst wrong ones, then one every Refill. Right answers
// cost nothing. It is per node, in memory: with n nodes a caller gets n
// times as many guesses, which a secret of enough bits makes no matter.
type Guesses struct {
	Burst  int64
	Refill time.Duration
	// Refused is returned (wrapped with the wait) while a caller is over.
	Refused error

	l *Limiter
}

// NewGuesses returns the bound; now is the clock (time.Now when nil).
func NewGuesses(burst int64, refill time.Duration, refused error, now func() time.Time) *Guesses {
	return &Guesses{Burst: burst, Refill: refill, Refused: refused, l: New(now)}
}

// Check refuses key while it has no guess left: a *Limited that unwraps to
// Refused and says when the next guess is allowed.
func (g *Guesses) Check(key string) error {
	if wait := g.l.Wait(key, g.Burst, g.Refill); wait > 0 {
		return &Limited{Err: g.Refused, After: wait}
	}
	return nil
}

// Wrong spends one of key's guesses.
func (g *Guesses) Wrong(key string) { g.l.Take(key, g.Burst, g.Refill) }

// Limited is a refusal that ends after a while: errors.Is and errors.As see
// Err (the caller's case), and RetryAfter gives the API's Retry-After.
type Limited struct {
	Err   error
	After time.Duration
}

func (e *Limited) Error() string             { return e.Err.Error() }
func (e *Limited) Unwrap() error             { return e.Err }
func (e *Limited) RetryAfter() time.Duration { return max(e.After, time.Second) }
