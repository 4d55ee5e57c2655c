// Package venue registers venues (场所) and their venue codes (场所码): an
// opaque token whose QR holds the URL of the check-in page, so any phone
// camera opens it. A venue sees counts, never people. Rotating a token keeps
// the old one on record (revoked), so check-ins made with it stay attached.
package venue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
)

// Kinds of venue. Tracing windows can be configured per kind (a bus is not a
// supermarket).
var Kinds = []string{"restaurant", "supermarket", "market", "mall", "office", "factory", "school", "hospital",
	"pharmacy", "hotel", "transport", "government", "residential", "entertainment", "religious", "vehicle", "other"}

// kindLabels name the kinds for people, Chinese and English, where no page
// catalogue is at hand (a CSV export).
var kindLabels = map[string][2]string{
	"restaurant": {"餐饮", "Restaurant"}, "supermarket": {"超市", "Supermarket"}, "market": {"农贸市场", "Market"},
	"mall": {"商场", "Mall"}, "office": {"办公场所", "Office"}, "factory": {"工厂", "Factory"},
	"school": {"学校", "School"}, "hospital": {"医院", "Hospital"}, "pharmacy": {"药店", "Pharmacy"},
	"hotel": {"宾馆", "Hotel"}, "transport": {"交通场站", "Transport"}, "government": {"机关单位", "Government"},
	"residential": {"居民小区", "Residential"}, "entertainment": {"娱乐场所", "Entertainment"},
	"religious": {"宗教场所", "Religious"}, "vehicle": {"交通工具", "Vehicle"}, "other": {"其他", "Other"},
}

// KindLabel is a kind's name in lang ("en", otherwise Chinese); an unknown
// kind is itself.
func KindLabel(kind, lang string) string {
	l, ok := kindLabels[kind]
	switch {
	case !ok:
		return kind
	case lang == "en":
		return l[1]
	}
	return l[0]
}

// Venue is a place with a venue code.
type Venue struct {
	ID        string
	UnitID    string
	UnitUSCC  string
	UnitName  string
	Name      string
	Kind      string
	Address   string
	Region    string
	Token     string
	Disabled  bool
	CreatedAt time.Time
}

// RegionValidator checks region codes.
type RegionValidator interface {
	Validate(code string) error
}

// Service manages venues. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	regions RegionValidator
	now     func() time.Time
	tokens  sync.Map // token -> *tokenEntry, the check-in hot path
}

type tokenEntry struct {
	v       *Venue
	revoked bool
	until   time.Time
}

// New returns the service.
func New(d *db.DB, regions RegionValidator) *Service {
	return &Service{db: d, regions: regions, now: time.Now}
}

// Input registers a venue.
type Input struct {
	Name     string
	Kind     string
	Address  string
	Region   string
	UnitUSCC string // unified social credit code of the unit that runs it
	UnitName string
}

// text trims a field; missing is nil for an optional one.
func text(field, v string, max int, missing, tooLong *apierr.Error) (string, error) {
	v, err := idnum.CleanText(field, v)
	if err != nil {
		return "", err
	}
	if missing != nil && v == "" {
		return "", missing
	}
	if utf8.RuneCountInString(v) > max {
		return "", tooLong.Withf("%s must be at most %d characters", field, max)
	}
	return v, nil
}

// Create registers a venue in the operator's scope and gives it a token.
func (s *Service) Create(ctx context.Context, by *auth.Principal, in Input) (*Venue, error) {
	if err := by.Require(auth.VenueWrite); err != nil {
		return nil, err
	}
	if in.Region == "" {
		in.Region = by.Region
	}
	return s.create(ctx, by.Actor(), by, in)
}

// Register registers a venue for a feature that has already decided who
// may (a transport company's vehicle, each with a venue code of its own):
// the same checks of the input as Create, no operator's scope.
func (s *Service) Register(ctx context.Context, actor string, in Input) (*Venue, error) {
	return s.create(ctx, actor, nil, in)
}

func (s *Service) create(ctx context.Context, actor string, by *auth.Principal, in Input) (*Venue, error) {
	var err error
	v := &Venue{ID: ids.New(), Token: ids.New(), Kind: in.Kind, Region: in.Region, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if v.Name, err = text("name", in.Name, 100, ErrNameMissing, ErrNameTooLong); err != nil {
		return nil, err
	}
	if v.Address, err = text("address", in.Address, 200, nil, ErrAddressTooLong); err != nil {
		return nil, err
	}
	if v.Kind == "" {
		v.Kind = "other"
	}
	if !slices.Contains(Kinds, v.Kind) {
		return nil, ErrKindInvalid.Withf("kind must be one of %v", Kinds)
	}
	if err := s.regions.Validate(v.Region); err != nil {
		return nil, err
	}
	if by != nil && !by.InScope(v.Region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", v.Region, by.Region)
	}
	if in.UnitUSCC != "" {
		if v.UnitUSCC, err = idnum.ParseUSCC(in.UnitUSCC); err != nil {
			return nil, err
		}
		if v.UnitName, err = text("unit_name", in.UnitName, 100, nil, ErrUnitNameTooLong); err != nil {
			return nil, err
		}
		if v.UnitName == "" {
			v.UnitName = v.Name
		}
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if v.UnitUSCC != "" {
			if v.UnitID, err = s.unit(ctx, tx, actor, v); err != nil {
				return err
			}
		}
		now := v.CreatedAt.UnixMilli()
		if _, err := tx.ExecContext(ctx, `INSERT INTO venues (id, unit_id, name, kind, address, region_code, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			v.ID, sql.NullString{String: v.UnitID, Valid: v.UnitID != ""}, v.Name, v.Kind, v.Address, v.Region, now, actor); err != nil {
			return fmt.Errorf("venue: insert: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO venue_tokens (token, venue_id, created_at) VALUES ($1, $2, $3)`, v.Token, v.ID, now); err != nil {
			return fmt.Errorf("venue: insert token: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: actor, Action: "venue.create",
			Subject: "venue:" + v.ID, Region: v.Region, Detail: map[string]any{"name": v.Name, "kind": v.Kind}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// unit finds or creates the unit by its credit code.
func (s *Service) unit(ctx context.Context, tx db.Tx, actor string, v *Venue) (string, error) {
	var id, name string
	err := tx.QueryRowContext(ctx, `SELECT id, name FROM units WHERE uscc = $1`, v.UnitUSCC).Scan(&id, &name)
	if err == nil {
		v.UnitName = name
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("venue: find unit: %w", err)
	}
	id = ids.New()
	_, err = tx.ExecContext(ctx, `INSERT INTO units (id, uscc, name, region_code, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, v.UnitUSCC, v.UnitName, v.Region, s.now().UnixMilli(), actor)
	if err != nil {
		return "", fmt.Errorf("venue: create unit: %w", err)
	}
	return id, nil
}

const venueCols = `v.id, COALESCE(v.unit_id, ''), COALESCE(u.uscc, ''), COALESCE(u.name, ''), v.name, v.kind, v.address,
	v.region_code, v.disabled, v.created_at,
	COALESCE((SELECT t.token FROM venue_tokens t WHERE t.venue_id = v.id AND t.revoked_at IS NULL ORDER BY t.created_at DESC LIMIT 1), '')`

func scan(row interface{ Scan(...any) error }) (*Venue, error) {
	var v Venue
	var at int64
	if err := row.Scan(&v.ID, &v.UnitID, &v.UnitUSCC, &v.UnitName, &v.Name, &v.Kind, &v.Address, &v.Region, &v.Disabled, &at, &v.Token); err != nil {
		return nil, err
	}
	v.CreatedAt = db.Time(at)
	return &v, nil
}

// Get returns a venue in the operator's scope (nil: the platform's own
// lookup, unscoped).
func (s *Service) Get(ctx context.Context, by *auth.Principal, id string) (*Venue, error) {
	if by != nil && by.Kind != auth.Operator {
		return nil, ErrOperatorsOnly
	}
	v, err := scan(s.db.QueryRowContext(ctx, `SELECT `+venueCols+` FROM venues v LEFT JOIN units u ON u.id = v.unit_id WHERE v.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && by != nil && !by.InScope(v.Region)) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("venue: get: %w", err)
	}
	return v, nil
}

// List returns the venues in the operator's scope, newest first.
func (s *Service) List(ctx context.Context, by *auth.Principal, limit int) ([]*Venue, error) {
	if by == nil || by.Kind != auth.Operator {
		return nil, ErrOperatorsOnly
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	lo, hi := by.Bounds()
	query, args := listSQL(s.db.Engine(), lo, hi)
	out, err := db.Collect(ctx, s.db, query, append(args, limit), scan)
	if err != nil {
		return nil, fmt.Errorf("venue: list: %w", err)
	}
	return out, nil
}

// listSQL is the statement of List for the scope [lo, hi), its limit the
// third parameter. A wide scope is read in the order of venues_created, a
// page of it; a town's through venues_region, its few venues sorted. Neither
// planner can be left to choose: SQLite has no statistics for a range of
// codes and takes the region index for every scope, and PostgreSQL walked
// venues_created for a town (21 ms against 0.8 at 10M residents), expecting
// to fill the page early, where a town's 60 venues never fill it. So the
// wide scope's condition is written as an expression (+) on SQLite, which
// no index serves, and a town's order as one (+ 0) on both.
func listSQL(e db.Engine, lo, hi string) (string, []any) {
	col, order := "v.region_code", "v.created_at DESC, v.id"
	if len(lo) >= db.TownDigits {
		order = "v.created_at + 0 DESC, v.id"
	} else if e == db.SQLite {
		col = "+v.region_code"
	}
	scope, args := db.Scope(col, lo, hi, nil)
	return `SELECT ` + venueCols + ` FROM venues v LEFT JOIN units u ON u.id = v.unit_id
		WHERE ` + scope + ` ORDER BY ` + order + ` LIMIT $3`, args
}

// ByToken resolves a scanned venue token: the check-in hot path, so answers
// are cached for a short while. A revoked token still names its venue
// (revoked = true) so callers can say "this code was replaced".
func (s *Service) ByToken(ctx context.Context, token string) (v *Venue, revoked bool, err error) {
	now := s.now()
	if e, ok := s.tokens.Load(token); ok {
		te := e.(*tokenEntry)
		if now.Before(te.until) {
			return te.v, te.revoked, nil
		}
	}
	var venueID string
	var rev sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT venue_id, revoked_at FROM venue_tokens WHERE token = $1`, token).Scan(&venueID, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, ErrTokenUnknown
	}
	if err != nil {
		return nil, false, fmt.Errorf("venue: resolve token: %w", err)
	}
	if v, err = s.Get(ctx, nil, venueID); err != nil {
		return nil, false, err
	}
	s.tokens.Store(token, &tokenEntry{v: v, revoked: rev.Valid || v.Disabled, until: now.Add(30 * time.Second)})
	return v, rev.Valid || v.Disabled, nil
}

// RotateToken revokes the venue's current token and issues a new one (a
// poster was photographed and shared, say). Old check-ins keep their venue.
func (s *Service) RotateToken(ctx context.Context, by *auth.Principal, id string) (*Venue, error) {
	if err := by.Require(auth.VenueWrite); err != nil {
		return nil, err
	}
	v, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	old := v.Token
	v.Token = ids.New()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE venue_tokens SET revoked_at = $1 WHERE venue_id = $2 AND revoked_at IS NULL`, now, v.ID); err != nil {
			return fmt.Errorf("venue: revoke token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO venue_tokens (token, venue_id, created_at) VALUES ($1, $2, $3)`, v.Token, v.ID, now); err != nil {
			return fmt.Errorf("venue: insert token: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "venue.rotate_token",
			Subject: "venue:" + v.ID, Region: v.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.tokens.Delete(old)
	return v, nil
}

// IDsInRegion lists the venues of a region and below, for the platform's
// own walks (the trip feature finds who stayed in a city through them).
func (s *Service) IDsInRegion(ctx context.Context, code string) ([]string, error) {
	lo, hi := auth.Bounds(code)
	scope, args := db.Scope("region_code", lo, hi, nil)
	out, err := db.Collect(ctx, s.db, `SELECT id FROM venues WHERE `+scope, args, func(sc db.Scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("venue: in region %s: %w", code, err)
	}
	return out, nil
}
