// Package ride is the gateway's ride-hailing and taxi scenario: a
// platform checks its drivers when they go on duty (thousands at once at
// shift start) and its passengers when they order, by a handle each
// person chose to share with that platform on their own pages, and learns
// a colour and nothing else. A handle is random and made for one platform,
// so it tells nothing about the person and nothing across platforms; the
// resident withdraws it at will and it never answers again.
package ride

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs authorises gateway callers and lists the platforms (the
// organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	AuthorizeBatch(ctx context.Context, p *auth.Principal, scope string, n int64) (*org.Org, error)
	OfKinds(ctx context.Context, kinds ...org.Kind) ([]*org.Org, error)
	Public(ctx context.Context, id string) (*org.Org, error)
}

// Persons says whom a resident acts for (the person service).
type Persons interface {
	ActingFor(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error)
}

// Colors is the status cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Service keeps the handles and answers the checks. It is safe for
// concurrent use.
type Service struct {
	db      *db.DB
	orgs    Orgs
	persons Persons
	colors  Colors
	now     func() time.Time
}

// New returns the service.
func New(d *db.DB, orgs Orgs, persons Persons, colors Colors) *Service {
	return &Service{db: d, orgs: orgs, persons: persons, colors: colors, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// PlatformKinds are the kinds of organisation residents share handles with.
var PlatformKinds = []org.Kind{org.RideHailing, org.Taxi}

const handlePrefix = "hch_"

// validHandle reports whether h could be a handle the service made.
func validHandle(h string) bool {
	body, ok := strings.CutPrefix(h, handlePrefix)
	if !ok || len(body) != 20 {
		return false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Platform is a platform as a resident sees it, with the handle they
// share with it, if any.
type Platform struct {
	Org       *org.Org
	Handle    string // "" when none is shared
	GrantedAt time.Time
}

func isPlatform(o *org.Org) bool { return o.Kind == org.RideHailing || o.Kind == org.Taxi }

// Platforms lists the deployment's platforms with the handle the resident
// shares with each.
func (s *Service) Platforms(ctx context.Context, by *auth.Principal) ([]*Platform, error) {
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return nil, err
	}
	os, err := s.orgs.OfKinds(ctx, PlatformKinds...)
	if err != nil {
		return nil, err
	}
	shared := map[string]*Platform{}
	err = db.Each(ctx, s.db, `SELECT org_id, handle, granted_at FROM ride_handles WHERE person_num = $1 AND withdrawn_at IS NULL`,
		[]any{me.Num}, func(sc db.Scanner) error {
			var p Platform
			var orgID string
			var at int64
			if err := sc.Scan(&orgID, &p.Handle, &at); err != nil {
				return err
			}
			p.GrantedAt = db.Time(at)
			shared[orgID] = &p
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("ride: handles: %w", err)
	}
	out := make([]*Platform, len(os))
	for i, o := range os {
		out[i] = &Platform{Org: o}
		if p := shared[o.ID]; p != nil {
			out[i].Handle, out[i].GrantedAt = p.Handle, p.GrantedAt
		}
	}
	return out, nil
}

// platform returns a platform by id; any other organisation is not one.
func (s *Service) platform(ctx context.Context, id string) (*org.Org, error) {
	o, err := s.orgs.Public(ctx, id)
	if err != nil || !isPlatform(o) {
		return nil, ErrPlatformNotFound.Withf("no ride-hailing platform or taxi company %q", id)
	}
	return o, nil
}

// Grant shares a handle with a platform, for the resident themselves
// (consent is personal): a new random one, or the one in use. Audited.
func (s *Service) Grant(ctx context.Context, by *auth.Principal, orgID string) (*Platform, error) {
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return nil, err
	}
	o, err := s.platform(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p, err := s.grant(ctx, by, me, o)
	if db.IsUniqueViolation(err) {
		// Two grants at once: the other one made the handle; read it.
		p, err = s.grant(ctx, by, me, o)
	}
	return p, err
}

func (s *Service) grant(ctx context.Context, by *auth.Principal, me person.Profile, o *org.Org) (*Platform, error) {
	p := &Platform{Org: o}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT handle, granted_at FROM ride_handles WHERE person_num = $1 AND org_id = $2 AND withdrawn_at IS NULL`,
			me.Num, o.ID).Scan(&p.Handle, &at)
		if err == nil {
			p.GrantedAt = db.Time(at)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("ride: grant: %w", err)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		p.Handle, p.GrantedAt = handlePrefix+ids.New(), now
		_, err = tx.ExecContext(ctx, `INSERT INTO ride_handles (handle, org_id, person_num, granted_at, granted_by) VALUES ($1, $2, $3, $4, $5)`,
			p.Handle, o.ID, me.Num, now.UnixMilli(), by.Actor())
		if err != nil {
			return fmt.Errorf("ride: grant: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "ride.handle_grant", Subject: "person:" + me.ID,
			Region: me.Region, Detail: map[string]any{"org": o.ID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Withdraw stops the handle the resident shares with a platform: it never
// answers again. Audited.
func (s *Service) Withdraw(ctx context.Context, by *auth.Principal, orgID string) error {
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return err
	}
	o, err := s.platform(ctx, orgID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		now := s.now().UTC().Truncate(time.Millisecond)
		res, err := tx.ExecContext(ctx, `UPDATE ride_handles SET withdrawn_at = $1 WHERE person_num = $2 AND org_id = $3 AND withdrawn_at IS NULL`,
			now.UnixMilli(), me.Num, o.ID)
		if err != nil {
			return fmt.Errorf("ride: withdraw: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("ride: withdraw: %w", err)
		} else if n == 0 {
			return ErrNotGranted
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "ride.handle_withdraw", Subject: "person:" + me.ID,
			Region: me.Region, Detail: map[string]any{"org": o.ID}})
		return err
	})
}

// MaxBatch is the most handles one batch checks.
const MaxBatch = 10_000

// Result is one handle's answer: its colour, or Known false for a handle
// not in use with this platform.
type Result struct {
	Handle string
	Known  bool
	Color  rules.Color
}

// Check answers one handle's colour for the platform (scope ride.check):
// a passenger at order time, a driver going on duty.
func (s *Service) Check(ctx context.Context, by *auth.Principal, handle string) (Result, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeRideCheck)
	if err != nil {
		return Result{}, err
	}
	handle = strings.TrimSpace(handle)
	switch {
	case handle == "":
		return Result{}, ErrHandleMissing
	case !validHandle(handle):
		return Result{}, ErrHandleInvalid
	}
	rs, err := s.lookup(ctx, o, []string{handle})
	if err != nil {
		return Result{}, err
	}
	if !rs[0].Known {
		return Result{}, ErrHandleUnknown
	}
	return rs[0], nil
}

// CheckBatch answers the colour of each handle, in order, for the
// platform (scope ride.check): drivers at shift start. A batch of n counts
// as n requests against the key's daily quota (refused whole when fewer
// remain) and as one against its rate; a malformed batch is refused whole
// and counts as one request.
func (s *Service) CheckBatch(ctx context.Context, by *auth.Principal, handles []string) ([]Result, error) {
	if err := checkBatch(handles); err != nil {
		if _, aerr := s.orgs.Authorize(ctx, by, org.ScopeRideCheck); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	o, err := s.orgs.AuthorizeBatch(ctx, by, org.ScopeRideCheck, int64(len(handles)))
	if err != nil {
		return nil, err
	}
	return s.lookup(ctx, o, handles)
}

func checkBatch(handles []string) error {
	if len(handles) == 0 || len(handles) > MaxBatch {
		return ErrBatchSize.Withf("a batch checks 1 to %d handles, not %d", MaxBatch, len(handles))
	}
	for i, h := range handles {
		if !validHandle(h) {
			return ErrHandleInvalid.Withf("handles[%d] is not a handle (hch_ followed by 20 characters of a-z and 2-7)", i)
		}
	}
	return nil
}

// lookup finds the handles in use with the platform and their colours
// from the status cache: one read of the primary key per chunk of
// handles, no write. The platform and the withdrawal are checked here,
// not in SQL: with them in the statement PostgreSQL's cached generic plan
// walks the platform's handles and tests each against the whole list.
func (s *Service) lookup(ctx context.Context, o *org.Org, handles []string) ([]Result, error) {
	nums := make(map[string]int64, len(handles))
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT handle, org_id, person_num, withdrawn_at FROM ride_handles WHERE handle IN `,
		nil, handles, ``, func(sc db.Scanner) error {
			var h, orgID string
			var num int64
			var withdrawn sql.NullInt64
			if err := sc.Scan(&h, &orgID, &num, &withdrawn); err != nil {
				return err
			}
			if orgID == o.ID && !withdrawn.Valid {
				nums[h] = num
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("ride: look handles up: %w", err)
	}
	out := make([]Result, len(handles))
	for i, h := range handles {
		out[i].Handle = h
		if num, ok := nums[h]; ok {
			c, _ := s.colors.Color(num)
			if !c.Valid() {
				c = rules.Green
			}
			out[i].Known, out[i].Color = true, c
		}
	}
	return out, nil
}
