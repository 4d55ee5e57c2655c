package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// API key scopes. A key may carry several; "facts:KIND" lets an integrator
// post one kind of fact (a pharmacy posts pharmacy.purchase, nothing else).
const (
	ScopeVerify    = "verify"    // POST /verify
	ScopeVerifyID  = "verify_id" // POST /verify/id, the ID-number fallback
	ScopeStatus    = "status"    // look up a colour by code (ride-hailing pre-check, schools)
	ScopeFactsPref = "facts:"
)

// ParseScopes checks scope names.
func ParseScopes(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, ErrScopesMissing
	}
	out := make([]string, 0, len(in))
	for _, sc := range in {
		switch {
		case sc == ScopeVerify, sc == ScopeVerifyID, sc == ScopeStatus:
		case strings.HasPrefix(sc, ScopeFactsPref) && len(sc) > len(ScopeFactsPref):
		default:
			return nil, ErrScopeUnknown.Withf("unknown scope %q (want verify, verify_id, status or facts:KIND)", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// KeyKindOrg is the kind of an organisation's key (the gateway). Its
// scopes are the gateway's, which the organisation service checks; its
// limits are enforced by the gateway.
const KeyKindOrg = "org"

// KeyLimits bound an organisation key's use; 0 is no limit.
type KeyLimits struct {
	PerDay    int64 // requests per day (the deployment's zone)
	PerMinute int64 // requests per minute, on each node
}

// NewKey is the input for an API key.
type NewKey struct {
	Kind   string // "checkpoint", "integrator" or KeyKindOrg
	Name   string
	Scopes []string
	Region string
	Org    string // KeyKindOrg only
	Limits KeyLimits
}

// CreateAPIKey stores a new key in the caller's transaction and returns its
// id and the secret, which is shown once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, tx db.Tx, by *Principal, k NewKey) (id, key string, err error) {
	var scopes []string
	if k.Kind == KeyKindOrg {
		for _, sc := range k.Scopes {
			if sc != "" && !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	} else if scopes, err = ParseScopes(k.Scopes); err != nil {
		return "", "", err
	}
	id, key = ids.New(), ids.Secret(apiKeyPrefix)
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, kind, name, scopes, region_code, created_at, created_by,
			org_id, daily_quota, rate_per_minute)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, ids.Hash(key), k.Kind, k.Name, strings.Join(scopes, " "), k.Region, s.now().UnixMilli(), by.Actor(),
		sql.NullString{String: k.Org, Valid: k.Org != ""}, k.Limits.PerDay, k.Limits.PerMinute)
	if err != nil {
		return "", "", fmt.Errorf("auth: create API key: %w", err)
	}
	return id, key, nil
}

// RotateAPIKey gives a key a new secret in the caller's transaction and
// returns it (shown once); the old secret stops at once on this node and
// within CacheTTL on the others. Id, scopes, limits and the day's use stay.
func (s *Service) RotateAPIKey(ctx context.Context, tx db.Tx, id string) (string, error) {
	key := ids.Secret(apiKeyPrefix)
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET key_hash = $1, rotated_at = $2 WHERE id = $3 AND revoked_at IS NULL`,
		ids.Hash(key), s.now().UnixMilli(), id)
	if err != nil {
		return "", fmt.Errorf("auth: rotate API key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("auth: rotate API key: %w", err)
	} else if n == 0 {
		return "", ErrKeyNotFound
	}
	s.forget(APIKey, id)
	return key, nil
}

// APIKeyInfo is a key as its managers see it, never its secret.
type APIKeyInfo struct {
	ID        string
	Kind      string
	Name      string
	Scopes    []string
	Region    string
	Org       string
	Limits    KeyLimits
	CreatedAt time.Time
	CreatedBy string
	RotatedAt time.Time // zero: never rotated
	RevokedAt time.Time // zero: in use
}

const keyCols = `id, kind, name, scopes, region_code, COALESCE(org_id, ''), daily_quota, rate_per_minute, created_at, created_by, rotated_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (*APIKeyInfo, error) {
	var k APIKeyInfo
	var scopes string
	var created int64
	var rotated, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.Kind, &k.Name, &scopes, &k.Region, &k.Org, &k.Limits.PerDay, &k.Limits.PerMinute,
		&created, &k.CreatedBy, &rotated, &revoked); err != nil {
		return nil, err
	}
	k.Scopes, k.CreatedAt, k.RotatedAt, k.RevokedAt = strings.Fields(scopes), db.Time(created), db.NullTime(rotated), db.NullTime(revoked)
	return &k, nil
}

// OrgKeys lists an organisation's keys, revoked ones too, newest first.
// The organisation service decides who may read them.
func (s *Service) OrgKeys(ctx context.Context, org string) ([]*APIKeyInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id`, org)
	if err != nil {
		return nil, fmt.Errorf("auth: list keys: %w", err)
	}
	defer rows.Close()
	var out []*APIKeyInfo
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKeyByID returns a key (revoked ones too).
func (s *Service) APIKeyByID(ctx context.Context, q db.Querier, id string) (*APIKeyInfo, error) {
	k, err := scanKey(q.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrKeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get key: %w", err)
	}
	return k, nil
}

// forget drops a principal's cached sessions or keys on this node.
func (s *Service) forget(kind Kind, id string) {
	s.cache.Range(func(k, v any) bool {
		if c := v.(*cached); c.p.Kind == kind && c.p.ID == id {
			s.cache.Delete(k)
		}
		return true
	})
}

// RevokeAPIKey stops a key; other nodes stop accepting it within CacheTTL.
func (s *Service) RevokeAPIKey(ctx context.Context, tx db.Tx, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("auth: revoke API key: %w", err)
	}
	s.forget(APIKey, id)
	return nil
}

func (s *Service) lookupAPIKey(ctx context.Context, h []byte) (*Principal, error) {
	var p Principal
	var scopes string
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, scopes, region_code, revoked_at, COALESCE(org_id, ''), daily_quota, rate_per_minute
		FROM api_keys WHERE key_hash = $1`, h).
		Scan(&p.ID, &p.Name, &scopes, &p.Region, &revoked, &p.Org, &p.Limits.PerDay, &p.Limits.PerMinute)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrAPIKeyInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up API key: %w", err)
	}
	if revoked.Valid {
		return nil, ErrAPIKeyRevoked.Withf("this API key was revoked on %s", db.Time(revoked.Int64).Format(time.DateOnly))
	}
	p.Kind = APIKey
	p.Scopes = strings.Fields(scopes)
	return &p, nil
}
