// Package codes issues and verifies the signed health codes: dynamic codes
// that a resident's phone shows (minutes), care codes (爱心码) printed for
// people without phones (days, revocable, only valid online), the online
// verification at checkpoints with the current colour from the status cache,
// and the ID-number fallback.
//
// Issuing and verifying are the hottest paths of the platform, so neither
// reads the database: the signer and the MAC key come from the key store's
// memory, the profile from the person cache, the colour from the status
// cache, care-code revocations from a set refreshed periodically, and the
// checkpoint behind an API key from a cache.
package codes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/venue"
)

// Colours is the status cache: a person's current colour and the version
// of their status row, from memory (status.Service implements it).
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// FactRecorder appends facts and recomputes colours (status.Service).
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// VerificationRecorder stores verification events with group commit
// (checkin.Service).
type VerificationRecorder interface {
	RecordVerification(ctx context.Context, v checkin.Verification) error
}

// Keys is the key store: the signer and the MAC key from memory, and the
// trusted public keys (keys.Store implements it).
type Keys interface {
	SignerAt(t time.Time) *codeformat.Signer
	MACKey() []byte
	Key(kid codeformat.KeyID) (codeformat.PublicKey, bool)
}

// Federation recognises other regions' codes through the hub
// (federation.Node): their keys and revoked care codes from the bundle, a
// refetch on an unknown key id, the issuer's live colour, and the region's
// policy for reading foreign colours.
type Federation interface {
	Key(kid codeformat.KeyID) (codeformat.PublicKey, bool)
	Revoked(issuer string, cti [8]byte) bool
	Refetch(ctx context.Context) bool
	Status(ctx context.Context, issuer string, handle [8]byte) (rules.Color, bool)
	Map(issuer string, c rules.Color) rules.Color
}

// Persons finds the people codes are for (person.Service).
type Persons interface {
	Handles() *person.Handles
	Profile(ctx context.Context, accountID string) (person.Profile, error)
	Dependent(ctx context.Context, accountID, personID string) (*person.Person, error)
	GetByID(ctx context.Context, id string) (*person.Person, error)
	FindByIDNumber(ctx context.Context, idType, number string) (*person.Person, error)
}

// Checkpoints finds the checkpoint that owns an API key (checkpoint.Service).
type Checkpoints interface {
	ByAPIKey(ctx context.Context, keyID string) (*checkpoint.Checkpoint, error)
}

// Config holds the service's settings. Zero values are replaced by defaults.
type Config struct {
	Region  string        // the issuing region (GB/T 2260)
	TTL     time.Duration // dynamic codes (default 3 minutes)
	CareTTL time.Duration // care codes (default 14 days)
	Skew    time.Duration // clock-skew allowance at verification (default 30 s)
	// CacheTTL is how long a node trusts what it cached about an API key's
	// checkpoint (default 30 s, as the auth cache).
	CacheTTL time.Duration
	// Metrics receives the service's metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// Defaults.
const (
	DefaultTTL     = 3 * time.Minute
	DefaultCareTTL = 14 * 24 * time.Hour
)

func (c *Config) defaults() {
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.CareTTL <= 0 {
		c.CareTTL = DefaultCareTTL
	}
	if c.Skew <= 0 {
		c.Skew = codeformat.DefaultSkew
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 30 * time.Second
	}
}

// MaxLifetime is how long after a key stops signing a code it signed may
// still be presented: the longest code lifetime plus the skew allowance.
// The key store keeps retired keys published that long.
func (c Config) MaxLifetime() time.Duration {
	c.defaults()
	return max(c.TTL, c.CareTTL) + c.Skew
}

// Deps are the services the codes service uses. Facts and Verifications
// may be nil while the status engine and the check-in recorder are not wired
// into the server: temperature facts and verification events are then not
// recorded (the server logs this at start).
type Deps struct {
	DB            *db.DB
	Keyring       *secret.Keyring // seals the text of care codes at rest
	Keys          Keys
	Persons       Persons
	Checkpoints   Checkpoints
	Colors        Colors
	Facts         FactRecorder
	Verifications VerificationRecorder
	// Federation is nil on a deployment without a hub: other regions' codes
	// are then unknown_key.
	Federation Federation
	// Emergency says whether the emergency has ended (`healthcode
	// wind-down`); nil: it never ends.
	Emergency Ender
}

// trusted finds a key among the region's own, then among other regions'
// from the federation bundle.
type trusted struct {
	own     Keys
	foreign Federation
}

func (t trusted) Key(kid codeformat.KeyID) (codeformat.PublicKey, bool) {
	if k, ok := t.own.Key(kid); ok {
		return k, ok
	}
	return t.foreign.Key(kid)
}

// Ender says whether the emergency has ended.
type Ender interface{ Ended() bool }

// Service issues and verifies codes. It is safe for concurrent use.
type Service struct {
	Deps
	cfg      Config
	now      func() time.Time
	verifier *codeformat.Verifier
	// scans is the checkpoint's verifier: codes and test certificates.
	// Binding a person by code (Resolve) takes codes only.
	scans *codeformat.Verifier

	revMu     sync.Mutex // serialises changes of revoked
	revoked   atomic.Pointer[map[[8]byte]struct{}]
	cps       sync.Map // API key id -> *cpEntry
	idLookups *limiter // per API key, on this node
	shows     showCounter
	metrics   *metrics
	policy    EntryPolicy
	refusals  RefusalCounter
}

type cpEntry struct {
	id    string // "" for an integrator key
	kind  string // the kind of venue the checkpoint stands at, "" for none
	until time.Time
}

// EntryPolicy is the venues' entry policies (the trip service): why a
// venue of the kind turns a person away, "" to admit.
type EntryPolicy interface {
	Admit(ctx context.Context, v *venue.Venue, accountID string, num int64, color rules.Color) (string, error)
}

// RefusalCounter counts a refusal for the checkpoint, never who (the
// check-in service).
type RefusalCounter interface {
	CountCheckpointRefusal(ctx context.Context, checkpointID, reason string) error
}

// SetEntryPolicy makes the entry policy of a checkpoint's venue kind hold
// at its verifications (nil: it does not). Set it before serving.
func (s *Service) SetEntryPolicy(p EntryPolicy, c RefusalCounter) { s.policy, s.refusals = p, c }

// New returns the service and loads the care-code revocations.
func New(ctx context.Context, d Deps, cfg Config) (*Service, error) {
	cfg.defaults()
	if cfg.Region == "" {
		return nil, errors.New("codes: no region")
	}
	if d.Colors == nil || d.Keys == nil || d.Persons == nil {
		return nil, errors.New("codes: Keys, Persons and Colors are required")
	}
	s := &Service{Deps: d, cfg: cfg, now: time.Now, idLookups: newLimiter(idLookupBurst, idLookupPeriod),
		metrics: newMetrics(cfg.Metrics)}
	empty := map[[8]byte]struct{}{}
	s.revoked.Store(&empty)
	var keys codeformat.Keys = d.Keys
	if d.Federation != nil {
		keys = trusted{own: d.Keys, foreign: d.Federation}
	}
	opts := codeformat.Options{
		MACKeys: map[string][]byte{cfg.Region: d.Keys.MACKey()},
		Skew:    cfg.Skew,
		Revoked: s.isRevoked,
		// Codes of another region are checked by signature; a second door
		// that scans the same code finds it here (about 3 MB).
		SignatureCache: 1 << 16,
		// Scans that arrive together have their signatures checked
		// together, at a fraction of the cost each.
		Ed25519Batch: new(codeformat.Ed25519Batch),
	}
	batchMetrics(cfg.Metrics, opts.Ed25519Batch)
	s.verifier = codeformat.NewVerifier(keys, opts)
	opts.Kinds = []codeformat.Kind{codeformat.KindDynamic, codeformat.KindCare, codeformat.KindCertificate}
	s.scans = codeformat.NewVerifier(keys, opts)
	if d.DB != nil {
		if err := s.RefreshRevocations(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Config is the service's configuration with the defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// Issued is a code as handed to its holder.
type Issued struct {
	Code       string
	Kind       codeformat.Kind
	Color      rules.Color // colour at issue; zero for care codes
	MaskedName string
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

var errNoSigner = errors.New("codes: the region has no signing key (run `healthcode keys generate`)")

// encode signs claims for the holder with the current key and the region
// MAC. Times are whole seconds, as in the code.
func (s *Service) encode(kind codeformat.Kind, num int64, maskedName string, c rules.Color, version uint64, ttl time.Duration) (Issued, *codeformat.Signer, [8]byte, error) {
	if s.Emergency != nil && s.Emergency.Ended() {
		return Issued{}, nil, [8]byte{}, ErrEmergencyEnded
	}
	now := s.now()
	signer := s.Keys.SignerAt(now)
	if signer == nil {
		return Issued{}, nil, [8]byte{}, errNoSigner
	}
	iat := now.Truncate(time.Second)
	cl := codeformat.Claims{
		Issuer: s.cfg.Region, IssuedAt: iat, Expires: iat.Add(ttl), ID: codeformat.NewID(),
		Handle: s.Persons.Handles().Handle(num), MaskedName: maskedName, Kind: kind, StatusVersion: version,
	}
	if kind == codeformat.KindDynamic {
		cl.Color = codeColor(c)
	}
	str, err := codeformat.Encode(cl, signer, s.Keys.MACKey())
	if err != nil {
		return Issued{}, nil, [8]byte{}, fmt.Errorf("codes: encode: %w", err)
	}
	return Issued{Code: str, Kind: kind, Color: c, MaskedName: maskedName, IssuedAt: iat.UTC(), ExpiresAt: cl.Expires.UTC()}, signer, cl.ID, nil
}

// codeColor maps a status colour to the code's: the values agree, but the
// code must never carry "none" on a dynamic code.
func codeColor(c rules.Color) codeformat.Color {
	switch c {
	case rules.Yellow:
		return codeformat.ColorYellow
	case rules.Red:
		return codeformat.ColorRed
	}
	return codeformat.ColorGreen
}

// colour reads the status cache; a person never evaluated is green.
func (s *Service) color(num int64) (rules.Color, uint64) {
	c, v := s.Colors.Color(num)
	if !c.Valid() {
		c = rules.Green
	}
	return c, v
}

// Dynamic issues a dynamic code for a person, to be shown: no database
// read, and the show is counted in memory (see ShowsPerHour).
func (s *Service) Dynamic(p person.Profile) (Issued, error) {
	c, v := s.color(p.Num)
	iss, _, _, err := s.encode(codeformat.KindDynamic, p.Num, p.MaskedName, c, v, s.cfg.TTL)
	if err != nil {
		return iss, err
	}
	s.shows.add(iss.IssuedAt, p.Region)
	s.metrics.issuedDynamic.Inc()
	return iss, nil
}

// MyCode issues the dynamic code of the account's own person, from the
// cached profile.
func (s *Service) MyCode(ctx context.Context, accountID string) (Issued, error) {
	p, err := s.Persons.Profile(ctx, accountID)
	if err != nil {
		return Issued{}, err
	}
	return s.Dynamic(p)
}

// DependentCode issues the dynamic code of one of the account's dependents.
func (s *Service) DependentCode(ctx context.Context, accountID, personID string) (Issued, error) {
	p, err := s.Persons.Dependent(ctx, accountID, personID)
	if err != nil {
		return Issued{}, err
	}
	return s.Dynamic(p.Profile())
}

// maskedName is the name a code shows.
func maskedName(p *person.Person) string { return idnum.MaskName(p.Name) }
