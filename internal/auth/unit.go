package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// Unit is the kind of a unit account (单位账号): a person of an
// organisation (a pharmacy, a hospital ...) signed in to its pages. Its
// principal carries the organisation in Org and a unit role in Role, which
// grants no operator permission.
const Unit Kind = "unit"

// Unit roles: an admin account may also manage its organisation's keys.
const (
	UnitAdmin Role = "unit_admin"
	UnitStaff Role = "unit_staff"
)

// UnitAccount is a unit account as its managers see it.
type UnitAccount struct {
	ID          string
	Org         string
	Username    string
	DisplayName string
	Admin       bool
	Region      string // the organisation's
	Disabled    bool
	CreatedAt   time.Time
	hash        string
}

func (u *UnitAccount) principal() *Principal {
	role := UnitStaff
	if u.Admin {
		role = UnitAdmin
	}
	return &Principal{Kind: Unit, ID: u.ID, Name: u.Username, Role: role, Region: u.Region, Org: u.Org}
}

const unitCols = `id, org_id, username, display_name, password_hash, admin, region_code, disabled, created_at`

func scanUnit(row interface{ Scan(...any) error }) (*UnitAccount, error) {
	var u UnitAccount
	var at int64
	if err := row.Scan(&u.ID, &u.Org, &u.Username, &u.DisplayName, &u.hash, &u.Admin, &u.Region, &u.Disabled, &at); err != nil {
		return nil, err
	}
	u.CreatedAt = db.Time(at)
	return &u, nil
}

// ErrUnitNotFound is a unit account that does not exist.
var ErrUnitNotFound = apierr.NotFound("unit_account_not_found", "no such unit account")

func (s *Service) unitByID(ctx context.Context, id string) (*UnitAccount, error) {
	u, err := scanUnit(s.db.QueryRowContext(ctx, `SELECT `+unitCols+` FROM unit_accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find unit account: %w", err)
	}
	return u, nil
}

// NewUnitAccount is the input for a unit account. Org and Region are the
// organisation's, filled in by the organisation service.
type NewUnitAccount struct {
	Org         string
	Region      string
	Username    string
	DisplayName string
	Password    string
	Admin       bool
}

// CreateUnitAccount stores a unit account in the caller's transaction. The
// organisation service decides who may; this checks the input.
func (s *Service) CreateUnitAccount(ctx context.Context, tx db.Tx, by *Principal, n NewUnitAccount) (*UnitAccount, error) {
	op := NewOperator{Username: n.Username, DisplayName: n.DisplayName, Password: n.Password}
	if err := op.checkCredentials(); err != nil {
		return nil, err
	}
	u := &UnitAccount{ID: ids.New(), Org: n.Org, Username: op.Username, DisplayName: op.DisplayName, Admin: n.Admin,
		Region: n.Region, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	_, err := tx.ExecContext(ctx, `INSERT INTO unit_accounts (`+unitCols+`, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.Org, u.Username, u.DisplayName, HashPassword(n.Password), u.Admin, u.Region, false, u.CreatedAt.UnixMilli(), by.Actor())
	if db.IsUniqueViolation(err) {
		return nil, ErrUsernameTaken.Withf("username %q is taken", n.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create unit account: %w", err)
	}
	return u, nil
}

// UnitAccounts lists an organisation's accounts by username. The
// organisation service decides who may read them.
func (s *Service) UnitAccounts(ctx context.Context, org string) ([]*UnitAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+unitCols+` FROM unit_accounts WHERE org_id = $1 ORDER BY username`, org)
	if err != nil {
		return nil, fmt.Errorf("auth: list unit accounts: %w", err)
	}
	defer rows.Close()
	var out []*UnitAccount
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: list unit accounts: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UnitAccount returns one account (for the organisation service's checks).
func (s *Service) UnitAccount(ctx context.Context, id string) (*UnitAccount, error) {
	u, err := scanUnit(s.db.QueryRowContext(ctx, `SELECT `+unitCols+` FROM unit_accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnitNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find unit account: %w", err)
	}
	return u, nil
}

// SetUnitDisabled enables or disables an account in the caller's
// transaction; disabling ends its sessions at once on this node and within
// CacheTTL on the others.
func (s *Service) SetUnitDisabled(ctx context.Context, tx db.Tx, id string, disabled bool) error {
	res, err := tx.ExecContext(ctx, `UPDATE unit_accounts SET disabled = $1 WHERE id = $2`, disabled, id)
	if err != nil {
		return fmt.Errorf("auth: update unit account: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("auth: update unit account: %w", err)
	} else if n == 0 {
		return ErrUnitNotFound
	}
	if disabled {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = $1 AND subject = $2`, string(Unit), id); err != nil {
			return fmt.Errorf("auth: end unit sessions: %w", err)
		}
		s.forget(Unit, id)
	}
	return nil
}

// UnitLogin checks a unit account's password and opens a session, with the
// operators' lock after repeated failures.
func (s *Service) UnitLogin(ctx context.Context, username, password string) (string, *UnitAccount, error) {
	token, u, err := s.unitLogin(ctx, username, password)
	s.metrics.login(Unit, err)
	return token, u, err
}

func (s *Service) unitLogin(ctx context.Context, username, password string) (string, *UnitAccount, error) {
	lock := "unit:" + username
	if wait, err := s.lockedFor(ctx, lock); err != nil {
		return "", nil, err
	} else if wait > 0 {
		return "", nil, ErrLoginLocked.Withf("too many failed logins for this user; try again in %s", minutes(wait))
	}
	u, err := scanUnit(s.db.QueryRowContext(ctx, `SELECT `+unitCols+` FROM unit_accounts WHERE username = $1`, username))
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return "", nil, s.failed(ctx, Unit, lock)
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: find unit account: %w", err)
	}
	ok, err := CheckPassword(u.hash, password)
	if err != nil {
		return "", nil, fmt.Errorf("auth: unit account %s: %w", u.ID, err)
	}
	if !ok {
		return "", nil, s.failed(ctx, Unit, lock)
	}
	if u.Disabled {
		return "", nil, ErrUnitDisabled
	}
	var token string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if token, _, err = s.newSession(ctx, tx, Unit, u.ID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: string(Unit) + ":" + u.ID, Action: "unit.login",
			Subject: "org:" + u.Org, Region: u.Region})
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if err := s.succeeded(ctx, lock); err != nil {
		return "", nil, err
	}
	return token, u, nil
}

// SetUnitPassword replaces a unit account's password and ends its sessions
// (the demo gives its unit accounts fresh passwords at each start).
func (s *Service) SetUnitPassword(ctx context.Context, username, password string) error {
	if len(password) > maxPassword || utf8.RuneCountInString(password) < 10 {
		return ErrPasswordInvalid.Withf("a password has 10 to %d characters", maxPassword)
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE unit_accounts SET password_hash = $1 WHERE username = $2 RETURNING id`,
			HashPassword(password), username).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnitNotFound.Withf("no unit account %q", username)
		}
		if err != nil {
			return fmt.Errorf("auth: set unit password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = $1 AND subject = $2`, string(Unit), id); err != nil {
			return fmt.Errorf("auth: end unit sessions: %w", err)
		}
		s.forget(Unit, id)
		return nil
	})
}

// checkCredentials checks a username, display name and password as for an
// operator (the same rules for everyone who signs in with a password).
func (n *NewOperator) checkCredentials() error {
	if !validUsername(n.Username) {
		return ErrUsernameInvalid
	}
	if utf8.RuneCountInString(n.Password) < 10 {
		return ErrPasswordTooShort
	}
	if len(n.Password) > maxPassword {
		return ErrPasswordTooLong.Withf("password must be at most %d bytes", maxPassword)
	}
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	if n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	if utf8.RuneCountInString(n.DisplayName) > 64 {
		return ErrDisplayNameTooLong
	}
	return nil
}
