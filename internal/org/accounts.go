package org

import (
	"context"
	"errors"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// AccountInput makes a unit account.
type AccountInput struct {
	Username    string
	DisplayName string
	Password    string
	Admin       bool // may also manage the organisation's keys
}

// CreateAccount adds a unit account to an organisation; only operators
// may. Audited.
func (s *Service) CreateAccount(ctx context.Context, by *auth.Principal, orgID string, in AccountInput) (*auth.UnitAccount, error) {
	o, err := s.manager(ctx, by, orgID, true)
	if err != nil {
		return nil, err
	}
	var u *auth.UnitAccount
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		u, err = s.creds.CreateUnitAccount(ctx, tx, by, auth.NewUnitAccount{Org: o.ID, Region: o.Region, Username: in.Username,
			DisplayName: in.DisplayName, Password: in.Password, Admin: in.Admin})
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "org.account_create", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"account": u.ID, "username": u.Username, "admin": u.Admin}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Accounts lists an organisation's unit accounts, for operators and for
// its admin account.
func (s *Service) Accounts(ctx context.Context, by *auth.Principal, orgID string) ([]*auth.UnitAccount, error) {
	o, err := s.manager(ctx, by, orgID, false)
	if err != nil {
		return nil, err
	}
	return s.creds.UnitAccounts(ctx, o.ID)
}

// SetAccountDisabled disables an account (its sessions end) or enables it
// again; only operators may. Audited.
func (s *Service) SetAccountDisabled(ctx context.Context, by *auth.Principal, orgID, accountID string, disabled bool) (*auth.UnitAccount, error) {
	o, err := s.manager(ctx, by, orgID, true)
	if err != nil {
		return nil, err
	}
	u, err := s.creds.UnitAccount(ctx, accountID)
	if errors.Is(err, auth.ErrUnitNotFound) || (err == nil && u.Org != o.ID) {
		return nil, ErrAccountNotFound
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled == disabled {
		return u, nil
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if err := s.creds.SetUnitDisabled(ctx, tx, u.ID, disabled); err != nil {
			return err
		}
		action := "org.account_enable"
		if disabled {
			action = "org.account_disable"
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: action, Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"account": u.ID, "username": u.Username}})
		return err
	})
	if err != nil {
		return nil, err
	}
	u.Disabled = disabled
	return u, nil
}
