// Package org keeps the organisations of the gateway (统一服务网关):
// hospitals, fever clinics, pharmacies, ride-hailing platforms, taxi
// companies, bus operators, schools, employers, scenic spots and service
// halls, each with a unified social credit code and a region; their API keys
// (kind "org" in the API key table, with gateway scopes, a daily quota and a
// rate limit); and their unit accounts, people who sign in to the
// organisation's pages. Operators with org.write manage them in their
// region; an organisation's admin account may manage its own keys.
//
// Authorize is the gateway's door: every gateway call asks it whether the
// caller acts for an organisation with the scope, and it enforces the
// key's limits in memory (see usage.go for how the daily quota holds across
// nodes).
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
)

// Kind is what an organisation is; it decides the scopes its keys and
// accounts may have.
type Kind string

// Kinds of organisation.
const (
	Hospital    Kind = "hospital"
	FeverClinic Kind = "fever_clinic"
	Pharmacy    Kind = "pharmacy"
	RideHailing Kind = "ride_hailing"
	Taxi        Kind = "taxi"
	Bus         Kind = "bus"
	School      Kind = "school"
	Employer    Kind = "employer"
	ScenicSpot  Kind = "scenic_spot"
	ServiceHall Kind = "service_hall"

	// Holders of the cold chain (冷链食品追溯): they receive, store, pass on
	// and sell batches of imported frozen food.
	Importer    Kind = "importer"
	ColdStore   Kind = "cold_store"
	Wholesaler  Kind = "wholesaler"
	Market      Kind = "market"
	Supermarket Kind = "supermarket"
	Restaurant  Kind = "restaurant"
	Carrier     Kind = "carrier" // a telecom carrier that sends the trip card's stays
)

// KindInfo is a kind with its names.
type KindInfo struct {
	Kind  Kind
	Label fact.Text
}

// Kinds lists the kinds in the order forms show them.
var Kinds = []KindInfo{
	{Hospital, fact.Text{ZH: "医院", EN: "hospital"}},
	{FeverClinic, fact.Text{ZH: "发热门诊", EN: "fever clinic"}},
	{Pharmacy, fact.Text{ZH: "药店", EN: "pharmacy"}},
	{RideHailing, fact.Text{ZH: "网约车平台", EN: "ride-hailing platform"}},
	{Taxi, fact.Text{ZH: "出租车公司", EN: "taxi company"}},
	{Bus, fact.Text{ZH: "公交公司", EN: "bus operator"}},
	{School, fact.Text{ZH: "学校", EN: "school"}},
	{Employer, fact.Text{ZH: "用人单位", EN: "employer"}},
	{ScenicSpot, fact.Text{ZH: "景区", EN: "scenic spot"}},
	{ServiceHall, fact.Text{ZH: "政务服务大厅", EN: "service hall"}},
	{Importer, fact.Text{ZH: "冷链食品进口商", EN: "cold-chain importer"}},
	{ColdStore, fact.Text{ZH: "冷库", EN: "cold store"}},
	{Wholesaler, fact.Text{ZH: "冷链食品批发商", EN: "cold-chain wholesaler"}},
	{Market, fact.Text{ZH: "农贸市场", EN: "market"}},
	{Supermarket, fact.Text{ZH: "商超", EN: "supermarket"}},
	{Restaurant, fact.Text{ZH: "餐饮单位", EN: "restaurant"}},
	{Carrier, fact.Text{ZH: "电信运营商", EN: "telecom carrier"}},
}

// ColdChainHolders are the kinds that hold cold-chain batches.
var ColdChainHolders = []Kind{Importer, ColdStore, Wholesaler, Market, Supermarket, Restaurant}

// ColdChainSamplers are the holders that sample goods and packaging for
// nucleic-acid tests and have them disinfected (the ports' importers,
// cold stores and wholesalers); markets, supermarkets and restaurants
// receive goods already inspected.
var ColdChainSamplers = []Kind{Importer, ColdStore, Wholesaler}

// ParseKind checks a kind from input.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k.Kind) == s {
			return k.Kind, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k.Kind)
	}
	return "", ErrKindInvalid.Withf("unknown organisation kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// Org is an organisation.
type Org struct {
	ID        string
	Num       int64 // dense, for subject references
	Kind      Kind
	Name      string
	USCC      string
	Region    string
	Address   string
	CreatedAt time.Time
}

// RegionValidator checks region codes.
type RegionValidator interface {
	Validate(code string) error
}

// Credentials stores what organisations sign in with: API keys and unit
// accounts (the auth service). The methods that take a transaction write
// in the caller's, so the audit entry and the change commit together.
type Credentials interface {
	CreateAPIKey(ctx context.Context, tx db.Tx, by *auth.Principal, k auth.NewKey) (id, key string, err error)
	RotateAPIKey(ctx context.Context, tx db.Tx, id string) (string, error)
	RevokeAPIKey(ctx context.Context, tx db.Tx, id string) error
	APIKeyByID(ctx context.Context, q db.Querier, id string) (*auth.APIKeyInfo, error)
	OrgKeys(ctx context.Context, org string) ([]*auth.APIKeyInfo, error)
	CreateUnitAccount(ctx context.Context, tx db.Tx, by *auth.Principal, n auth.NewUnitAccount) (*auth.UnitAccount, error)
	UnitAccounts(ctx context.Context, org string) ([]*auth.UnitAccount, error)
	UnitAccount(ctx context.Context, id string) (*auth.UnitAccount, error)
	SetUnitDisabled(ctx context.Context, tx db.Tx, id string, disabled bool) error
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// CacheTTL is how long a node trusts what it cached of an organisation
	// (default 30 s, as the auth cache).
	CacheTTL time.Duration
	// Location is the zone of "days" for the daily quota (Asia/Shanghai).
	Location *time.Location
	// Metrics receives the keys' use metrics (nil: not registered).
	Metrics prometheus.Registerer
}

// Service manages organisations. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	creds   Credentials
	regions RegionValidator
	cfg     Config
	now     func() time.Time

	cache sync.Map // id -> *cachedOrg
	nums  sync.Map // num -> id (never changes)
	use   usage
	m     *metrics
}

type cachedOrg struct {
	o     *Org
	until time.Time
}

// New returns the service.
func New(d *db.DB, creds Credentials, regions RegionValidator, cfg Config) *Service {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	s := &Service{db: d, creds: creds, regions: regions, cfg: cfg, now: time.Now, m: newMetrics(cfg.Metrics)}
	s.use.init()
	return s
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Input registers an organisation.
type Input struct {
	Kind    string
	Name    string
	USCC    string
	Region  string // default: the operator's region
	Address string
}

// canManage reports whether an operator may manage organisations in region.
func canManage(by *auth.Principal, region string) error {
	if by == nil || !by.Can(auth.OrgWrite) {
		return ErrForbidden.Withf("your role may not manage organisations (needs %s)", auth.OrgWrite)
	}
	if !by.InScope(region) {
		return ErrOutOfScope.Withf("region %s is outside your scope %s", region, by.Region)
	}
	return nil
}

// Create registers an organisation in the operator's scope; audited.
func (s *Service) Create(ctx context.Context, by *auth.Principal, in Input) (*Org, error) {
	if by == nil || !by.Can(auth.OrgWrite) {
		return nil, ErrForbidden.Withf("your role may not manage organisations (needs %s)", auth.OrgWrite)
	}
	kind, err := ParseKind(in.Kind)
	if err != nil {
		return nil, err
	}
	o := &Org{ID: ids.New(), Kind: kind, Name: strings.TrimSpace(in.Name), Region: in.Region,
		Address: strings.TrimSpace(in.Address), CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	var err2 error
	if o.Name, err2 = idnum.CleanText("name", o.Name); err2 != nil {
		return nil, err2
	}
	if o.Address, err2 = idnum.CleanText("address", o.Address); err2 != nil {
		return nil, err2
	}
	if n := utf8.RuneCountInString(o.Name); n == 0 || n > 100 {
		return nil, ErrNameInvalid
	}
	if utf8.RuneCountInString(o.Address) > 200 {
		return nil, ErrAddressTooLong
	}
	if o.USCC, err = idnum.ParseUSCC(in.USCC); err != nil {
		return nil, err
	}
	if o.Region == "" {
		o.Region = by.Region
	}
	if err := s.regions.Validate(o.Region); err != nil {
		return nil, err
	}
	if err := canManage(by, o.Region); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if o.Num, err = db.NextVal(ctx, tx, "orgs", 1); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			o.ID, o.Num, string(o.Kind), o.Name, o.USCC, o.Region, o.Address, o.CreatedAt.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrExists.Withf("%s is already registered as a %s", o.USCC, o.Kind)
		}
		if err != nil {
			return fmt.Errorf("org: insert: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "org.create", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"kind": string(o.Kind), "name": o.Name, "uscc": o.USCC}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

const cols = `id, num, kind, name, uscc, region_code, address, created_at`

func scan(row interface{ Scan(...any) error }) (*Org, error) {
	var o Org
	var kind string
	var at int64
	if err := row.Scan(&o.ID, &o.Num, &kind, &o.Name, &o.USCC, &o.Region, &o.Address, &at); err != nil {
		return nil, err
	}
	o.Kind, o.CreatedAt = Kind(kind), db.Time(at)
	return &o, nil
}

// Filter narrows a list of organisations.
type Filter struct {
	Kind   string // "" for every kind
	Region string // a region in the reader's scope; "" for the whole scope
	After  int64  // the Num of the last one of the previous page
	Limit  int    // default 100, at most 500
}

// readsOrgs reports whether an operator may read the organisations of
// their scope: those who manage them and those who read statistics.
func readsOrgs(by *auth.Principal) error {
	if by == nil || by.Kind != auth.Operator || !(by.Can(auth.OrgWrite) || by.Can(auth.StatsRead)) {
		return ErrForbidden.Withf("this needs an operator with %s or %s", auth.OrgWrite, auth.StatsRead)
	}
	return nil
}

// List returns the organisations in the operator's scope in the order they
// were registered.
func (s *Service) List(ctx context.Context, by *auth.Principal, f Filter) ([]*Org, error) {
	if err := readsOrgs(by); err != nil {
		return nil, err
	}
	if f.Kind != "" {
		if _, err := ParseKind(f.Kind); err != nil {
			return nil, err
		}
	}
	switch {
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit < 0 || f.Limit > 500:
		return nil, ErrFilterInvalid.Withf("limit must be 1-500")
	}
	scope := by.Region
	if f.Region != "" {
		if err := s.regions.Validate(f.Region); err != nil {
			return nil, err
		}
		if !by.InScope(f.Region) {
			return nil, ErrOutOfScope.Withf("region %s is outside your scope %s", f.Region, by.Region)
		}
		scope = f.Region
	}
	lo, hi := auth.Bounds(scope)
	var w db.Where
	w.Scope("region_code", lo, hi)
	if f.Kind != "" {
		w.Add("kind = ?", f.Kind)
	}
	w.Add("num > ?", f.After)
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM orgs WHERE `+w.SQL()+` ORDER BY num LIMIT `+w.Next(f.Limit), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("org: list: %w", err)
	}
	defer rows.Close()
	out := []*Org{}
	for rows.Next() {
		o, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("org: list: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Get returns an organisation to an operator who reads organisations and
// has it in scope, or to the organisation's own keys and accounts. Any
// other is told it does not exist.
func (s *Service) Get(ctx context.Context, by *auth.Principal, id string) (*Org, error) {
	o, err := s.org(ctx, id)
	if err != nil {
		return nil, err
	}
	if by != nil && by.Org != "" && by.Org == o.ID {
		return o, nil
	}
	if by == nil || by.Kind != auth.Operator {
		return nil, ErrNotFound
	}
	if err := readsOrgs(by); err != nil {
		return nil, err
	}
	if !by.InScope(o.Region) {
		return nil, ErrNotFound
	}
	return o, nil
}

// org reads an organisation, from this node's cache when fresh.
func (s *Service) org(ctx context.Context, id string) (*Org, error) {
	now := s.now()
	if v, ok := s.cache.Load(id); ok {
		if c := v.(*cachedOrg); now.Before(c.until) {
			return c.o, nil
		}
	}
	if !validID(id) {
		return nil, ErrNotFound
	}
	o, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM orgs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("org: get: %w", err)
	}
	s.cache.Store(id, &cachedOrg{o: o, until: now.Add(s.cfg.CacheTTL)})
	s.nums.Store(o.Num, o.ID)
	return o, nil
}

// ByNum returns the organisation with the number, for the gateway's
// subject references (which carry the number). Numbers never change.
func (s *Service) ByNum(ctx context.Context, num int64) (*Org, error) {
	if v, ok := s.nums.Load(num); ok {
		return s.org(ctx, v.(string))
	}
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM orgs WHERE num = $1`, num).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("org: by number: %w", err)
	}
	s.nums.Store(num, id)
	return s.org(ctx, id)
}

// validID reports whether id could be an id the service made; anything
// else is not looked up (PostgreSQL refuses invalid UTF-8 with an error).
func validID(id string) bool {
	return len(id) == 20 && !slices.ContainsFunc([]byte(id), func(c byte) bool { return !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') })
}

// maxOfKinds bounds OfKinds: the platforms a resident chooses from.
const maxOfKinds = 500

// OfKinds lists the organisations of the kinds in the whole deployment, in
// the order they were registered, for anyone: names and kinds of
// organisations are public (a resident chooses the ride-hailing platforms
// to share a handle with).
func (s *Service) OfKinds(ctx context.Context, kinds ...Kind) ([]*Org, error) {
	if len(kinds) == 0 {
		return []*Org{}, nil
	}
	args := make([]any, 0, len(kinds)+1)
	for _, k := range kinds {
		args = append(args, string(k))
	}
	args = append(args, maxOfKinds)
	out, err := db.Collect(ctx, s.db, `SELECT `+cols+` FROM orgs WHERE kind IN (`+db.Params(0, len(kinds))+`)
		ORDER BY num LIMIT $`+fmt.Sprint(len(kinds)+1), args, func(sc db.Scanner) (*Org, error) { return scan(sc) })
	if err != nil {
		return nil, fmt.Errorf("org: list of kinds: %w", err)
	}
	if out == nil {
		out = []*Org{}
	}
	return out, nil
}

// Public returns an organisation by id for anyone, with its public facts
// only (name, kind, region), as OfKinds lists them.
func (s *Service) Public(ctx context.Context, id string) (*Org, error) {
	return s.org(ctx, id)
}
