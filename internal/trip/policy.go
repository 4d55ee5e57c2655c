package trip

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/venue"
)

// Reasons an entry is refused.
const (
	RefuseRed      = "red"
	RefuseYellow   = "yellow"
	RefuseStarred  = "starred"
	RefuseUntested = "untested"
)

// Policy is who a venue, or every venue of a kind, turns away.
type Policy struct {
	Scope         string // "venue" or "kind"
	Ref           string // the venue's id or the kind
	RefuseYellow  bool
	RefuseRed     bool
	RefuseStarred bool
	TestHours     int // refuse without a negative test sampled within so many hours; 0: no test required
	UpdatedAt     time.Time
}

// MaxTestHours bounds a policy's test window (a week).
const MaxTestHours = 7 * 24

// policyTTL is how long a node trusts the policies it read: a change made
// on another node holds within it.
const policyTTL = 30 * time.Second

type policyCache struct {
	mu     sync.Mutex
	byKey  map[[2]string]Policy
	loaded time.Time
}

// SetPolicy sets the policy of a venue (in the operator's scope) or of a
// kind of venue (every venue of the kind; an operator of the whole
// deployment's scope only). by needs venue.write. Audited.
func (s *Service) SetPolicy(ctx context.Context, by *auth.Principal, p Policy) (*Policy, error) {
	if err := by.Require(auth.VenueWrite); err != nil {
		return nil, err
	}
	region := by.Region
	switch p.Scope {
	case "venue":
		v, err := s.d.Venues.Get(ctx, by, p.Ref)
		if err != nil {
			return nil, err
		}
		region = v.Region
	case "kind":
		if !slices.Contains(venue.Kinds, p.Ref) {
			return nil, ErrPolicyKind.Withf("unknown venue kind %q", p.Ref)
		}
	default:
		return nil, ErrPolicyScope
	}
	if p.TestHours < 0 || p.TestHours > MaxTestHours {
		return nil, ErrPolicyTestHours.Withf("untested_hours must be 0-%d", MaxTestHours)
	}
	p.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	err := s.d.DB.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM venue_policies WHERE scope = $1 AND ref = $2`, p.Scope, p.Ref); err != nil {
			return fmt.Errorf("trip: set policy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO venue_policies (scope, ref, refuse_yellow, refuse_red, refuse_starred, test_hours, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.Scope, p.Ref, p.RefuseYellow, p.RefuseRed, p.RefuseStarred, p.TestHours,
			p.UpdatedAt.UnixMilli(), by.Actor()); err != nil {
			return fmt.Errorf("trip: set policy: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: p.UpdatedAt, Actor: by.Actor(), Action: "venue.policy", Subject: p.Scope + ":" + p.Ref,
			Region: region, Detail: map[string]any{"yellow": p.RefuseYellow, "red": p.RefuseRed, "starred": p.RefuseStarred, "test_hours": p.TestHours}})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.policies.mu.Lock()
	s.policies.loaded = time.Time{}
	s.policies.mu.Unlock()
	return &p, nil
}

// RemovePolicy removes the policy of a venue (in the operator's scope) or of
// a kind of venue, so its venues admit everyone again (a venue then follows
// its kind's policy, if any). by needs venue.write. Audited; a policy that
// is not there is venue_policy_not_found.
func (s *Service) RemovePolicy(ctx context.Context, by *auth.Principal, scope, ref string) error {
	if err := by.Require(auth.VenueWrite); err != nil {
		return err
	}
	region := by.Region
	switch scope {
	case "venue":
		v, err := s.d.Venues.Get(ctx, by, ref)
		if err != nil {
			return err
		}
		region = v.Region
	case "kind":
	default:
		return ErrPolicyScope
	}
	err := s.d.DB.InTx(ctx, func(tx db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM venue_policies WHERE scope = $1 AND ref = $2`, scope, ref)
		if err != nil {
			return fmt.Errorf("trip: remove policy: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrPolicyNotFound.Withf("no policy for %s %s", scope, ref)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "venue.policy_remove", Subject: scope + ":" + ref, Region: region})
		return err
	})
	if err != nil {
		return err
	}
	s.policies.mu.Lock()
	s.policies.loaded = time.Time{}
	s.policies.mu.Unlock()
	return nil
}

// Policies lists the policies: kinds', and venues' in the operator's
// scope. by needs venue.write.
func (s *Service) Policies(ctx context.Context, by *auth.Principal) ([]Policy, error) {
	if err := by.Require(auth.VenueWrite); err != nil {
		return nil, err
	}
	all, err := s.policyMap(ctx)
	if err != nil {
		return nil, err
	}
	out := []Policy{}
	for _, p := range all {
		if p.Scope == "venue" {
			if _, err := s.d.Venues.Get(ctx, by, p.Ref); err != nil {
				continue
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Policy) int { return compareStrings(a.Scope+a.Ref, b.Scope+b.Ref) })
	return out, nil
}

func (s *Service) policyMap(ctx context.Context) (map[[2]string]Policy, error) {
	c := &s.policies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey != nil && time.Since(c.loaded) < policyTTL {
		return c.byKey, nil
	}
	m := map[[2]string]Policy{}
	err := db.Each(ctx, s.d.DB, `SELECT scope, ref, refuse_yellow, refuse_red, refuse_starred, test_hours, updated_at FROM venue_policies`, nil,
		func(sc db.Scanner) error {
			var p Policy
			var at int64
			if err := sc.Scan(&p.Scope, &p.Ref, &p.RefuseYellow, &p.RefuseRed, &p.RefuseStarred, &p.TestHours, &at); err != nil {
				return err
			}
			p.UpdatedAt = time.UnixMilli(at).UTC()
			m[[2]string{p.Scope, p.Ref}] = p
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("trip: read policies: %w", err)
	}
	c.byKey, c.loaded = m, time.Now()
	return m, nil
}

// PolicyOf is the policy that applies at a venue: its own, else its
// kind's; nil when it admits everyone.
func (s *Service) PolicyOf(ctx context.Context, v *venue.Venue) (*Policy, error) {
	m, err := s.policyMap(ctx)
	if err != nil {
		return nil, err
	}
	if p, ok := m[[2]string{"venue", v.ID}]; ok {
		return &p, nil
	}
	if p, ok := m[[2]string{"kind", v.Kind}]; ok {
		return &p, nil
	}
	return nil, nil
}

// Admit says why a venue turns a person away ("" to admit): their colour,
// their trip card's star (the carrier's stays of the phone of the account,
// for the account's own person, else of the person's own phone on record,
// and their own check-ins and verifications) or the lack of a recent
// negative test. The phone is looked up only when the policy refuses
// starred people, so the scan stays cheap otherwise. It is one check for the
// code, the trip card and the test, made at the scan (check-in), for
// persons a guarded lookup found.
func (s *Service) Admit(ctx context.Context, v *venue.Venue, accountID string, num int64, color rules.Color) (string, error) {
	p, err := s.PolicyOf(ctx, v)
	if err != nil || p == nil {
		return "", err
	}
	switch {
	case p.RefuseRed && color == rules.Red:
		return RefuseRed, nil
	case p.RefuseYellow && color == rules.Yellow:
		return RefuseYellow, nil
	}
	if p.RefuseStarred {
		var hash []byte
		if accountID != "" {
			h, own, err := s.d.Persons.AccountPhoneHash(ctx, accountID)
			if err != nil {
				return "", err
			}
			if own == num {
				hash = h
			}
		}
		if hash == nil && num != 0 {
			// A scanned code (or a dependent checked in by their proxy)
			// names a person but no login: the person's own phone, if
			// the record has one, finds the carrier's stays.
			h, err := s.d.Persons.PhoneHashOf(ctx, num)
			if err != nil {
				return "", err
			}
			hash = h
		}
		c, err := s.CardOf(ctx, hash, num)
		if err != nil {
			return "", err
		}
		if c.Starred {
			return RefuseStarred, nil
		}
	}
	if p.TestHours > 0 {
		since := s.now().Add(-time.Duration(p.TestHours) * time.Hour)
		facts, err := s.d.Facts.Facts(ctx, num, 100)
		if err != nil {
			return "", err
		}
		tested := false
		for _, f := range facts {
			if f.Kind == fact.NATResult && f.Attrs["result"] == fact.ResultNegative && !f.At.Before(since) {
				tested = true
				break
			}
		}
		if !tested {
			return RefuseUntested, nil
		}
	}
	return "", nil
}
