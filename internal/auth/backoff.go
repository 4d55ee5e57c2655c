package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
)

// Backoff of password logins: LoginFailures failures lock a key for 15
// minutes, each further failure doubles the lock, up to a day. A quiet day
// or a success starts the count afresh.
const (
	firstLock = 15 * time.Minute
	maxLock   = 24 * time.Hour
	quietDay  = 24 * time.Hour
)

func (s *Service) lockAfter(failures int64) time.Duration {
	over := failures - int64(s.cfg.LoginFailures)
	if over < 0 {
		return 0
	}
	d := firstLock
	for ; over > 0 && d < maxLock; over-- {
		d *= 2
	}
	return min(d, maxLock)
}

// lockedFor is how long key stays locked (0: it is not).
func (s *Service) lockedFor(ctx context.Context, key string) (time.Duration, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, `SELECT until_at FROM login_backoff WHERE key = $1`, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("auth: read login backoff: %w", err)
	}
	return max(0, time.UnixMilli(until).Sub(s.now())), nil
}

// failed counts a failed login against each key, locks those past the
// limit, and returns ErrLoginFailed (or the database's error). The count
// is one upsert per key, so that concurrent failures on several nodes all
// count.
func (s *Service) failed(ctx context.Context, kind Kind, keys ...string) error {
	now := s.now()
	locked := false
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		for i, key := range keys {
			var n int64
			err := tx.QueryRowContext(ctx, `INSERT INTO login_backoff (key, failures, until_at, last_at) VALUES ($1, 1, 0, $2)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN login_backoff.last_at < $3 THEN 1 ELSE login_backoff.failures + 1 END, last_at = $2
				RETURNING failures`, key, now.UnixMilli(), now.Add(-quietDay).UnixMilli()).Scan(&n)
			if err != nil {
				return fmt.Errorf("auth: count failed login: %w", err)
			}
			lock := s.lockAfter(n)
			if lock == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE login_backoff SET until_at = $1 WHERE key = $2`, now.Add(lock).UnixMilli(), key); err != nil {
				return fmt.Errorf("auth: lock login: %w", err)
			}
			locked = locked || (i == 0 && n == int64(s.cfg.LoginFailures)) // the account's key, locked now
		}
		return nil
	})
	if err != nil {
		return err
	}
	if locked {
		s.metrics.lockouts[kind].Inc()
	}
	return ErrLoginFailed
}

// succeeded clears the keys' failures.
func (s *Service) succeeded(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM login_backoff WHERE key = $1`, key); err != nil {
			return fmt.Errorf("auth: clear login backoff: %w", err)
		}
	}
	return nil
}

// checkTOTP returns the step of an operator's code, or -1 when it is wrong
// or used.
func (s *Service) checkTOTP(ctx context.Context, operatorID, code string) (int64, error) {
	var sealed []byte
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT totp_secret, totp_last_step FROM operators WHERE id = $1`, operatorID).Scan(&sealed, &last)
	if err != nil {
		return 0, fmt.Errorf("auth: read TOTP: %w", err)
	}
	secret, err := s.keys.Open(sealed, []byte("operators.totp:"+operatorID))
	if err != nil {
		return 0, fmt.Errorf("auth: open TOTP secret of %s: %w", operatorID, err)
	}
	return totpMatch(secret, code, s.now(), last), nil
}

// TOTPEnrolment is a second factor being enrolled: the secret, shown once
// (the QR code of URI, or Secret typed into the app), then confirmed by a
// code.
type TOTPEnrolment struct {
	Secret string // base32, as authenticator apps take it typed in
	URI    string // otpauth://totp/...
}

// BeginTOTP makes a new TOTP secret for the calling operator and keeps it
// until a code confirms it; the operator's current factor, if any, stays
// in force until then. The secret is shown now and never again.
func (s *Service) BeginTOTP(ctx context.Context, by *Principal) (*TOTPEnrolment, error) {
	if by == nil || by.Kind != Operator {
		return nil, ErrOperatorOnly
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO operator_totp_pending (operator_id, secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (operator_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
			by.ID, s.keys.Seal(secret, []byte("operators.totp_pending:"+by.ID)), s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("auth: keep TOTP secret: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: b32.EncodeToString(secret), URI: totpURI(s.totpIssuer(), by.Name, secret)}, nil
}

func (s *Service) totpIssuer() string { return "healthcode " + s.cfg.Region }

// ConfirmTOTP turns the secret BeginTOTP made on, if code is its current
// code: from then on the operator's logins ask for it.
func (s *Service) ConfirmTOTP(ctx context.Context, by *Principal, code string) error {
	if by == nil || by.Kind != Operator {
		return ErrOperatorOnly
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT secret FROM operator_totp_pending WHERE operator_id = $1`, by.ID).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTOTPNotPending
		}
		if err != nil {
			return fmt.Errorf("auth: read TOTP secret: %w", err)
		}
		secret, err := s.keys.Open(sealed, []byte("operators.totp_pending:"+by.ID))
		if err != nil {
			return fmt.Errorf("auth: open TOTP secret: %w", err)
		}
		step := totpMatch(secret, code, s.now(), 0)
		if step < 0 {
			return ErrTOTPWrong.Withf("the code does not match the new secret; check the phone's clock and try the current code")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET totp_secret = $1, totp_on = TRUE, totp_last_step = $2 WHERE id = $3`,
			s.keys.Seal(secret, []byte("operators.totp:"+by.ID)), step, by.ID); err != nil {
			return fmt.Errorf("auth: turn TOTP on: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM operator_totp_pending WHERE operator_id = $1`, by.ID); err != nil {
			return fmt.Errorf("auth: drop TOTP secret: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "operator.totp_on",
			Subject: "operator:" + by.ID, Region: by.Region})
		return err
	})
	if err != nil {
		return err
	}
	s.forget(Operator, by.ID) // a principal that had to enrol may act now
	return nil
}

// Self is the calling operator's own account (the second-factor page).
func (s *Service) Self(ctx context.Context, by *Principal) (*OperatorInfo, error) {
	if by == nil || by.Kind != Operator {
		return nil, ErrOperatorOnly
	}
	return s.operatorByID(ctx, by.ID)
}
