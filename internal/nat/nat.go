// Package nat is nucleic-acid testing (核酸检测): the sampling sites published
// as open data, tubes filled at a site (one person, or 5, 10 or 20 mixed),
// sealed and handed to a lab, the lab's results per tube (one at a time or a
// CSV file) with audited corrections, the facts those results mean for each
// person in the tube, the follow-up they call for (a single-tube retest, a
// resample, an alert to the health officers), residents' own results and
// certificates, and the list of residents without a recent negative result
// (应检未检). docs/TESTING.md describes it for users.
//
// The feature decides nothing about colours: it appends nat.result facts
// through the status engine (FactRecorder), whose rules turn them into
// colours.
package nat

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/status"
)

// FactRecorder appends facts and recomputes the persons' colours; the
// status engine's (*status.Service).Record. It is idempotent by
// (Person, Key).
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// PostedResults are the persons in region bounds [lo, hi) with a negative
// result posted as a fact, sampled in [since, until] (unix ms); the
// status engine's (*status.Service).PostedNegatives.
type PostedResults interface {
	PostedNegatives(ctx context.Context, lo, hi string, since, until int64) (map[int64]bool, error)
}

// CodeResolver turns a scanned dynamic or care code into the person behind
// it, verified online; (*codes.Service).Resolve. An invalid code is an
// apierr 4xx "code_invalid".
type CodeResolver interface {
	Resolve(ctx context.Context, scanned string) (num int64, kind codeformat.Kind, err error)
}

// SignerSource gives the current signing key; (*keys.Store).Signer.
// Certificates are signed with the same keys as health codes, so the same
// trust list verifies them.
type SignerSource interface {
	Signer() *codeformat.Signer
}

// Deps are the services of other features this one calls.
type Deps struct {
	Facts FactRecorder
	// Posted finds negative results posted as facts rather than reported
	// on a tube, for coverage; nil: tubes only.
	Posted PostedResults
	Codes  CodeResolver
	Keys   SignerSource
}

// Config holds the feature's settings.
type Config struct {
	// Region is the deployment's region: the issuer of certificates and
	// the default scope of coverage for unscoped operators.
	Region string
	// CertificateValidity is how long after sampling a certificate of a
	// negative result expires (default 7 days).
	CertificateValidity time.Duration
	// ChunkTubes is how many tubes of an upload go into one transaction
	// and one Record call (default 1000: up to 20,000 facts).
	ChunkTubes int
	// PendingAfter is how old a result report whose facts were not
	// recorded must be before the worker retries it (default 1 minute, so
	// it does not race the request still recording them).
	PendingAfter time.Duration
	// Metrics receives testing's metrics (nil: not registered).
	Metrics prometheus.Registerer
	// Location is the time zone of the days swabs are counted in (default
	// Asia/Shanghai). The counts kept so far are by the days of the zone
	// they were kept in: changing it on a running deployment leaves them
	// in the old zone's days.
	Location *time.Location
}

// Service is nucleic-acid testing. It is safe for concurrent use once wired.
type Service struct {
	db      *db.DB
	persons *person.Service
	regions *region.Table
	cfg     Config
	deps    Deps
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
}

// New returns the service. The services of other features come in deps;
// they may also be given later with Wire, before the service is used.
func New(d *db.DB, persons *person.Service, regions *region.Table, deps Deps, cfg Config, log *slog.Logger) *Service {
	if cfg.CertificateValidity <= 0 {
		cfg.CertificateValidity = 7 * 24 * time.Hour
	}
	if cfg.ChunkTubes <= 0 {
		cfg.ChunkTubes = 1000
	}
	if cfg.PendingAfter <= 0 {
		cfg.PendingAfter = time.Minute
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, persons: persons, regions: regions, cfg: cfg, deps: deps, now: time.Now, log: log,
		metrics: newMetrics(cfg.Metrics)}
}

// Wire sets the services of other features that were not ready at New.
// Call it before serving.
func (s *Service) Wire(deps Deps) {
	if deps.Facts != nil {
		s.deps.Facts = deps.Facts
	}
	if deps.Codes != nil {
		s.deps.Codes = deps.Codes
	}
	if deps.Keys != nil {
		s.deps.Keys = deps.Keys
	}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Errors for a deployment assembled without a service this one needs: a
// wiring mistake, reported as a server failure rather than blamed on the
// caller.
var (
	errNoFacts  = errors.New("nat: no fact recorder (status service) wired")
	errNoCodes  = errors.New("nat: no code resolver (codes service) wired")
	errNoSigner = errors.New("nat: no signing keys (key store) wired")
)
