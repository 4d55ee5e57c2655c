package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/sms"
)

// SendOTP sends a six-digit one-time code to a normalised mobile number,
// within the per-phone, global and budget limits, in the deployment's SMS
// language. It is the platform's own door (tests, imports): a request from
// a client goes through SendOTPFrom.
func (s *Service) SendOTP(ctx context.Context, phone string) error {
	return s.SendOTPFrom(ctx, phone, "", "")
}

// SendOTPFrom is SendOTP asked from the client address addr (see
// clientaddr), which is limited too, with the text in lang ("zh-CN" or
// "en"), the language of the page the resident asked from. The code is
// queued for the SMS gateway; it is worth sending only while it is valid.
func (s *Service) SendOTPFrom(ctx context.Context, phone, lang, addr string) error {
	err := s.sendOTP(ctx, phone, lang, addr)
	s.metrics.otp(err)
	return err
}

func (s *Service) sendOTP(ctx context.Context, phone, lang, addr string) error {
	// Every door normalises first; a number that is not a mainland mobile
	// number is refused here too, since a text to it costs the same.
	if n, err := idnum.NormalizePhone(phone); err != nil {
		return err
	} else if n != phone {
		return idnum.ErrPhoneFormat.Withf("%s is not a normalised mobile number", idnum.MaskPhone(phone))
	}
	if err := sms.CheckLang(lang); err != nil {
		return err
	}
	code, err := sixDigits()
	if err != nil {
		return err
	}
	now := s.now()
	today := s.day(now)
	ph := s.keys.BlindIndex("phone", phone)
	var spent int64 // the day's budget used, with this code
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		// Creating or touching the phone's row first takes its lock, so
		// that concurrent requests check the limits one after another
		// (reading it unlocked let them all through at once on PostgreSQL).
		var sentAt, day, dayCount int64
		err := tx.QueryRowContext(ctx, `INSERT INTO otps (phone_hash, code_hash, expires_at, attempts, sent_at, day, day_count)
			VALUES ($1, $2, 0, 0, 0, 0, 0) ON CONFLICT (phone_hash) DO UPDATE SET day = otps.day
			RETURNING sent_at, day, day_count`, ph, []byte{}).Scan(&sentAt, &day, &dayCount)
		if err != nil {
			return fmt.Errorf("auth: read one-time code: %w", err)
		}
		if wait := time.UnixMilli(sentAt).Add(s.cfg.OTPInterval).Sub(now); s.cfg.OTPInterval > 0 && wait > 0 {
			return ErrOTPTooSoon.Withf("a code was sent less than %s ago; try again in %d s",
				s.cfg.OTPInterval, int(wait.Seconds())+1)
		}
		if day != today {
			dayCount = 0
		}
		if s.cfg.OTPPerDay > 0 && dayCount >= int64(s.cfg.OTPPerDay) {
			return ErrOTPDailyLimit.Withf("this phone has had %d codes today; try again tomorrow", dayCount)
		}
		if spent, err = s.otpLimits(ctx, tx, now, addr); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE otps SET code_hash = $1, expires_at = $2, attempts = 0, sent_at = $3, day = $4, day_count = $5
			WHERE phone_hash = $6`, s.otpHash(phone, code), now.Add(s.cfg.OTPTTL).UnixMilli(), now.UnixMilli(), today, dayCount+1, ph)
		if err != nil {
			return fmt.Errorf("auth: store one-time code: %w", err)
		}
		// The message is queued in the same transaction: a code is never
		// stored (using up the phone's limits) without its message.
		msg := sms.Message{To: phone, Purpose: sms.KindLoginCode, Region: s.cfg.Region, Lang: lang, TTL: s.cfg.OTPTTL,
			Vars: map[string]string{"code": code, "minutes": strconv.Itoa(int(s.cfg.OTPTTL.Minutes()))}}
		if err := s.sms.SendTx(ctx, tx, msg); err != nil {
			return fmt.Errorf("auth: queue one-time code: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.sms.Wake()
	s.budgetUsed(spent)
	return nil
}

// otpLimits counts a code against the limits shared by all phones, in the
// code's transaction: a refusal rolls the counts back with it. It returns
// the day's budget used with this code.
func (s *Service) otpLimits(ctx context.Context, tx db.Tx, now time.Time, addr string) (int64, error) {
	if addr != "" && s.cfg.OTPPerAddr > 0 {
		key := "addr:" + hex.EncodeToString(s.keys.BlindIndex("client-addr", addr)[:16])
		n, err := countIn(ctx, tx, key, window(now, time.Hour), now)
		if err != nil {
			return 0, err
		}
		if n > int64(s.cfg.OTPPerAddr) {
			return 0, ErrOTPAddrLimit.Withf("%d codes were asked from your network address in the last hour; try again later", s.cfg.OTPPerAddr)
		}
	}
	if s.cfg.OTPPerMinute > 0 {
		n, err := countIn(ctx, tx, "minute", window(now, time.Minute), now)
		if err != nil {
			return 0, err
		}
		if n > int64(s.cfg.OTPPerMinute) {
			return 0, ErrOTPBusy
		}
	}
	if s.cfg.SMSBudget <= 0 {
		return 0, nil
	}
	y, m, d := now.In(s.cfg.Location).Date()
	n, err := countIn(ctx, tx, "day", time.Date(y, m, d+1, 0, 0, 0, 0, s.cfg.Location), now)
	if err != nil {
		return 0, err
	}
	if n > int64(s.cfg.SMSBudget) {
		return 0, ErrSMSBudget
	}
	return n, nil
}

// window is the end of the aligned window of length d that holds now.
func window(now time.Time, d time.Duration) time.Time {
	return now.Truncate(d).Add(d)
}

// countIn adds one to the counter key in its window ending at end, starting
// it afresh when the stored window has passed, and returns the count. The
// upsert takes the row's lock, so concurrent codes count one after another.
func countIn(ctx context.Context, tx db.Tx, key string, end, now time.Time) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO otp_counters (key, until_at, n) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			n = CASE WHEN otp_counters.until_at > $3 THEN otp_counters.n + 1 ELSE 1 END,
			until_at = CASE WHEN otp_counters.until_at > $3 THEN otp_counters.until_at ELSE excluded.until_at END
		RETURNING n`, key, end.UnixMilli(), now.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("auth: count codes (%s): %w", strings.SplitN(key, ":", 2)[0], err)
	}
	return n, nil
}

// budgetUsed reports the day's budget used after a code was sent. The
// count is the database's, so exactly one code in the whole deployment
// crosses each threshold: the alert is raised once, by the node that sent it.
func (s *Service) budgetUsed(n int64) {
	if s.cfg.SMSBudget <= 0 || n == 0 {
		return
	}
	budget := int64(s.cfg.SMSBudget)
	s.metrics.budgetUsed.Set(float64(n) / float64(budget))
	switch n {
	case (budget*4 + 4) / 5: // 80 %, rounded up
		s.metrics.budgetAlerts[0].Inc()
		s.cfg.Log.Warn("SMS budget: 80% of the day's login-code messages sent", "sent", n, "budget", budget)
	case budget:
		s.metrics.budgetAlerts[1].Inc()
		s.cfg.Log.Error("SMS budget spent: login codes are refused until tomorrow (raise --sms-budget to go on)", "sent", n, "budget", budget)
	}
}

func sixDigits() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

func (s *Service) otpHash(phone, code string) []byte { return s.keys.BlindIndex("otp", phone+":"+code) }

// Login is a successful resident login.
type Login struct {
	Token     string
	ExpiresAt time.Time
	AccountID string
}

// Login exchanges a one-time code for a resident session. The code is single
// use; wrong guesses are counted and void the code after OTPAttempts.
func (s *Service) Login(ctx context.Context, phone, code string) (*Login, error) {
	l, err := s.login(ctx, phone, code)
	s.metrics.login(Resident, err)
	return l, err
}

func (s *Service) login(ctx context.Context, phone, code string) (*Login, error) {
	now := s.now()
	ph := s.keys.BlindIndex("phone", phone)
	var login *Login
	var refused error
	voided := false // this attempt is the first past the limit
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		// Every attempt is counted before the code is compared, in one
		// statement that takes the row's lock: concurrent guesses are counted
		// one after another (counting after an unlocked read let dozens of
		// them past the limit at once on PostgreSQL). The count is committed
		// whatever the outcome; the caller of a refused attempt gets an error.
		var stored []byte
		var exp, attempts int64
		err := tx.QueryRowContext(ctx, `UPDATE otps SET attempts = attempts + 1 WHERE phone_hash = $1
			RETURNING code_hash, expires_at, attempts`, ph).Scan(&stored, &exp, &attempts)
		switch {
		case errors.Is(err, sql.ErrNoRows), err == nil && len(stored) == 0:
			refused = ErrOTPInvalid
			return nil
		case err != nil:
			return fmt.Errorf("auth: count attempt: %w", err)
		case exp <= now.UnixMilli():
			refused = ErrOTPExpired
			return nil
		case attempts > int64(s.cfg.OTPAttempts):
			refused, voided = ErrOTPAttempts, attempts == int64(s.cfg.OTPAttempts)+1
			return nil
		}
		if subtle.ConstantTimeCompare(stored, s.otpHash(phone, code)) != 1 {
			refused = ErrOTPWrong.Withf("the code is wrong; %d attempts left", int64(s.cfg.OTPAttempts)-attempts)
			return nil
		}
		// Keep the row (it carries the day's send count) but void the code.
		if _, err := tx.ExecContext(ctx, `UPDATE otps SET code_hash = $1, expires_at = 0 WHERE phone_hash = $2`, []byte{}, ph); err != nil {
			return fmt.Errorf("auth: use one-time code: %w", err)
		}
		accountID, err := s.accountFor(ctx, tx, phone, ph)
		if err != nil {
			return err
		}
		token, exp2, err := s.newSession(ctx, tx, Resident, accountID)
		if err != nil {
			return err
		}
		login = &Login{Token: token, ExpiresAt: exp2, AccountID: accountID}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if voided {
		s.metrics.lockouts[Resident].Inc()
	}
	if refused != nil {
		return nil, refused
	}
	return login, nil
}

func (s *Service) accountFor(ctx context.Context, tx db.Tx, phone string, ph []byte) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE phone_hash = $1`, ph).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("auth: find account: %w", err)
	}
	id = ids.New()
	_, err = tx.ExecContext(ctx, `INSERT INTO accounts (id, phone_hash, phone_enc, created_at) VALUES ($1, $2, $3, $4)`,
		id, ph, s.keys.SealString(phone, "accounts.phone:"+id), s.now().UnixMilli())
	if err != nil {
		return "", fmt.Errorf("auth: create account: %w", err)
	}
	return id, nil
}

// EnsureAccount returns the account of a phone, creating it; for the demo
// and for imports, which register residents before their first login.
func (s *Service) EnsureAccount(ctx context.Context, phone string) (string, error) {
	var id string
	err := s.db.InTx(ctx, func(tx db.Tx) (err error) {
		id, err = s.accountFor(ctx, tx, phone, s.keys.BlindIndex("phone", phone))
		return err
	})
	return id, err
}
