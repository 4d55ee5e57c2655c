package org

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// Key limits when none are given, and the largest allowed.
const (
	DefaultPerDay    = 10_000
	DefaultPerMinute = 600
	MaxPerDay        = 100_000_000
	MaxPerMinute     = 1_000_000
)

// KeyInput makes an organisation's key. Zero limits take the defaults.
type KeyInput struct {
	Name   string
	Scopes []string
	Limits auth.KeyLimits
}

// Key is an organisation's key as its managers see it, with today's use.
type Key struct {
	auth.APIKeyInfo
	UsedToday int64
}

// Revoked reports whether the key no longer works.
func (k *Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// manager returns the organisation if by may manage its keys: an operator
// with org.write who has it in scope, or the organisation's admin account.
// Others are told it does not exist, except an operator without the
// permission and the organisation's own staff, who are told why not.
func (s *Service) manager(ctx context.Context, by *auth.Principal, orgID string, accountsToo bool) (*Org, error) {
	o, err := s.org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	switch {
	case by == nil:
		return nil, ErrNotFound
	case by.Kind == auth.Operator:
		if !by.Can(auth.OrgWrite) {
			return nil, ErrForbidden.Withf("your role may not manage organisations (needs %s)", auth.OrgWrite)
		}
		if !by.InScope(o.Region) {
			return nil, ErrNotFound
		}
		return o, nil
	case by.Kind == auth.Unit && by.Org == o.ID:
		if by.Role != auth.UnitAdmin || accountsToo {
			return nil, ErrForbidden.Withf("only an operator may manage this organisation's accounts; its admin account may manage its keys")
		}
		return o, nil
	}
	return nil, ErrNotFound
}

func checkLimits(l auth.KeyLimits) (auth.KeyLimits, error) {
	if l.PerDay == 0 {
		l.PerDay = DefaultPerDay
	}
	if l.PerMinute == 0 {
		l.PerMinute = DefaultPerMinute
	}
	if l.PerDay < 1 || l.PerDay > MaxPerDay {
		return l, ErrLimitInvalid.Withf("daily_quota must be 1-%d", MaxPerDay)
	}
	if l.PerMinute < 1 || l.PerMinute > MaxPerMinute {
		return l, ErrLimitInvalid.Withf("rate_per_minute must be 1-%d", MaxPerMinute)
	}
	return l, nil
}

// CreateKey gives an organisation a key and returns its secret, which is
// shown once and stored hashed; audited.
func (s *Service) CreateKey(ctx context.Context, by *auth.Principal, orgID string, in KeyInput) (*Key, string, error) {
	o, err := s.manager(ctx, by, orgID, false)
	if err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		return nil, "", ErrKeyNameInvalid
	}
	scopes, err := parseScopes(o.Kind, in.Scopes)
	if err != nil {
		return nil, "", err
	}
	limits, err := checkLimits(in.Limits)
	if err != nil {
		return nil, "", err
	}
	var k *auth.APIKeyInfo
	var secret string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		id, key, err := s.creds.CreateAPIKey(ctx, tx, by, auth.NewKey{Kind: auth.KeyKindOrg, Name: name, Scopes: scopes,
			Region: o.Region, Org: o.ID, Limits: limits})
		if err != nil {
			return err
		}
		if k, err = s.creds.APIKeyByID(ctx, tx, id); err != nil {
			return err
		}
		secret = key
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "org.key_create", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"key": id, "name": name, "scopes": scopes,
				"daily_quota": limits.PerDay, "rate_per_minute": limits.PerMinute}})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return &Key{APIKeyInfo: *k}, secret, nil
}

// Keys lists an organisation's keys, revoked ones too, with today's use.
func (s *Service) Keys(ctx context.Context, by *auth.Principal, orgID string) ([]*Key, error) {
	o, err := s.manager(ctx, by, orgID, false)
	if err != nil {
		return nil, err
	}
	ks, err := s.creds.OrgKeys(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	used, err := s.usedToday(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := make([]*Key, len(ks))
	for i, k := range ks {
		out[i] = &Key{APIKeyInfo: *k, UsedToday: used[k.ID]}
	}
	return out, nil
}

// key returns an organisation's key by id, in the caller's transaction.
func (s *Service) key(ctx context.Context, q db.Querier, o *Org, id string) (*auth.APIKeyInfo, error) {
	k, err := s.creds.APIKeyByID(ctx, q, id)
	if errors.Is(err, auth.ErrKeyNotFound) || (err == nil && k.Org != o.ID) {
		return nil, ErrKeyNotFound
	}
	return k, err
}

// RotateKey gives a key a new secret (returned once); the old one stops at
// once on this node and within the auth cache time on the others. Scopes,
// limits and the day's use stay with the key; audited.
func (s *Service) RotateKey(ctx context.Context, by *auth.Principal, orgID, keyID string) (*Key, string, error) {
	o, err := s.manager(ctx, by, orgID, false)
	if err != nil {
		return nil, "", err
	}
	var k *auth.APIKeyInfo
	var secret string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if k, err = s.key(ctx, tx, o, keyID); err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			return ErrKeyNotFound.Withf("the key %s is revoked; make a new one", keyID)
		}
		if secret, err = s.creds.RotateAPIKey(ctx, tx, k.ID); err != nil {
			return err
		}
		if k, err = s.creds.APIKeyByID(ctx, tx, k.ID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "org.key_rotate", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"key": k.ID}})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return &Key{APIKeyInfo: *k}, secret, nil
}

// RevokeKey stops a key for good (a second revocation changes nothing);
// audited.
func (s *Service) RevokeKey(ctx context.Context, by *auth.Principal, orgID, keyID string) (*Key, error) {
	o, err := s.manager(ctx, by, orgID, false)
	if err != nil {
		return nil, err
	}
	var k *auth.APIKeyInfo
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if k, err = s.key(ctx, tx, o, keyID); err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			return nil
		}
		if err := s.creds.RevokeAPIKey(ctx, tx, k.ID); err != nil {
			return err
		}
		if k, err = s.creds.APIKeyByID(ctx, tx, k.ID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "org.key_revoke", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"key": k.ID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Key{APIKeyInfo: *k}, nil
}
