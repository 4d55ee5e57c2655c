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

// NewKey is the input for an API key.
type NewKey struct {
	Kind   string // "checkpoint" or "integrator"
	Name   string
	Scopes []string
	Region string
}

// CreateAPIKey stores a new key in the caller's transaction and returns its
// id and the secret, which is shown once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, tx db.Tx, by *Principal, k NewKey) (id, key string, err error) {
	scopes, err := ParseScopes(k.Scopes)
	if err != nil {
		return "", "", err
	}
	id, key = ids.New(), ids.Secret(apiKeyPrefix)
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, kind, name, scopes, region_code, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, ids.Hash(key), k.Kind, k.Name, strings.Join(scopes, " "), k.Region, s.now().UnixMilli(), by.Actor())
	if err != nil {
		return "", "", fmt.Errorf("auth: create API key: %w", err)
	}
	return id, key, nil
}

// RevokeAPIKey stops a key; other nodes stop accepting it within CacheTTL.
func (s *Service) RevokeAPIKey(ctx context.Context, tx db.Tx, id string) error {
	_, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("auth: revoke API key: %w", err)
	}
	s.cache.Range(func(k, v any) bool {
		if c := v.(*cached); c.p.Kind == APIKey && c.p.ID == id {
			s.cache.Delete(k)
		}
		return true
	})
	return nil
}

func (s *Service) lookupAPIKey(ctx context.Context, h []byte) (*Principal, error) {
	var p Principal
	var scopes string
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, scopes, region_code, revoked_at FROM api_keys WHERE key_hash = $1`, h).
		Scan(&p.ID, &p.Name, &scopes, &p.Region, &revoked)
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
