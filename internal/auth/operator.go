package auth

import (
	"context"
	"database/sql"
	"encoding/hex"
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
	TOTP        bool // a second factor is enrolled and asked for at login
	CreatedAt   time.Time
	hash        string
}

func (o *OperatorInfo) principal() *Principal {
	return &Principal{Kind: Operator, ID: o.ID, Name: o.Username, Role: o.Role, Region: o.Region}
}

const operatorCols = `id, username, display_name, password_hash, role, region_code, disabled, created_at`

// operatorReadCols are what scanOperator reads.
const operatorReadCols = operatorCols + `, totp_on`

func scanOperator(row interface{ Scan(...any) error }) (*OperatorInfo, error) {
	var o OperatorInfo
	var at int64
	var role string
	if err := row.Scan(&o.ID, &o.Username, &o.DisplayName, &o.hash, &role, &o.Region, &o.Disabled, &at, &o.TOTP); err != nil {
		return nil, err
	}
	o.Role, o.CreatedAt = Role(role), db.Time(at)
	return &o, nil
}

func (s *Service) operatorByID(ctx context.Context, id string) (*OperatorInfo, error) {
	o, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorReadCols+` FROM operators WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("auth: find operator: %w", err)
	}
	return o, nil
}

// OperatorCredentials are what an operator logs in with.
type OperatorCredentials struct {
	Username, Password string
	// TOTP is the second factor's current code, for an operator who has
	// enrolled one.
	TOTP string
	// Addr is the client address (see clientaddr); "" for the platform's
	// own callers, which is never a known address.
	Addr string
}

// OperatorLogin checks a password and opens an operator session, for the
// platform's own callers (no client address, no second factor).
func (s *Service) OperatorLogin(ctx context.Context, username, password string) (string, *OperatorInfo, error) {
	return s.OperatorLoginWith(ctx, OperatorCredentials{Username: username, Password: password})
}

// OperatorLoginWith checks an operator's password (and second factor, when
// enrolled) and opens a session. Repeated failures back off, per username
// and per client address, across nodes (login_backoff): a locked username
// still takes the right password from an address the operator logged in
// from before, so that someone guessing elsewhere cannot lock them out.
func (s *Service) OperatorLoginWith(ctx context.Context, c OperatorCredentials) (string, *OperatorInfo, error) {
	token, o, err := s.operatorLogin(ctx, c)
	s.metrics.login(Operator, err)
	return token, o, err
}

func (s *Service) operatorLogin(ctx context.Context, c OperatorCredentials) (string, *OperatorInfo, error) {
	userKey := "user:" + c.Username
	var addrHash []byte
	keys := []string{userKey}
	if c.Addr != "" {
		addrHash = s.keys.BlindIndex("client-addr", c.Addr)
		keys = append(keys, "addr:"+hex.EncodeToString(addrHash[:16]))
		if wait, err := s.lockedFor(ctx, keys[1]); err != nil {
			return "", nil, err
		} else if wait > 0 {
			return "", nil, ErrLoginLocked.Withf("too many failed logins from your network address; try again in %s", minutes(wait))
		}
	}
	o, err := scanOperator(s.db.QueryRowContext(ctx, `SELECT `+operatorReadCols+` FROM operators WHERE username = $1`, c.Username))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("auth: find operator: %w", err)
	}
	wait, err := s.lockedFor(ctx, userKey)
	if err != nil {
		return "", nil, err
	}
	if wait > 0 {
		known := false
		if o != nil && addrHash != nil {
			if known, err = s.knownAddress(ctx, o.ID, addrHash); err != nil {
				return "", nil, err
			}
		}
		if !known {
			return "", nil, ErrLoginLocked.Withf("too many failed logins for this user; try again in %s", minutes(wait))
		}
	}
	if o == nil {
		// Spend the same time as a real check, so timing does not reveal
		// which usernames exist.
		CheckPassword(dummyHash, c.Password)
		return "", nil, s.failed(ctx, Operator, keys...)
	}
	if o.TOTP && c.TOTP == "" {
		// Asked before the password is checked, so that the answer does
		// not tell whether the password was right.
		return "", nil, ErrTOTPRequired
	}
	ok, err := CheckPassword(o.hash, c.Password)
	if err != nil {
		return "", nil, fmt.Errorf("auth: operator %s: %w", o.ID, err)
	}
	var step int64
	if ok && o.TOTP {
		if step, err = s.checkTOTP(ctx, o.ID, c.TOTP); err != nil {
			return "", nil, err
		}
		ok = step >= 0
	}
	if !ok {
		// A wrong password and a wrong code are one answer: telling them
		// apart would confirm a guessed password.
		if err := s.failed(ctx, Operator, keys...); !errors.Is(err, ErrLoginFailed) || !o.TOTP {
			return "", nil, err
		}
		return "", nil, ErrLoginFailed.Withf("wrong username, password or authenticator code")
	}
	if o.Disabled {
		return "", nil, ErrOperatorDisabled
	}
	var token string
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if step > 0 {
			// A code is good once, on every node: the first login to
			// move the step on wins.
			res, err := tx.ExecContext(ctx, `UPDATE operators SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, o.ID)
			if err != nil {
				return fmt.Errorf("auth: use TOTP code: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrLoginFailed.Withf("wrong username, password or authenticator code")
			}
		}
		var err error
		if token, _, err = s.newSession(ctx, tx, Operator, o.ID); err != nil {
			return err
		}
		if addrHash != nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO operator_addresses (operator_id, addr_hash, last_at) VALUES ($1, $2, $3)
				ON CONFLICT (operator_id, addr_hash) DO UPDATE SET last_at = excluded.last_at`, o.ID, addrHash, s.now().UnixMilli())
			if err != nil {
				return fmt.Errorf("auth: remember the address: %w", err)
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "operator:" + o.ID, Action: "operator.login",
			Subject: "operator:" + o.ID, Region: o.Region, Detail: map[string]any{"second_factor": o.TOTP}})
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if err := s.succeeded(ctx, keys...); err != nil {
		return "", nil, err
	}
	return token, o, nil
}

var dummyHash = HashPassword("timing equaliser")

func (s *Service) knownAddress(ctx context.Context, operatorID string, addrHash []byte) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM operator_addresses WHERE operator_id = $1 AND addr_hash = $2`,
		operatorID, addrHash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("auth: known addresses: %w", err)
	}
	return n > 0, nil
}

func minutes(d time.Duration) string {
	return fmt.Sprintf("%d minutes", int(d.Minutes())+1)
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
// passwords at each start).
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
		return s.endOperatorSessions(ctx, tx, id)
	})
}

func (s *Service) endOperatorSessions(ctx context.Context, tx db.Tx, id string) error {
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
}

// ResetTOTP turns off a colleague's second factor (a lost phone) and ends
// their sessions: at the next login they sign in with the password and, where
// administrators must have one, enrol a new factor before anything else. An
// operator cannot reset their own: whoever holds a stolen session would
// otherwise remove the factor that guards the next login.
func (s *Service) ResetTOTP(ctx context.Context, by *Principal, operatorID string) (*OperatorInfo, error) {
	if err := by.Require(OperatorWrite); err != nil {
		return nil, err
	}
	if operatorID == by.ID {
		return nil, ErrTOTPResetSelf
	}
	var out *OperatorInfo
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		o, err := scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorReadCols+` FROM operators WHERE id = $1`, operatorID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOperatorNotFound.Withf("no operator %q", operatorID)
		}
		if err != nil {
			return fmt.Errorf("auth: find operator: %w", err)
		}
		// Out of scope reads as absent: a town admin learns nothing of the
		// province's operators.
		if !by.InScope(o.Region) {
			return ErrOperatorNotFound.Withf("no operator %q", operatorID)
		}
		if !o.TOTP {
			return ErrTOTPNotOn.Withf("%s has no second factor to reset", o.Username)
		}
		if err := s.clearTOTP(ctx, tx, o.ID); err != nil {
			return err
		}
		o.TOTP, out = false, o
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "operator.totp_reset",
			Subject: "operator:" + o.ID, Region: o.Region, Detail: map[string]any{"username": o.Username}})
		return err
	})
	return out, err
}

func (s *Service) clearTOTP(ctx context.Context, tx db.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE operators SET totp_on = FALSE, totp_secret = NULL, totp_last_step = 0 WHERE id = $1`, id); err != nil {
		return fmt.Errorf("auth: turn TOTP off: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM operator_totp_pending WHERE operator_id = $1`, id); err != nil {
		return fmt.Errorf("auth: drop pending TOTP: %w", err)
	}
	return s.endOperatorSessions(ctx, tx, id)
}

// RecoverOperator is the way back in for an operator no colleague can help
// (the only administrator forgot the password or lost the phone): a new
// generated password, returned to be shown once, the second factor turned
// off when resetTOTP, every session ended. Only `healthcode operators
// recover` calls it, on the server with the database and master key, which
// already give everything; the audit log records it all the same.
func (s *Service) RecoverOperator(ctx context.Context, username string, resetTOTP bool) (string, error) {
	password := GeneratePassword()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var id, region string
		err := tx.QueryRowContext(ctx, `UPDATE operators SET password_hash = $1 WHERE username = $2 RETURNING id, region_code`,
			HashPassword(password), username).Scan(&id, &region)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOperatorNotFound.Withf("no operator %q", username)
		}
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		if resetTOTP {
			err = s.clearTOTP(ctx, tx, id)
		} else {
			err = s.endOperatorSessions(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "system:cli", Action: "operator.recover",
			Subject: "operator:" + id, Region: region, Detail: map[string]any{"username": username, "totp_reset": resetTOTP}})
		return err
	})
	if err != nil {
		return "", err
	}
	return password, nil
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
	err := db.Each(ctx, s.db, `SELECT `+operatorReadCols+` FROM operators WHERE `+scope+` ORDER BY region_code, username`, args,
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
