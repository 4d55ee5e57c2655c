// Package checkpoint keeps the table of checkpoints (核验点): the places
// where staff verify codes, each with an API key its scanner uses, and
// whether it is built and enabled (the table a rollout plan tracks).
package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/venue"
)

// Checkpoint is one row of the checkpoint table.
type Checkpoint struct {
	ID        string
	Seq       int64
	Name      string
	Region    string
	Address   string
	Built     bool
	Enabled   bool
	APIKeyID  string
	CreatedAt time.Time
	// VenueKind is the kind of venue the checkpoint stands at ("" for
	// none): that kind's entry policy holds at its verifications.
	VenueKind string
}

// KeyMaker issues and revokes API keys (the auth service).
type KeyMaker interface {
	CreateAPIKey(ctx context.Context, tx db.Tx, by *auth.Principal, k auth.NewKey) (id, key string, err error)
	RevokeAPIKey(ctx context.Context, tx db.Tx, id string) error
	RotateAPIKey(ctx context.Context, tx db.Tx, id string) (string, error)
}

// RegionValidator checks region codes.
type RegionValidator interface {
	Validate(code string) error
}

// Service manages checkpoints.
type Service struct {
	db      *db.DB
	keys    KeyMaker
	regions RegionValidator
	now     func() time.Time
}

// New returns the service.
func New(d *db.DB, keys KeyMaker, regions RegionValidator) *Service {
	return &Service{db: d, keys: keys, regions: regions, now: time.Now}
}

// Input creates a checkpoint. Built and Enabled default to true.
type Input struct {
	Seq     int64
	Name    string
	Region  string
	Address string
	Built   *bool
	Enabled *bool
	Scopes  []string // default: verify and verify_id
	// VenueKind puts the checkpoint under a venue kind's entry policy
	// ("" for none).
	VenueKind string
}

// Create adds a checkpoint and its API key; the key is returned once.
func (s *Service) Create(ctx context.Context, by *auth.Principal, in Input) (*Checkpoint, string, error) {
	if err := by.Require(auth.CheckpointEdit); err != nil {
		return nil, "", err
	}
	c := &Checkpoint{ID: ids.New(), Seq: in.Seq, Name: strings.TrimSpace(in.Name), Region: in.Region,
		Address: strings.TrimSpace(in.Address), Built: true, Enabled: true, CreatedAt: s.now().UTC().Truncate(time.Millisecond),
		VenueKind: in.VenueKind}
	if c.Seq < 0 {
		return nil, "", ErrSeqInvalid
	}
	if err := checkKind(c.VenueKind); err != nil {
		return nil, "", err
	}
	var err2 error
	if c.Name, err2 = idnum.CleanText("name", c.Name); err2 != nil {
		return nil, "", err2
	}
	if c.Address, err2 = idnum.CleanText("address", c.Address); err2 != nil {
		return nil, "", err2
	}
	if n := utf8.RuneCountInString(c.Name); n == 0 || n > 100 {
		return nil, "", ErrNameInvalid
	}
	if utf8.RuneCountInString(c.Address) > 200 {
		return nil, "", ErrAddressTooLong
	}
	if in.Built != nil {
		c.Built = *in.Built
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if c.Enabled && !c.Built {
		return nil, "", ErrEnabledNotBuilt
	}
	if c.Region == "" {
		c.Region = by.Region
	}
	if err := s.regions.Validate(c.Region); err != nil {
		return nil, "", err
	}
	if !by.InScope(c.Region) {
		return nil, "", auth.ErrOutOfScope.Withf("region %s is outside your scope %s", c.Region, by.Region)
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeVerify, auth.ScopeVerifyID}
	}
	var key string
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if c.APIKeyID, key, err = s.keys.CreateAPIKey(ctx, tx, by, auth.NewKey{Kind: "checkpoint", Name: c.Name, Scopes: scopes, Region: c.Region}); err != nil {
			return err
		}
		if !c.Enabled {
			if err := s.keys.RevokeAPIKey(ctx, tx, c.APIKeyID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (id, seq, name, region_code, address, built, enabled, api_key_id, created_at, created_by, venue_kind)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.ID, sql.NullInt64{Int64: c.Seq, Valid: c.Seq != 0}, c.Name, c.Region, c.Address, c.Built, c.Enabled, c.APIKeyID,
			c.CreatedAt.UnixMilli(), by.Actor(), c.VenueKind); err != nil {
			return fmt.Errorf("checkpoint: insert: %w", err)
		}
		detail := map[string]any{"name": c.Name}
		if c.VenueKind != "" {
			detail["venue_kind"] = c.VenueKind
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "checkpoint.create",
			Subject: "checkpoint:" + c.ID, Region: c.Region, Detail: detail})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return c, key, nil
}

// checkKind admits a known venue kind, or "" for none.
func checkKind(kind string) error {
	if kind != "" && !slices.Contains(venue.Kinds, kind) {
		return venue.ErrKindInvalid.Withf("venue_kind must be one of %v, or empty for none", venue.Kinds)
	}
	return nil
}

const cols = `id, COALESCE(seq, 0), name, region_code, address, built, enabled, COALESCE(api_key_id, ''), created_at, venue_kind`

func scan(row interface{ Scan(...any) error }) (*Checkpoint, error) {
	var c Checkpoint
	var at int64
	if err := row.Scan(&c.ID, &c.Seq, &c.Name, &c.Region, &c.Address, &c.Built, &c.Enabled, &c.APIKeyID, &at, &c.VenueKind); err != nil {
		return nil, err
	}
	c.CreatedAt = db.Time(at)
	return &c, nil
}

// Table is the checkpoint table with its totals.
type Table struct {
	Checkpoints []*Checkpoint
	Total       int
	Built       int
	Enabled     int
}

// List returns the checkpoints in the operator's scope, in table order, to
// a reader with stats.read.
func (s *Service) List(ctx context.Context, by *auth.Principal) (*Table, error) {
	if err := by.Require(auth.StatsRead); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, nil)
	t := &Table{Checkpoints: []*Checkpoint{}}
	err := db.Each(ctx, s.db, `SELECT `+cols+` FROM checkpoints WHERE `+scope+` ORDER BY COALESCE(seq, 1000000000), created_at, id`, args,
		func(sc db.Scanner) error {
			c, err := scan(sc)
			if err != nil {
				return err
			}
			t.Checkpoints = append(t.Checkpoints, c)
			t.Total++
			if c.Built {
				t.Built++
			}
			if c.Enabled {
				t.Enabled++
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: list: %w", err)
	}
	return t, nil
}

// ByAPIKey returns the checkpoint that owns an API key, for verification events.
func (s *Service) ByAPIKey(ctx context.Context, keyID string) (*Checkpoint, error) {
	c, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM checkpoints WHERE api_key_id = $1`, keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound.Withf("no checkpoint has this key")
	}
	return c, err
}

// Update sets whether a checkpoint is built and enabled, and the kind of
// venue it stands at (nil: unchanged; "": none). Disabling revokes
// its key (scanners stop within the auth cache time); enabling again issues
// a new key, returned once.
func (s *Service) Update(ctx context.Context, by *auth.Principal, id string, built, enabled *bool, venueKind *string) (*Checkpoint, string, error) {
	if err := by.Require(auth.CheckpointEdit); err != nil {
		return nil, "", err
	}
	if venueKind != nil {
		if err := checkKind(*venueKind); err != nil {
			return nil, "", err
		}
	}
	c, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM checkpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(c.Region)) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint: get: %w", err)
	}
	wasEnabled := c.Enabled
	if built != nil {
		c.Built = *built
	}
	if enabled != nil {
		c.Enabled = *enabled
	}
	if c.Enabled && !c.Built {
		return nil, "", ErrEnabledNotBuilt
	}
	if venueKind != nil {
		c.VenueKind = *venueKind
	}
	var key string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if wasEnabled && !c.Enabled && c.APIKeyID != "" {
			if err := s.keys.RevokeAPIKey(ctx, tx, c.APIKeyID); err != nil {
				return err
			}
		}
		if !wasEnabled && c.Enabled {
			var err error
			c.APIKeyID, key, err = s.keys.CreateAPIKey(ctx, tx, by, auth.NewKey{Kind: "checkpoint", Name: c.Name,
				Scopes: []string{auth.ScopeVerify, auth.ScopeVerifyID}, Region: c.Region})
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE checkpoints SET built = $1, enabled = $2, api_key_id = $3, venue_kind = $4 WHERE id = $5`,
			c.Built, c.Enabled, sql.NullString{String: c.APIKeyID, Valid: c.APIKeyID != ""}, c.VenueKind, c.ID); err != nil {
			return fmt.Errorf("checkpoint: update: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "checkpoint.update",
			Subject: "checkpoint:" + c.ID, Region: c.Region, Detail: map[string]any{"built": c.Built, "enabled": c.Enabled, "venue_kind": c.VenueKind}})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return c, key, nil
}

// Of returns the checkpoint whose key signs in a scanner, so that the
// device shows where it stands. Only an API key asks; an integrator's key
// has no checkpoint (404).
func (s *Service) Of(ctx context.Context, by *auth.Principal) (*Checkpoint, error) {
	if by == nil || by.Kind != auth.APIKey {
		return nil, auth.ErrAPIKeyOnly
	}
	return s.ByAPIKey(ctx, by.ID)
}

// IssueKey gives an enabled checkpoint's key a new secret, returned once,
// without disabling the checkpoint: a tablet replaced, a key lost. The old
// secret stops (at once on this node, within the auth cache time on the
// others); a disabled checkpoint gets its key by being enabled.
func (s *Service) IssueKey(ctx context.Context, by *auth.Principal, id string) (*Checkpoint, string, error) {
	if err := by.Require(auth.CheckpointEdit); err != nil {
		return nil, "", err
	}
	c, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM checkpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(c.Region)) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("checkpoint: get: %w", err)
	}
	if !c.Enabled || c.APIKeyID == "" {
		return nil, "", ErrDisabled
	}
	var key string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if key, err = s.keys.RotateAPIKey(ctx, tx, c.APIKeyID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "checkpoint.key",
			Subject: "checkpoint:" + c.ID, Region: c.Region})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return c, key, nil
}

// ByID returns a checkpoint, for the platform's own lookups (unscoped).
func (s *Service) ByID(ctx context.Context, id string) (*Checkpoint, error) {
	c, err := scan(s.db.QueryRowContext(ctx, `SELECT `+cols+` FROM checkpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// IDsInRegion lists the checkpoints of a region and below, for the
// platform's own walks.
func (s *Service) IDsInRegion(ctx context.Context, code string) ([]string, error) {
	lo, hi := auth.Bounds(code)
	scope, args := db.Scope("region_code", lo, hi, nil)
	out, err := db.Collect(ctx, s.db, `SELECT id FROM checkpoints WHERE `+scope, args, func(sc db.Scanner) (string, error) {
		var id string
		err := sc.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint: in region %s: %w", code, err)
	}
	return out, nil
}
