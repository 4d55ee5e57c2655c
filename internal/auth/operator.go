package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/ids"
)

// OperatorInfo is an operator as the console shows it.
type OperatorInfo struct {
	ID          string
	Username    string
	DisplayName string
	Role        Role
	Region      string
	Disabled    bool
	CreatedAt   time.Time
	hash        string
}

func (o *OperatorInfo) principal() *Principal {
	return &Principal{Kind: Operator, ID: o.ID, Name: o.Username, Role: o.Role, Region: o.Region}
}

const operatorCols = `id, username, display_name, password_hash, role, region_code, disabled, created_at`

func scanOperator(row interface{ Scan(...any) error }) (*OperatorInfo, error) {
	var o OperatorInfo
	var at int64
	var role string
	if err := row.Scan(&o.ID, &o.Username, &o.DisplayName, &o.hash, &role, &o.Region, &o.Disabled, &at); err != nil {
		return nil, err
	}
	o.Role, o.CreatedAt = Role(role), db.Time(at)
	return &o, nil
}

func (s *Service) operatorByID(ctx context.Context, id string) (*OperatorInfo, error) {
	o, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find operator: %w", err)
	}
	return o, nil
}

// OperatorLogin checks a password and opens an operator session. Repeated
// failures lock the username on this node for 15 minutes.
func (s *Service) OperatorLogin(ctx context.Context, username, password string) (string, *OperatorInfo, error) {
	token, o, err := s.operatorLogin(ctx, username, password)
	s.metrics.login(Operator, err)
	return token, o, err
}

func (s *Service) operatorLogin(ctx context.Context, username, password string) (string, *OperatorInfo, error) {
	if s.locked(username) {
		return "", nil, ErrLoginLocked
	}
	o, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE username = $1`, username))
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check, so timing does not reveal
		// which usernames exist.
		CheckPassword(dummyHash, password)
		s.fail(Operator, username)
		return "", nil, ErrLoginFailed
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: find operator: %w", err)
	}
	ok, err := CheckPassword(o.hash, password)
	if err != nil {
		return "", nil, fmt.Errorf("auth: operator %s: %w", o.ID, err)
	}
	if !ok {
		s.fail(Operator, username)
		return "", nil, ErrLoginFailed
	}
	if o.Disabled {
		return "", nil, ErrOperatorDisabled
	}
	var token string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if token, _, err = s.newSession(ctx, tx, Operator, o.ID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "operator:" + o.ID, Action: "operator.login",
			Subject: "operator:" + o.ID, Region: o.Region})
		return err
	})
	if err != nil {
		return "", nil, err
	}
	s.failMu.Lock()
	delete(s.failures, username)
	s.failMu.Unlock()
	return token, o, nil
}

var dummyHash = HashPassword("timing equaliser")

func (s *Service) locked(username string) bool {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	cut := s.now().Add(-15 * time.Minute)
	recent := s.failures[username][:0]
	for _, t := range s.failures[username] {
		if t.After(cut) {
			recent = append(recent, t)
		}
	}
	s.failures[username] = recent
	return len(recent) >= s.cfg.LoginFailures
}

// fail remembers a failed password for username (a key of kind's
// namespace), and counts the failure that locks it.
func (s *Service) fail(kind Kind, username string) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if len(s.failures) > 100_000 { // a spray of usernames must not grow memory without bound
		clear(s.failures)
	}
	s.failures[username] = append(s.failures[username], s.now())
	if len(s.failures[username]) == s.cfg.LoginFailures {
		s.metrics.lockouts[kind].Inc()
	}
}

// NewOperator is the input for creating an operator.
type NewOperator struct {
	Username    string
	DisplayName string
	Password    string
	Role        string
	Region      string
}

// maxPassword bounds what is hashed: a passphrase, not a file.
const maxPassword = 256

func (n *NewOperator) validate(regions RegionValidator) (Role, error) {
	if err := n.checkCredentials(); err != nil {
		return "", err
	}
	role, err := ParseRole(n.Role)
	if err != nil {
		return "", err
	}
	if n.Region != "" {
		if err := regions.Validate(n.Region); err != nil {
			return "", err
		}
	}
	return role, nil
}

func validUsername(u string) bool {
	if len(u) < 3 || len(u) > 32 {
		return false
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) {
			return false
		}
	}
	return true
}

// CreateOperator adds an operator within the creator's scope.
func (s *Service) CreateOperator(ctx context.Context, by *Principal, n NewOperator) (*OperatorInfo, error) {
	if err := by.Require(OperatorWrite); err != nil {
		return nil, err
	}
	if n.Region == "" {
		n.Region = by.Region
	}
	role, err := n.validate(s.regions)
	if err != nil {
		return nil, err
	}
	if !by.InScope(n.Region) {
		return nil, ErrOutOfScope.Withf("region %s is outside your scope %s", n.Region, by.Region)
	}
	var out *OperatorInfo
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		out, err = s.insertOperator(ctx, tx, n, role, by.Actor())
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "operator.create",
			Subject: "operator:" + out.ID, Region: out.Region, Detail: map[string]any{"username": out.Username, "role": string(role)}})
		return err
	})
	return out, err
}

func (s *Service) insertOperator(ctx context.Context, tx db.Tx, n NewOperator, role Role, by string) (*OperatorInfo, error) {
	o := &OperatorInfo{ID: ids.New(), Username: n.Username, DisplayName: n.DisplayName, Role: role, Region: n.Region,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	_, err := tx.ExecContext(ctx, `INSERT INTO operators (`+operatorCols+`, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		o.ID, o.Username, o.DisplayName, HashPassword(n.Password), string(role), o.Region, false, o.CreatedAt.UnixMilli(), by)
	if db.IsUniqueViolation(err) {
		return nil, ErrUsernameTaken.Withf("username %q is taken", n.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create operator: %w", err)
	}
	return o, nil
}

// EnsureAdmin creates the first operator, "admin", scoped to region, if no
// operator exists. The password is the given one, or a generated one that is
// returned so the caller can print it once.
func (s *Service) EnsureAdmin(ctx context.Context, region, password string) (created bool, generated string, err error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM operators`).Scan(&n); err != nil {
		return false, "", fmt.Errorf("auth: count operators: %w", err)
	}
	if n > 0 {
		return false, "", nil
	}
	if password == "" {
		password = GeneratePassword()
		generated = password
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		o, err := s.insertOperator(ctx, tx, NewOperator{Username: "admin", DisplayName: "管理员", Password: password, Region: region}, Admin, "system")
		if errors.Is(err, ErrUsernameTaken) {
			return nil // another node created it first
		}
		if err != nil {
			return err
		}
		created = true
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "system", Action: "operator.create",
			Subject: "operator:" + o.ID, Region: region, Detail: map[string]any{"username": "admin", "role": "admin"}})
		return err
	})
	if !created {
		generated = ""
	}
	return created, generated, err
}

// SetPassword replaces an operator's password and ends their sessions, so
// a reset locks out whoever knew the old one (the demo resets its operators'
// passwords at each start; `healthcode operators` uses it too).
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	return s.db.InTx(ctx, func(tx db.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE operators SET password_hash = $1 WHERE username = $2 RETURNING id`,
			HashPassword(password), username).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOperatorNotFound.Withf("no operator %q", username)
		}
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE kind = $1 AND subject = $2`, string(Operator), id); err != nil {
			return fmt.Errorf("auth: end sessions: %w", err)
		}
		s.cache.Range(func(k, v any) bool {
			if c := v.(*cached); c.p.Kind == Operator && c.p.ID == id {
				s.cache.Delete(k)
			}
			return true
		})
		return nil
	})
}

// Operators lists the operators within the reader's scope, for a role that
// manages operators or assigns follow-up tasks to them.
func (s *Service) Operators(ctx context.Context, by *Principal) ([]OperatorInfo, error) {
	if !by.Can(TaskWrite) {
		if err := by.Require(OperatorWrite); err != nil {
			return nil, err
		}
	}
	lo, hi := by.Bounds()
	scope, args := db.Scope("region_code", lo, hi, nil)
	var out []OperatorInfo
	err := db.Each(ctx, s.db, `SELECT `+operatorCols+` FROM operators WHERE `+scope+` ORDER BY region_code, username`, args,
		func(sc db.Scanner) error {
			o, err := scanOperator(sc)
			if err != nil {
				return err
			}
			out = append(out, *o)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("auth: list operators: %w", err)
	}
	return out, nil
}
