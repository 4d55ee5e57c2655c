// Package auth authenticates callers and says what they may do: residents by
// a one-time code sent to their phone, operators by password (argon2id), and
// checkpoints and integrators by API key. Sessions and keys are bearer
// secrets of which only a hash is stored. Every operator is scoped to a
// region and everything below it.
package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
)

// Token prefixes tell the kind of a bearer secret without a lookup.
const (
	residentPrefix = "hcr_"
	operatorPrefix = "hco_"
	apiKeyPrefix   = "hck_"
	unitPrefix     = "hcu_"
)

// Config holds the limits of logins. Zero values are replaced by defaults,
// except where noted; a load test on loopback turns the rate limits off.
type Config struct {
	OTPTTL      time.Duration // how long a one-time code is valid (default 5 min)
	OTPAttempts int           // wrong guesses before the code is void (default 5)
	OTPInterval time.Duration // minimum time between codes to one phone (default 60 s; negative = none)
	OTPPerDay   int           // codes per phone per day (default 10; negative = unlimited)
	// OTPPerAddr bounds the codes, to any phones, asked from one client
	// address in an hour (default 60; negative = unlimited); OTPPerMinute
	// the codes all nodes send in a minute (default 600; negative =
	// unlimited). Both are counted in the database, so they hold across nodes.
	OTPPerAddr   int
	OTPPerMinute int
	// SMSBudget is the day's budget of login-code messages (default 50,000;
	// negative = unlimited): at 80 % and when it is spent an alert is
	// logged and counted, and past it codes are refused until the next day.
	SMSBudget     int
	ResidentTTL   time.Duration // resident session lifetime (default 30 days)
	OperatorTTL   time.Duration // operator session lifetime (default 12 h)
	CacheTTL      time.Duration // how long a node trusts a cached session (default 30 s)
	Region        string        // the deployment's region, for the outbox view of one-time codes
	LoginFailures int           // password failures (per username, per client address) before a 15-minute lock that doubles with each further failure (default 10)
	AdminTOTP     bool          // admins must enrol a second factor (TOTP) before they may do anything else
	Location      *time.Location
	Metrics       prometheus.Registerer // receives the logins' metrics (nil: not registered)
	Log           *slog.Logger          // alerts (the SMS budget); default slog.Default()
}

func (c *Config) defaults() {
	if c.OTPTTL == 0 {
		c.OTPTTL = 5 * time.Minute
	}
	if c.OTPAttempts == 0 {
		c.OTPAttempts = 5
	}
	if c.OTPInterval == 0 {
		c.OTPInterval = time.Minute
	}
	if c.OTPPerDay == 0 {
		c.OTPPerDay = 10
	}
	if c.OTPPerAddr == 0 {
		c.OTPPerAddr = 60
	}
	if c.OTPPerMinute == 0 {
		c.OTPPerMinute = 600
	}
	if c.SMSBudget == 0 {
		c.SMSBudget = 50_000
	}
	if c.ResidentTTL == 0 {
		c.ResidentTTL = 30 * 24 * time.Hour
	}
	if c.OperatorTTL == 0 {
		c.OperatorTTL = 12 * time.Hour
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 30 * time.Second
	}
	if c.LoginFailures == 0 {
		c.LoginFailures = 10
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*3600)
	}
}

// RegionValidator checks that a region code exists.
type RegionValidator interface {
	Validate(code string) error
}

// Outbox queues text messages in the caller's transaction (*sms.Outbox).
type Outbox interface {
	SendTx(ctx context.Context, tx db.Tx, m sms.Message) error
	// Wake tells the sender that a message was committed, so that a
	// login code does not wait for its worker's tick.
	Wake()
}

// Service authenticates. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	keys    *secret.Keyring
	sms     Outbox
	regions RegionValidator
	cfg     Config
	now     func() time.Time

	cache   sync.Map // string(token hash) -> cached
	metrics *metrics
}

type cached struct {
	p       *Principal
	until   time.Time // min(session expiry, cached-at + CacheTTL)
	expires time.Time // session expiry
}

// New returns the service.
func New(d *db.DB, keys *secret.Keyring, sender Outbox, regions RegionValidator, cfg Config) *Service {
	cfg.defaults()
	return &Service{db: d, keys: keys, sms: sender, regions: regions, cfg: cfg, now: time.Now,
		metrics: newMetrics(cfg.Metrics)}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Authenticate resolves a bearer secret to its principal. A node keeps
// resolved secrets for CacheTTL, so the hot paths (verify, code) do not touch
// the database; a logout or key revocation reaches other nodes within that time.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*Principal, error) {
	if bearer == "" {
		return nil, ErrUnauthenticated
	}
	h := ids.Hash(bearer)
	now := s.now()
	if v, ok := s.cache.Load(string(h)); ok {
		c := v.(*cached)
		if now.Before(c.until) {
			return c.p, nil
		}
		s.cache.Delete(string(h))
	}
	var p *Principal
	var expires time.Time
	var err error
	switch {
	case strings.HasPrefix(bearer, residentPrefix), strings.HasPrefix(bearer, operatorPrefix), strings.HasPrefix(bearer, unitPrefix):
		p, expires, err = s.lookupSession(ctx, h, now)
	case strings.HasPrefix(bearer, apiKeyPrefix):
		p, err = s.lookupAPIKey(ctx, h)
		expires = now.Add(100 * 365 * 24 * time.Hour)
	default:
		return nil, ErrTokenInvalid.Withf("the credential is not a healthcode token or key")
	}
	if err != nil {
		return nil, err
	}
	until := now.Add(s.cfg.CacheTTL)
	if expires.Before(until) {
		until = expires
	}
	s.cache.Store(string(h), &cached{p: p, until: until, expires: expires})
	return p, nil
}

func (s *Service) lookupSession(ctx context.Context, h []byte, now time.Time) (*Principal, time.Time, error) {
	var kind, subject string
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, subject, expires_at FROM sessions WHERE token_hash = $1`, h).
		Scan(&kind, &subject, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && exp <= now.UnixMilli()) {
		return nil, time.Time{}, ErrTokenInvalid
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("auth: look up session: %w", err)
	}
	switch Kind(kind) {
	case Resident:
		return &Principal{Kind: Resident, ID: subject}, db.Time(exp), nil
	case Operator:
		op, err := s.operatorByID(ctx, subject)
		if err != nil {
			return nil, time.Time{}, err
		}
		if op.Disabled {
			return nil, time.Time{}, ErrOperatorDisabled
		}
		p := op.principal()
		p.MustEnrol = s.cfg.AdminTOTP && op.Role == Admin && !op.TOTP
		return p, db.Time(exp), nil
	case Unit:
		u, err := s.unitByID(ctx, subject)
		if err != nil {
			return nil, time.Time{}, err
		}
		if u.Disabled {
			return nil, time.Time{}, ErrUnitDisabled
		}
		return u.principal(), db.Time(exp), nil
	}
	return nil, time.Time{}, fmt.Errorf("auth: session of unknown kind %q", kind)
}

func (s *Service) newSession(ctx context.Context, tx db.Tx, kind Kind, subject string) (string, time.Time, error) {
	prefix, ttl := residentPrefix, s.cfg.ResidentTTL
	switch kind {
	case Operator:
		prefix, ttl = operatorPrefix, s.cfg.OperatorTTL
	case Unit:
		prefix, ttl = unitPrefix, s.cfg.OperatorTTL
	}
	token := ids.Secret(prefix)
	now := s.now()
	exp := now.Add(ttl)
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, kind, subject, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		ids.Hash(token), string(kind), subject, now.UnixMilli(), exp.UnixMilli())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: store session: %w", err)
	}
	return token, exp, nil
}

// Logout ends a session at once on this node and in the database.
func (s *Service) Logout(ctx context.Context, bearer string) error {
	if strings.HasPrefix(bearer, apiKeyPrefix) {
		return ErrLogoutAPIKey
	}
	h := ids.Hash(bearer)
	s.cache.Delete(string(h))
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, h); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// PurgeExpired deletes expired sessions and one-time codes, and forgets
// expired cache entries. The server calls it periodically.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now()
	s.cache.Range(func(k, v any) bool {
		if !now.Before(v.(*cached).expires) {
			s.cache.Delete(k)
		}
		return true
	})
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("auth: purge sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_backoff WHERE last_at < $1 AND until_at <= $2`,
		now.Add(-quietDay).UnixMilli(), now.UnixMilli()); err != nil {
		return fmt.Errorf("auth: purge login backoff: %w", err)
	}
	// A second-factor key shown but not confirmed within a day is dropped.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM operator_totp_pending WHERE created_at < $1`, now.Add(-quietDay).UnixMilli()); err != nil {
		return fmt.Errorf("auth: purge unconfirmed TOTP keys: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM otp_counters WHERE until_at <= $1`, now.UnixMilli()); err != nil {
		return fmt.Errorf("auth: purge code counters: %w", err)
	}
	// A code row also carries the day's send count, so only rows from
	// earlier days may go.
	_, err = s.db.ExecContext(ctx, purgeOTPs, now.UnixMilli(), s.day(now))
	if err != nil {
		return fmt.Errorf("auth: purge one-time codes: %w", err)
	}
	return nil
}

func (s *Service) day(t time.Time) int64 {
	y, m, d := t.In(s.cfg.Location).Date()
	return int64(y*10000 + int(m)*100 + d)
}
