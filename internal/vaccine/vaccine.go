// Package vaccine is vaccination (疫苗接种): sites published as open data,
// vaccine products with their schedules, daily slots with a capacity,
// residents' appointments (never more than the capacity, on any number of
// nodes), reminders by SMS the day before, doses registered by scanning the
// code at the site or imported from earlier records, the resident's record
// and a signed certificate, and the console's counts. docs/VACCINATION.md
// describes it for users.
//
// The feature decides nothing about colours: a dose is a vaccine.dose fact
// appended through the status engine.
package vaccine

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
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
)

// FactRecorder appends facts; (*status.Service).Record.
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// CodeResolver turns a scanned code into the person behind it, verified
// online; (*codes.Service).Resolve.
type CodeResolver interface {
	Resolve(ctx context.Context, scanned string) (num int64, kind codeformat.Kind, err error)
}

// SignerSource gives the current signing key; (*keys.Store).Signer.
type SignerSource interface {
	Signer() *codeformat.Signer
}

// Texter queues a text message in the caller's transaction;
// (*sms.Outbox).SendTx.
type Texter interface {
	SendTx(ctx context.Context, tx db.Tx, m sms.Message) error
}

// Deps are the services of other features this one calls.
type Deps struct {
	Facts FactRecorder
	Codes CodeResolver
	Keys  SignerSource
	SMS   Texter
}

// Config holds the feature's settings.
type Config struct {
	// Region is the deployment's region: the issuer of certificates.
	Region string
	// Location is the zone of "days" (slots, reminders, counts per day);
	// default Asia/Shanghai.
	Location *time.Location
	// CertificateValidity is how long a vaccination certificate is valid
	// after issue (default 30 days); it is issued again at will.
	CertificateValidity time.Duration
	// Metrics receives the feature's metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// Service is vaccination. It is safe for concurrent use.
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

// New returns the service.
func New(d *db.DB, persons *person.Service, regions *region.Table, deps Deps, cfg Config, log *slog.Logger) *Service {
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	if cfg.CertificateValidity <= 0 {
		cfg.CertificateValidity = 30 * 24 * time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, persons: persons, regions: regions, cfg: cfg, deps: deps, now: time.Now, log: log,
		metrics: newMetrics(cfg.Metrics)}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Location is the zone of days.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// Wiring mistakes: a server failure, not the caller's.
var (
	errNoFacts  = errors.New("vaccine: no fact recorder (status service) wired")
	errNoCodes  = errors.New("vaccine: no code resolver (codes service) wired")
	errNoSigner = errors.New("vaccine: no signing keys (key store) wired")
)
