package status

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/sms"
)

// People is what the engine needs to know about persons beyond their
// numbers and regions (which it reads from the persons table itself): who to
// text about a change, the masked name the text carries, and whom a
// resident acts for (themselves and their dependents).
type People interface {
	Phones(ctx context.Context, num int64) ([]string, error)
	Get(ctx context.Context, num int64) (*person.Person, error)
	ActingFor(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error)
	// CountByRegion counts registered persons per region code within
	// [lo, hi) from counts kept as they register, not by reading them all.
	CountByRegion(ctx context.Context, lo, hi string) (map[string]int64, error)
}

// IDs turns person numbers into public ids for the audit log, and posted
// ids back into numbers (*person.Handles).
type IDs interface {
	ID(num int64) string
	ParseID(id string) (int64, error)
}

// Hasher keys the phone hashes the notifier keeps (*secret.Keyring): a plain
// hash of an 11-digit number could be reversed by trying them all.
type Hasher interface {
	BlindIndex(domain, value string) []byte
}

// Deps are the services the engine uses.
type Deps struct {
	DB     *db.DB
	People People
	IDs    IDs
	SMS    sms.Sender
	Hasher Hasher
	Log    *slog.Logger
}

// Config tunes the engine; the zero value is usable.
type Config struct {
	// Location is the region's time zone, in which rules count days; nil
	// means Asia/Shanghai.
	Location *time.Location
	// AppealTTL is how long a granted appeal lasts when the operator gives
	// no until (default 7 days).
	AppealTTL time.Duration
	// Batch is how many persons a recompute or scheduler transaction
	// evaluates (default 2000).
	Batch int
	// BulkFacts is the size of a Record call from which, when every fact
	// has a key, the facts are stored in transactions of Chunk persons
	// each rather than in one (default 5,000).
	BulkFacts int
	// Chunk is how many persons one transaction of such a call covers
	// (default 10,000).
	Chunk int
	// Workers evaluate in parallel within a batch (default GOMAXPROCS).
	Workers int
	// Lease is how long a node owns a recompute job or a notification
	// between heartbeats (default 15 s); another node takes over after it.
	Lease time.Duration
	// Node names this process in job leases (default random).
	Node string
	// Region is the deployment's region: the active rule set decides the
	// colour of everyone in it, so only an operator whose scope covers it
	// may activate one ("" lets any operator with the permission).
	Region string
	// Metrics receives the engine's metrics (nil: not registered).
	Metrics prometheus.Registerer
}

func (c *Config) defaults() {
	if c.AppealTTL <= 0 {
		c.AppealTTL = 7 * 24 * time.Hour
	}
	if c.Batch <= 0 {
		c.Batch = 2000
	}
	if c.BulkFacts <= 0 {
		c.BulkFacts = 5000
	}
	if c.Chunk <= 0 {
		c.Chunk = 10_000
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.Node == "" {
		var b [6]byte
		rand.Read(b[:])
		c.Node = hex.EncodeToString(b[:])
	}
}

// Service is the status engine of one node: the fact store, rule-set
// versions, evaluation, the change log and its tail, the per-node colour
// cache, the scheduler, notifications, recomputes and appeals. Any number of
// nodes may run one each on the same database.
type Service struct {
	db     *db.DB
	people People
	ids    IDs
	sms    sms.Sender
	hasher Hasher
	log    *slog.Logger
	cfg    Config
	now    func() time.Time

	cache       *cache
	metrics     *metrics
	credentials CredentialChecker
	// tailSeq is the last change-log seq applied to the cache; gapSince is
	// when the tail first saw the entry after it missing (see Tail).
	tailMu   sync.Mutex
	tailSeq  int64
	gapSince time.Time
	// current is when the cache last held every change committed before
	// it (unix nanoseconds): at the load, then at each tail without a gap.
	current atomic.Int64

	progMu   sync.Mutex
	programs map[int64]*rules.Program
	single   map[singleKey]*rules.Program
	texts    map[int64]map[string]ruleText

	// The writer's statements of bulk Records (stmtTx).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

type singleKey struct {
	version int64
	rule    string
}

// New builds the engine: it installs the default rule set as version 1 on a
// fresh database and loads the colour cache.
func New(ctx context.Context, deps Deps, cfg Config) (*Service, error) {
	cfg.defaults()
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	s := &Service{db: deps.DB, people: deps.People, ids: deps.IDs, sms: deps.SMS, hasher: deps.Hasher, log: deps.Log,
		cfg: cfg, now: time.Now, cache: newCache(), programs: map[int64]*rules.Program{}, single: map[singleKey]*rules.Program{},
		texts: map[int64]map[string]ruleText{}, metrics: newMetrics(cfg.Metrics)}
	if err := s.installDefault(ctx); err != nil {
		return nil, err
	}
	if err := s.loadCache(ctx); err != nil {
		return nil, err
	}
	if err := s.refreshActive(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SetClock replaces the clock, for tests (the scheduler and appeal expiries
// follow it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Colour is the person's current colour and status version from this node's
// cache; it never touches the database. A person never evaluated, or unknown,
// is green with version 0.
func (s *Service) Color(num int64) (rules.Color, uint64) { return s.cache.get(num) }

// installDefault makes the default rule set version 1 and activates it, once.
// Nodes starting together race harmlessly: the inserts do nothing the second time.
func (s *Service) installDefault(ctx context.Context) error {
	set := rules.Default()
	if _, err := rules.Compile(set, rules.Options{Location: s.cfg.Location}); err != nil {
		return fmt.Errorf("status: default rule set: %w", err)
	}
	now := s.now().UnixMilli()
	return s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_sets (version, body, rules, examples, created_at, created_by)
			VALUES (1, $1, $2, $3, $4, 'system') ON CONFLICT (version) DO NOTHING`,
			string(rules.DefaultJSON()), len(set.Rules), len(set.Examples), now); err != nil {
			return fmt.Errorf("status: install default rules: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO rules_active (id, version, activated_at, activated_by)
			VALUES (1, 1, $1, 'system') ON CONFLICT (id) DO NOTHING`, now)
		if err != nil {
			return fmt.Errorf("status: activate default rules: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		for _, c := range []string{"rule_sets", "rule_activations"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO NOTHING`, c); err != nil {
				return fmt.Errorf("status: counters: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO rule_activations (seq, version, activated_at, activated_by) VALUES (1, 1, $1, 'system')`, now)
		return err
	})
}

// lockShare is appended to the read of the active version in every
// transaction that writes decisions. On PostgreSQL it makes an activation
// wait until evaluations under the old version have committed, and those
// that start later see the new one; SQLite's single writer gives the same.
func (s *Service) lockShare() string {
	if s.db.Engine() == db.Postgres {
		return " FOR SHARE"
	}
	return ""
}

// forUpdate locks selected status rows on PostgreSQL; on SQLite the write
// transaction already excludes every other writer.
func (s *Service) forUpdate(skipLocked bool) string {
	if s.db.Engine() != db.Postgres {
		return ""
	}
	if skipLocked {
		return " FOR UPDATE SKIP LOCKED"
	}
	return " FOR UPDATE"
}

// activeProgram reads the active version in tx and returns its program. It
// must be the first statement of a transaction that writes decisions, so
// that the share lock is taken before any row lock (see lockShare).
func (s *Service) activeProgram(ctx context.Context, tx db.Tx) (int64, *rules.Program, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`+s.lockShare()).Scan(&v); err != nil {
		return 0, nil, fmt.Errorf("status: read active rules: %w", err)
	}
	p, err := s.program(ctx, tx, v)
	if err != nil {
		return 0, nil, err
	}
	return v, p, nil
}

// refreshActive loads the active version's program ahead of need, so that
// the first write after another node's activation does not pay the compile.
func (s *Service) refreshActive(ctx context.Context) error {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT version FROM rules_active WHERE id = 1`).Scan(&v); err != nil {
		return fmt.Errorf("status: read active rules: %w", err)
	}
	_, err := s.program(ctx, s.db, v)
	return err
}

// program returns the compiled program of a version; versions are
// immutable, so it is compiled once per node.
func (s *Service) program(ctx context.Context, q db.Querier, version int64) (*rules.Program, error) {
	s.progMu.Lock()
	p := s.programs[version]
	s.progMu.Unlock()
	if p != nil {
		return p, nil
	}
	set, err := s.loadSet(ctx, q, version)
	if err != nil {
		return nil, err
	}
	p, err = rules.Compile(set, rules.Options{Location: s.cfg.Location})
	if err != nil {
		return nil, fmt.Errorf("status: compile stored rule set %d: %w", version, err)
	}
	s.progMu.Lock()
	s.programs[version] = p
	s.progMu.Unlock()
	return p, nil
}

// singleRule compiles one rule of a version alone, to ask whether that rule
// matches (the appeal check): a whole set's decision names only the winner.
func (s *Service) singleRule(ctx context.Context, q db.Querier, version int64, ruleID string) (*rules.Program, error) {
	k := singleKey{version, ruleID}
	s.progMu.Lock()
	p := s.single[k]
	s.progMu.Unlock()
	if p != nil {
		return p, nil
	}
	set, err := s.loadSet(ctx, q, version)
	if err != nil {
		return nil, err
	}
	for _, r := range set.Rules {
		if r.ID == ruleID {
			p, err = rules.Compile(rules.Set{Rules: []rules.Rule{r}}, rules.Options{Location: s.cfg.Location})
			if err != nil {
				return nil, fmt.Errorf("status: compile rule %s of set %d: %w", ruleID, version, err)
			}
			s.progMu.Lock()
			s.single[k] = p
			s.progMu.Unlock()
			return p, nil
		}
	}
	return nil, nil
}

func (s *Service) loadSet(ctx context.Context, q db.Querier, version int64) (rules.Set, error) {
	var body string
	err := q.QueryRowContext(ctx, `SELECT body FROM rule_sets WHERE version = $1`, version).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return rules.Set{}, errNoVersion(version)
	}
	if err != nil {
		return rules.Set{}, fmt.Errorf("status: read rule set %d: %w", version, err)
	}
	set, err := rules.ParseSet([]byte(body))
	if err != nil {
		return rules.Set{}, fmt.Errorf("status: stored rule set %d: %w", version, err)
	}
	return set, nil
}
