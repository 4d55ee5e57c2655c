package tracing

import (
	"context"
	"crypto/rand"
	"strconv"
	"sync"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// stack is every service a tracing run touches, on one store.
type stack struct {
	d        *db.DB
	persons  *person.Service
	venues   *venue.Service
	auth     *auth.Service
	cps      *checkpoint.Service
	checkins *checkin.Service
	facts    *countingFacts
	admin    *auth.Principal
}

func newStack(t testing.TB, d *db.DB) *stack {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	keys, err := secret.New(master)
	if err != nil {
		t.Fatal(err)
	}
	regions := region.Default()
	s := &stack{d: d, facts: &countingFacts{keys: map[string]bool{}},
		admin: &auth.Principal{Kind: auth.Operator, ID: "op1", Role: auth.Admin, Region: "341881"}}
	s.auth = auth.New(d, keys, sms.NewOutbox(d, keys), regions, auth.Config{})
	if s.persons, err = person.New(d, keys, regions, person.Config{Region: "341881"}); err != nil {
		t.Fatal(err)
	}
	s.venues = venue.New(d, regions)
	s.cps = checkpoint.New(d, s.auth, regions)
	s.checkins = checkin.New(d, s.venues, s.persons, green{}, checkin.Config{})
	t.Cleanup(func() { s.checkins.Close() })
	return s
}

// tracer is a tracing service of the stack (a node), not started.
func (s *stack) tracer(t testing.TB, cfg Config) *Service {
	t.Helper()
	tr, err := New(s.d, s.checkins, s.persons, s.venues, s.cps, s.auth, s.facts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

type green struct{}

func (green) Color(int64) (rules.Color, uint64) { return rules.Green, 0 }

// countingFacts validates facts as the status engine would and keeps their
// keys, so re-recording is idempotent; it stores nothing else.
type countingFacts struct {
	mu      sync.Mutex
	keys    map[string]bool
	calls   int
	block   chan struct{} // if set, Record waits for it (or the context)
	entered chan struct{} // if set, Record signals it on entry
}

func (f *countingFacts) Record(ctx context.Context, nfs ...status.NewFact) (int, error) {
	if f.entered != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	for _, nf := range nfs {
		if err := nf.Fact.Validate(); err != nil {
			return 0, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	n := 0
	for _, nf := range nfs {
		k := strconv.FormatInt(nf.Person, 10) + "|" + nf.Key
		if !f.keys[k] {
			f.keys[k] = true
			n++
		}
	}
	return n, nil
}
