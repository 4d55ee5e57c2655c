// Package tracing runs contact tracing over presence: given case persons
// (or a venue and a time window) it walks their check-ins and verifications
// in the lookback, finds everyone at the same place within the overlap
// window, records a contact.companion fact for each through the status
// engine, keeps a report operators can read and export, and opens a
// follow-up task for the grid worker of each companion's home region.
//
// Runs are queued in the database and executed in the background by
// whichever node claims them; a lease lets another node finish a run whose
// node died. Re-running finds the same encounters and, the facts being keyed
// by their evidence, records nothing twice.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// Facts records facts through the status engine.
type Facts interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// Presence reads check-ins and verifications (the checkin service).
type Presence interface {
	Encounters(ctx context.Context, person, from, to, window int64, fn func(checkin.Encounter)) error
	PlacesOf(ctx context.Context, person, from, to int64) ([]int64, error)
	Visitors(ctx context.Context, place, from, to int64, fn func(checkin.Presence)) error
	VenuePlace(ctx context.Context, venueID string) (int64, error)
	Place(ctx context.Context, num int64) (checkin.Place, error)
}

// Persons finds persons (the person service).
type Persons interface {
	Get(ctx context.Context, num int64) (*person.Person, error)
	GetByID(ctx context.Context, id string) (*person.Person, error)
}

// Venues finds venues (the venue service).
type Venues interface {
	Get(ctx context.Context, by *auth.Principal, id string) (*venue.Venue, error)
}

// Checkpoints lists checkpoints (the checkpoint service), for their names.
type Checkpoints interface {
	List(ctx context.Context, by *auth.Principal) (*checkpoint.Table, error)
}

// Operators lists the operators in a scope (the auth service), to check
// whom a task is assigned to.
type Operators interface {
	Operators(ctx context.Context, by *auth.Principal) ([]auth.OperatorInfo, error)
}

// CheckpointKind is the window key for checkpoints in Config.Windows.
const CheckpointKind = "checkpoint"

// VehicleKind is the venue kind of a bus or a taxi (internal/transport),
// the one kind with a window of its own by default.
const VehicleKind = "vehicle"

// Defaults of a run, which the --tracing-lookback, --tracing-window and
// --tracing-windows flags change: 14 days back, 30 minutes together, an
// hour on the same vehicle.
//
// A vehicle is a moving venue, and a ride's check-in records boarding, not
// alighting: the case was aboard for their whole ride, and so was everyone
// who boarded up to one ride before or after them. A city bus ride lasts
// up to about an hour (a line's full run end to end), so an hour either
// side of the case's boarding covers everyone who could have shared the
// bus with them, where the 30 minutes of a shop would miss a passenger
// who boarded 40 minutes into the case's ride. A taxi carries a few
// passengers an hour, so the same window costs only a handful of people
// there, and they sat in the case's air.
const (
	DefaultLookback      = 14 * 24 * time.Hour
	DefaultWindow        = 30 * time.Minute
	DefaultVehicleWindow = 60 * time.Minute
)

// Config tunes tracing. Zero values take the defaults.
type Config struct {
	Lookback time.Duration // default 14 days
	// Window is the overlap window: two people at the same place count as
	// companions when their check-ins are at most this far apart (default
	// 30 minutes). A check-in records an arrival, not a stay, so each is
	// taken to stand for a stay of one window; the overlap reported is how
	// long two such stays coincide.
	Window time.Duration
	// Windows overrides Window per venue kind (venue.Kinds, and
	// "checkpoint" for verifications at checkpoints). Vehicles have
	// DefaultVehicleWindow (or Window, if that is wider) unless set here.
	Windows map[string]time.Duration
	// MaxLookback bounds a run's lookback (the retention period: older
	// presence is gone). Default 28 days.
	MaxLookback time.Duration
	MaxCases    int           // per run, default 10,000
	Poll        time.Duration // how often an idle worker looks for queued runs, default 2 s
	Lease       time.Duration // how long a claimed run is reserved without progress, default 2 min
	Location    *time.Location
	Node        string // this node's name in tracing_runs.node (default a random id)
	Log         *slog.Logger
	Metrics     prometheus.Registerer // receives the runs' metrics (nil: not registered)
}

func (c *Config) defaults() {
	if c.Lookback <= 0 {
		c.Lookback = DefaultLookback
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if _, ok := c.Windows[VehicleKind]; !ok {
		// A copy: the caller's map may be shared by other nodes' configs.
		w := maps.Clone(c.Windows)
		if w == nil {
			w = map[string]time.Duration{}
		}
		// Never narrower than the other places unless asked: an operator who
		// widened every window meant vehicles too.
		w[VehicleKind] = min(max(DefaultVehicleWindow, c.Window), 24*time.Hour)
		c.Windows = w
	}
	if c.MaxLookback <= 0 {
		c.MaxLookback = checkin.DefaultRetention
	}
	if c.MaxCases <= 0 {
		c.MaxCases = 10000
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*3600)
	}
	if c.Node == "" {
		c.Node = ids.New()
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// ValidateWindows checks per-kind windows: known kinds, 1 minute to 1 day.
func ValidateWindows(w map[string]time.Duration) error {
	for k, d := range w {
		if k != CheckpointKind && !slices.Contains(venue.Kinds, k) {
			return fmt.Errorf("tracing: window for unknown venue kind %q (want one of %v or %q)", k, venue.Kinds, CheckpointKind)
		}
		if d < time.Minute || d > 24*time.Hour {
			return fmt.Errorf("tracing: window for %s is %v; it must be from 1m to 24h", k, d)
		}
	}
	return nil
}

// ParseWindows reads "restaurant=60m,transport=15m" (the --tracing-windows flag).
func ParseWindows(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tracing: %q is not KIND=DURATION", part)
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("tracing: window for %s: %w", k, err)
		}
		out[strings.TrimSpace(k)] = d
	}
	return out, ValidateWindows(out)
}

// Service queues, runs and reports tracing runs and their follow-up tasks.
type Service struct {
	db          *db.DB
	presence    Presence
	persons     Persons
	venues      Venues
	checkpoints Checkpoints
	operators   Operators
	facts       Facts
	cfg         Config
	now         func() time.Time
	metrics     *metrics
	follow      *followUp

	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns the service; Start runs its worker.
func New(d *db.DB, presence Presence, persons Persons, venues Venues, checkpoints Checkpoints, operators Operators,
	facts Facts, cfg Config) (*Service, error) {
	cfg.defaults()
	if err := ValidateWindows(cfg.Windows); err != nil {
		return nil, err
	}
	if facts == nil {
		return nil, errors.New("tracing: a status engine is needed to record the companions' facts")
	}
	return &Service{db: d, presence: presence, persons: persons, venues: venues, checkpoints: checkpoints,
		operators: operators, facts: facts, cfg: cfg, now: time.Now, wake: make(chan struct{}, 1), metrics: newMetrics(cfg.Metrics)}, nil
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Start runs the worker that executes queued runs, until Close.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			s.followRound(ctx)
			ran, err := s.RunNext(ctx)
			if err != nil && ctx.Err() == nil {
				s.cfg.Log.Error("tracing run failed", "err", err)
			}
			if ran {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(s.cfg.Poll):
			}
		}
	}()
}

// followRound opens the tasks of new colour changes and escalates overdue
// ones; when nothing changed it costs a one-row read and an indexed update.
func (s *Service) followRound(ctx context.Context) {
	if s.follow == nil {
		return
	}
	if _, err := s.FollowChanges(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Log.Error("follow-up of colour changes failed", "err", err)
	}
	if _, err := s.Escalate(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Log.Error("escalating overdue tasks failed", "err", err)
	}
}

// Close stops the worker. A run it was executing goes back to the queue,
// to be resumed by the next node that looks.
func (s *Service) Close() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
}

// windowOf returns the overlap window of a place in ms: the run's own
// window if it set one, else the configured one for the venue's kind.
func windowOf(p *params, kind string) int64 {
	if p.Window > 0 {
		return p.Window
	}
	if w, ok := p.Windows[kind]; ok {
		return w
	}
	return p.DefaultWindow
}

// caseWindow is the widest window of the places a case went to, for the
// presence query: a case who rode no vehicle is not read an hour around
// each place because vehicles have an hour, so the walk costs what the
// places visited need.
func (s *Service) caseWindow(ctx context.Context, p *params, sh *shared, c int64) (int64, error) {
	if p.Window > 0 {
		return p.Window, nil
	}
	places, err := s.presence.PlacesOf(ctx, c, p.From, p.To)
	if err != nil {
		return 0, err
	}
	w := p.DefaultWindow
	for _, pl := range places {
		k, err := s.kindOf(ctx, sh, pl)
		if err != nil {
			return 0, err
		}
		w = max(w, windowOf(p, k))
	}
	return w, nil
}

func (s *Service) windowsMs() map[string]int64 {
	out := make(map[string]int64, len(s.cfg.Windows))
	for k, w := range s.cfg.Windows {
		out[k] = w.Milliseconds()
	}
	return out
}
