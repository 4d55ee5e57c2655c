package checkin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/venue"
)

// Venues resolves scanned venue tokens and venues in an operator's scope
// (the venue service).
type Venues interface {
	ByToken(ctx context.Context, token string) (v *venue.Venue, revoked bool, err error)
	Get(ctx context.Context, by *auth.Principal, id string) (*venue.Venue, error)
}

// Persons finds the person behind a resident's account and their
// dependents (the person service).
type Persons interface {
	Profile(ctx context.Context, accountID string) (person.Profile, error)
	Dependent(ctx context.Context, accountID, personID string) (*person.Person, error)
}

// Colours is the status engine's in-memory colour cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Admission is a venue's entry policy (the trip service): why a person is
// turned away at the scan, "" to admit.
type Admission interface {
	Admit(ctx context.Context, v *venue.Venue, accountID string, num int64, color rules.Color) (string, error)
}

// Config tunes the service. Zero values take the defaults.
type Config struct {
	// Delay is how long the group commit may wait for more requests after
	// the first of a batch. Zero (the default): no timed wait, a batch is
	// whatever queued while the previous one committed (docs/PERFORMANCE.md).
	Delay time.Duration
	// MaxBatch caps the rows of one transaction (default 2000).
	MaxBatch int
	// Writers is the number of batches in flight (default 1). On SQLite
	// the single connection commits one at a time anyway: a second writer
	// only halves the batches. On PostgreSQL, where a batch's commit does
	// not wait for the flush, four writers on as many connections cost
	// PostgreSQL and the node half as much again per event as one (smaller
	// batches, more transactions) for no more throughput on two cores; there
	// the one writer instead sends the next batch on its connection while
	// the one before still runs (two in flight, db.Pipe) and Writers only
	// says whether there is a writer (docs/PERFORMANCE.md, "The pipelined
	// group commit").
	Writers int
	// WaitForFlush makes a batch's commit on PostgreSQL wait for the WAL
	// flush, as every other commit does. Off, a crash of PostgreSQL or of
	// its machine may lose the events answered in its last moment
	// (docs/OPERATIONS.md, "What a crash may lose"); SQLite ignores it.
	WaitForFlush bool
	// Retention is how long check-ins and verifications are kept (default
	// 28 days).
	Retention time.Duration
	// Location is the time zone answers are given in (default Asia/Shanghai).
	Location *time.Location
	// MaxDependents bounds the companions checked in with one scan (default 8).
	MaxDependents int
	// Metrics receives the group commit's metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// DefaultRetention is how long presence is kept unless configured.
const DefaultRetention = 28 * 24 * time.Hour

func (c *Config) defaults(e db.Engine) {
	if c.Delay < 0 {
		c.Delay = 0
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 2000
	}
	if c.Writers <= 0 {
		c.Writers = 1
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*3600)
	}
	if c.MaxDependents <= 0 {
		c.MaxDependents = 8
	}
}

// Service records check-ins and verification events, answers venue counts,
// purges old presence and reads presence for tracing. It is safe for
// concurrent use; Close it before closing the store.
type Service struct {
	db      *db.DB
	venues  Venues
	persons Persons
	colors  Colors
	cfg     Config
	now     func() time.Time
	w       *writer

	places     sync.Map // placeKey -> int64
	placeByNum sync.Map // int64 -> Place
	admission  Admission
}

// SetAdmission sets the venues' entry policies checked at each check-in
// (nil: every venue admits everyone). Set it before serving.
func (s *Service) SetAdmission(a Admission) { s.admission = a }

var refusals = map[string]error{"red": ErrRefusedRed, "yellow": ErrRefusedYellow, "starred": ErrRefusedStarred, "untested": ErrRefusedUntested}

// admit asks the venue's policy about each person of a scan; a refusal is
// counted for the venue (never who) and nothing else is written.
func (s *Service) admit(ctx context.Context, v *venue.Venue, accountID string, place int64, nums []int64) error {
	if s.admission == nil {
		return nil
	}
	for i, n := range nums {
		acct := ""
		if i == 0 {
			acct = accountID
		}
		c, _ := s.colors.Color(n)
		reason, err := s.admission.Admit(ctx, v, acct, n, c)
		if err != nil {
			return err
		}
		if reason == "" {
			continue
		}
		if err := s.countRefusal(ctx, place, reason); err != nil {
			return err
		}
		if e, ok := refusals[reason]; ok {
			return e
		}
		return ErrRefusedRed.Withf("this venue does not admit you now (%s)", reason)
	}
	return nil
}

func (s *Service) countRefusal(ctx context.Context, place int64, reason string) error {
	hour := s.now().UnixMilli() / 3600000
	if _, err := s.db.ExecContext(ctx, `INSERT INTO venue_refusals (place, hour, reason, count) VALUES ($1, $2, $3, 1)
		ON CONFLICT (place, hour, reason) DO UPDATE SET count = venue_refusals.count + 1`, place, hour, reason); err != nil {
		return fmt.Errorf("checkin: count refusal: %w", err)
	}
	return nil
}

// CountCheckpointRefusal counts an entry a checkpoint turned away under its
// venue kind's policy (the reason, never who), in the checkpoint's place.
func (s *Service) CountCheckpointRefusal(ctx context.Context, checkpointID, reason string) error {
	place, err := s.placeNum(ctx, PlaceCheckpoint, checkpointID, true)
	if err != nil {
		return err
	}
	return s.countRefusal(ctx, place, reason)
}

// CheckpointRefusals is the entries a checkpoint turned away under its
// venue kind's policy since a time, by reason.
func (s *Service) CheckpointRefusals(ctx context.Context, checkpointID string, since time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	place, err := s.placeNum(ctx, PlaceCheckpoint, checkpointID, false)
	if err != nil || place == 0 {
		return out, err
	}
	err = db.Each(ctx, s.db, `SELECT reason, SUM(count) FROM venue_refusals WHERE place = $1 AND hour >= $2 GROUP BY reason`,
		[]any{place, since.UnixMilli() / 3600000}, func(sc db.Scanner) error {
			var r string
			var n int64
			if err := sc.Scan(&r, &n); err != nil {
				return err
			}
			out[r] = n
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("checkin: checkpoint refusals: %w", err)
	}
	return out, nil
}

// New returns the service with its group-commit writers running.
func New(d *db.DB, venues Venues, persons Persons, colors Colors, cfg Config) *Service {
	cfg.defaults(d.Engine())
	return &Service{db: d, venues: venues, persons: persons, colors: colors, cfg: cfg, now: time.Now,
		w: newWriter(d, cfg.Delay, cfg.MaxBatch, cfg.Writers, cfg.WaitForFlush, newMetrics(cfg.Metrics))}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Retention is the configured retention period.
func (s *Service) Retention() time.Duration { return s.cfg.Retention }

// Close stops taking writes and returns once everything already queued is
// committed and answered, so a shutdown loses nothing that was accepted.
func (s *Service) Close() error {
	s.w.close()
	return nil
}

// OpenJournal makes the group commit answer once a batch is appended to a
// journal in dir, moved into the tables by an indexer (journal.go), after
// moving what dir holds from before a crash. For a single node on SQLite,
// whose tables are its own: on PostgreSQL other nodes read the tables, and
// a node that dies must leave nothing behind. Call it before serving.
func (s *Service) OpenJournal(ctx context.Context, dir string, log *slog.Logger) error {
	if s.db.Engine() != db.SQLite {
		return fmt.Errorf("checkin: the journal is for SQLite, not %s", s.db.Engine())
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j, err := openJournal(ctx, s.db, dir, s.w, log)
	if err != nil {
		return err
	}
	s.w.journal.Store(j)
	return nil
}

// Flush returns once every check-in and verification answered before the
// call is in the tables (with the journal they follow within a fraction of
// a second; this service's reads flush first themselves).
func (s *Service) Flush(ctx context.Context) error { return s.flush(ctx) }

func (s *Service) flush(ctx context.Context) error { return s.flushJournal(ctx, false) }

// flushJournal flushes; with rotate the journal file that held the rows is
// removed too (a purge: rows must not outlive their removal in a file).
func (s *Service) flushJournal(ctx context.Context, rotate bool) error {
	if j := s.w.journal.Load(); j != nil {
		return j.flush(ctx, rotate)
	}
	return nil
}

// Batches reports how many group-commit transactions committed and how many
// requests they carried.
func (s *Service) Batches() (transactions, requests int64) {
	return s.w.batches.Load(), s.w.requests.Load()
}

// Input is a resident's scan of a venue code.
type Input struct {
	VenueToken string
	Dependents []string // person ids of own dependents checked in together (同行人员)
}

// Result answers a check-in.
type Result struct {
	VenueID     string
	VenueName   string
	CheckedInAt time.Time
	Color       rules.Color
	Dependents  []DependentResult
}

// DependentResult is a dependent checked in with the resident.
type DependentResult struct {
	ID         string
	MaskedName string
	Color      rules.Color
}

// CheckIn records the account's person, and the dependents they name, at
// the venue of the token, and answers once the rows are durable. Nothing is
// written unless every part of the request is valid.
func (s *Service) CheckIn(ctx context.Context, accountID string, in Input) (*Result, error) {
	token := strings.TrimSpace(in.VenueToken)
	if token == "" {
		return nil, ErrVenueTokenMissing
	}
	if len(in.Dependents) > s.cfg.MaxDependents {
		return nil, ErrDependentsTooMany.Withf("at most %d dependents can be checked in with one scan", s.cfg.MaxDependents)
	}
	me, err := s.persons.Profile(ctx, accountID)
	if err != nil {
		return nil, err
	}
	// Tokens are 20 characters; anything far longer is not one, and need
	// not cost a database read.
	if len(token) > 64 {
		return nil, venue.ErrTokenUnknown
	}
	v, revoked, err := s.venues.ByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.Disabled {
		return nil, venue.ErrDisabled
	}
	if revoked {
		return nil, venue.ErrTokenRevoked
	}
	res := &Result{VenueID: v.ID, VenueName: v.Name}
	nums := []int64{me.Num}
	seen := map[string]bool{}
	for _, id := range in.Dependents {
		if seen[id] {
			return nil, ErrDependentDuplicate.Withf("dependent %q is listed twice", id)
		}
		seen[id] = true
		d, err := s.persons.Dependent(ctx, accountID, id)
		if errors.Is(err, person.ErrNotFound) {
			return nil, ErrDependentNotFound.Withf("%q is not one of your dependents", id)
		}
		if err != nil {
			return nil, err
		}
		if d.Num == me.Num {
			continue
		}
		nums = append(nums, d.Num)
		c, _ := s.colors.Color(d.Num)
		res.Dependents = append(res.Dependents, DependentResult{ID: d.ID, MaskedName: d.Masked().Name, Color: c})
	}
	place, err := s.placeNum(ctx, PlaceVenue, v.ID, true)
	if err != nil {
		return nil, err
	}
	if err := s.admit(ctx, v, accountID, place, nums); err != nil {
		return nil, err
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	p := &pending{checkins: make([]row, len(nums))}
	for i, n := range nums {
		p.checkins[i] = row{place: place, at: at.UnixMilli(), person: n}
	}
	if err := s.w.submit(ctx, p); err != nil {
		return nil, err
	}
	res.CheckedInAt = at.In(s.cfg.Location)
	res.Color, _ = s.colors.Color(me.Num)
	return res, nil
}

// RecordVerification stores a verification event and returns once it is
// durably committed (with the same group commit as check-ins). A zero At is
// the current time.
func (s *Service) RecordVerification(ctx context.Context, v Verification) error {
	if v.At.IsZero() {
		v.At = s.now()
	}
	var place int64
	if v.Checkpoint != "" {
		var err error
		if place, err = s.placeNum(ctx, PlaceCheckpoint, v.Checkpoint, true); err != nil {
			return err
		}
	}
	color := int64(0)
	if v.Valid {
		color = int64(v.Color)
	}
	return s.w.submit(ctx, &pending{verif: &verRow{at: v.At.UnixMilli(), place: place, person: v.Person,
		keyID: v.KeyID, valid: v.Valid, reason: v.Reason, color: color, kind: v.Kind}})
}

// HourCount is the number of check-ins in one hour.
type HourCount struct {
	Hour  time.Time
	Count int64
}

// Counts is what a venue may see of its check-ins: numbers per hour, never
// who.
type Counts struct {
	VenueID   string
	VenueName string
	From      time.Time
	To        time.Time
	Total     int64
	Hours     []HourCount
	// Refused is the entries the venue's policy turned away, by reason.
	Refused map[string]int64
}

// MaxCountSpan bounds one counts query (a month of hours).
const MaxCountSpan = 31 * 24 * time.Hour

// Counts returns the venue's check-ins per hour in [from, to), widened to
// whole hours, for an operator with stats.read and the venue in scope.
// Every hour of the range is listed, with zero where nobody checked in.
func (s *Service) Counts(ctx context.Context, by *auth.Principal, venueID string, from, to time.Time) (*Counts, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, ErrTimeRangeInverted
	}
	from, to = from.Truncate(time.Hour), to.Add(time.Hour-1).Truncate(time.Hour)
	if to.Sub(from) > MaxCountSpan {
		return nil, ErrTimeRangeTooLong.Withf("ask for at most %d days at a time", int(MaxCountSpan/(24*time.Hour)))
	}
	v, err := s.venues.Get(ctx, by, venueID)
	if err != nil {
		return nil, err
	}
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	out := &Counts{VenueID: v.ID, VenueName: v.Name, From: from.In(s.cfg.Location), To: to.In(s.cfg.Location), Hours: []HourCount{}}
	byHour := map[int64]int64{}
	place, err := s.placeNum(ctx, PlaceVenue, v.ID, false)
	if err != nil {
		return nil, err
	}
	if place != 0 {
		err := db.Each(ctx, s.db, `SELECT at / 3600000, COUNT(*) FROM checkins
			WHERE place = $1 AND at >= $2 AND at < $3 GROUP BY at / 3600000`, []any{place, from.UnixMilli(), to.UnixMilli()}, func(sc db.Scanner) error {
			var h, n int64
			if err := sc.Scan(&h, &n); err != nil {
				return err
			}
			byHour[h] = n
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("checkin: counts: %w", err)
		}
	}
	out.Refused = map[string]int64{}
	if place != 0 {
		err := db.Each(ctx, s.db, `SELECT reason, SUM(count) FROM venue_refusals WHERE place = $1 AND hour >= $2 AND hour < $3 GROUP BY reason`,
			[]any{place, from.UnixMilli() / 3600000, to.UnixMilli() / 3600000}, func(sc db.Scanner) error {
				var r string
				var n int64
				if err := sc.Scan(&r, &n); err != nil {
					return err
				}
				out.Refused[r] = n
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("checkin: refusals: %w", err)
		}
	}
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		n := byHour[h.UnixMilli()/3600000]
		out.Hours = append(out.Hours, HourCount{Hour: h.In(s.cfg.Location), Count: n})
		out.Total += n
	}
	return out, nil
}

// VenueTotals counts the check-ins at each venue (by id) in [from, to): a
// transport company's rides of the day per vehicle. The caller names the
// venues, from the feature that decides whose they are.
func (s *Service) VenueTotals(ctx context.Context, venueIDs []string, from, to time.Time) (map[string]int64, error) {
	if err := s.flush(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(venueIDs))
	for _, id := range venueIDs {
		place, err := s.placeNum(ctx, PlaceVenue, id, false)
		if err != nil {
			return nil, err
		}
		if place == 0 {
			continue
		}
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE place = $1 AND at >= $2 AND at < $3`,
			place, from.UnixMilli(), to.UnixMilli()).Scan(&n); err != nil {
			return nil, fmt.Errorf("checkin: venue totals: %w", err)
		}
		out[id] = n
	}
	return out, nil
}
