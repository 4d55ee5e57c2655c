package codes

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/person"
)

// CareCode is a care code (爱心码): printed for a person without a phone,
// valid for days, carrying no colour (the scanner gets the current one
// online), revocable.
type CareCode struct {
	ID         string
	PersonID   string
	Kind       string
	MaskedName string
	Code       string // only when issued or asked for
	IssuedAt   time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
	State      string // valid, revoked or expired

	// PersonNum and Region say whose it is, for the checks of who may
	// handle it.
	PersonNum int64
	Region    string
}

// Care code states.
const (
	CareValid   = "valid"
	CareRevoked = "revoked"
	CareExpired = "expired"
)

func (c *CareCode) setState(now time.Time) {
	switch {
	case !c.RevokedAt.IsZero():
		c.State = CareRevoked
	case !now.Before(c.ExpiresAt):
		c.State = CareExpired
	default:
		c.State = CareValid
	}
}

// Printable is nil for a valid care code, else why it may not be printed.
func (c *CareCode) Printable() error {
	switch c.State {
	case CareValid:
		return nil
	case CareRevoked:
		return ErrCareRevoked
	}
	return ErrCareExpired
}

// MaxLiveCareCodes bounds the valid care codes of one person: each is a
// paper credential valid for days, so a lost one is revoked, not
// outnumbered.
const MaxLiveCareCodes = 3

func careAAD(id string) []byte { return []byte("care_codes.code:" + id) }

var errPersonNotFound = apierr.NotFound("person_not_found", "no such person")

// careHolder is whose care codes by handles. A resident handles those of
// their dependent personID (care codes are for family members without a
// phone of their own); anyone else's is a 404. An operator whose role has
// perm handles those of anyone in their scope (nil: nobody in particular).
// Everyone else is refused.
func (s *Service) careHolder(ctx context.Context, by *auth.Principal, personID string, perm auth.Permission) (*person.Person, error) {
	if by != nil && by.Kind == auth.Resident {
		return s.Persons.Dependent(ctx, by.ID, personID)
	}
	return nil, by.Require(perm)
}

// careVisible says whether a care code is one by may see, given the holder
// careHolder returned; any other code is not found, so ids cannot be probed.
func careVisible(by *auth.Principal, holder *person.Person, c *CareCode) bool {
	if holder != nil {
		return c.PersonNum == holder.Num
	}
	return by.InScope(c.Region)
}

// IssueCare issues a care code for a person: a resident for a dependent, or
// an operator with person.write (at a service desk) for a person in their
// scope. Audited.
func (s *Service) IssueCare(ctx context.Context, by *auth.Principal, personID string) (*CareCode, error) {
	p, err := s.careHolder(ctx, by, personID, auth.PersonWrite)
	if err != nil {
		return nil, err
	}
	if p == nil {
		if p, err = s.Persons.GetByID(ctx, personID); err != nil {
			return nil, err
		}
		if !by.InScope(p.Region) {
			return nil, errPersonNotFound
		}
	}
	return s.issueCare(ctx, p, by.Actor())
}

func (s *Service) issueCare(ctx context.Context, p *person.Person, by string) (*CareCode, error) {
	_, v := s.color(p.Num)
	iss, signer, cti, err := s.encode(codeformat.KindCare, p.Num, maskedName(p), 0, v, s.cfg.CareTTL)
	if err != nil {
		return nil, err
	}
	c := &CareCode{ID: hex.EncodeToString(cti[:]), PersonID: p.ID, Kind: codeformat.KindCare.String(), MaskedName: iss.MaskedName,
		Code: iss.Code, IssuedAt: iss.IssuedAt, ExpiresAt: iss.ExpiresAt, State: CareValid, PersonNum: p.Num, Region: p.Region}
	err = s.DB.InTx(ctx, func(tx db.Tx) error {
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM care_codes WHERE person_num = $1 AND revoked_at IS NULL AND expires_at > $2`,
			p.Num, c.IssuedAt.UnixMilli()).Scan(&live); err != nil {
			return fmt.Errorf("codes: count care codes: %w", err)
		}
		if live >= MaxLiveCareCodes {
			return ErrCareCodesLimit.Withf("this person already has %d valid care codes; revoke one (a lost paper, say) before issuing another", live)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO care_codes (id, person_num, kid, code_enc, issued_at, expires_at, issued_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, p.Num, keys.KID(signer.KeyID()),
			s.Keyring.Seal([]byte(c.Code), careAAD(c.ID)), c.IssuedAt.UnixMilli(), c.ExpiresAt.UnixMilli(), by); err != nil {
			return fmt.Errorf("codes: store care code: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by, Action: "care_code.issue",
			Subject: "person:" + p.ID, Region: p.Region,
			Detail: map[string]any{"care_code": c.ID, "expires_at": c.ExpiresAt.Format(time.RFC3339)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.metrics.issuedCare.Inc()
	return c, nil
}

const careCols = `c.id, p.id, p.region_code, c.person_num, c.code_enc, c.issued_at, c.expires_at, c.revoked_at`

func (s *Service) scanCare(row interface{ Scan(...any) error }, withCode bool) (*CareCode, error) {
	c := &CareCode{Kind: codeformat.KindCare.String()}
	var enc []byte
	var issued, expires int64
	var revoked sql.NullInt64
	if err := row.Scan(&c.ID, &c.PersonID, &c.Region, &c.PersonNum, &enc, &issued, &expires, &revoked); err != nil {
		return nil, err
	}
	c.IssuedAt, c.ExpiresAt, c.RevokedAt = db.Time(issued), db.Time(expires), db.NullTime(revoked)
	text, err := s.Keyring.Open(enc, careAAD(c.ID))
	if err != nil {
		return nil, fmt.Errorf("codes: care code %s: %w", c.ID, err)
	}
	// The masked name is read from the code itself: it is what the paper
	// shows, and it spares decrypting the person's name.
	d, err := codeformat.Decode(string(text))
	if err != nil {
		return nil, fmt.Errorf("codes: care code %s: %w", c.ID, err)
	}
	c.MaskedName = d.Claims.MaskedName
	if withCode {
		c.Code = string(text)
	}
	c.setState(s.now())
	return c, nil
}

// CareCode returns one care code with its text, for printing: to a
// resident, a code of their dependent personID; to an operator with
// person.write (a reprint hands out a credential valid for days), a code of
// a person in their scope, found by its id alone. Any other code is not
// found.
func (s *Service) CareCode(ctx context.Context, by *auth.Principal, personID, id string) (*CareCode, error) {
	holder, err := s.careHolder(ctx, by, personID, auth.PersonWrite)
	if err != nil {
		return nil, err
	}
	if !validCareID(id) {
		return nil, ErrCareNotFound
	}
	c, err := s.scanCare(s.DB.QueryRowContext(ctx, `SELECT `+careCols+` FROM care_codes c JOIN persons p ON p.num = c.person_num
		WHERE c.id = $1`, id), true)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !careVisible(by, holder, c)) {
		return nil, ErrCareNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("codes: read care code: %w", err)
	}
	return c, nil
}

// CareCodes lists a person's care codes, newest first, without their text.
func (s *Service) CareCodes(ctx context.Context, num int64) ([]*CareCode, error) {
	out := []*CareCode{}
	err := db.Each(ctx, s.DB, `SELECT `+careCols+` FROM care_codes c JOIN persons p ON p.num = c.person_num
		WHERE c.person_num = $1 ORDER BY c.issued_at DESC, c.id`, []any{num}, func(sc db.Scanner) error {
		c, err := s.scanCare(sc, false)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("codes: list care codes: %w", err)
	}
	return out, nil
}

func validCareID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RevokeCare revokes a care code: a resident one of their dependent
// personID's, an operator with person.write one of a person in their scope
// (by id alone); any other code is not found. Revoking a revoked code
// changes nothing and answers it as it is. This node refuses the code at
// once; other nodes within their revocation refresh period. Audited.
func (s *Service) RevokeCare(ctx context.Context, by *auth.Principal, personID, id string) (*CareCode, error) {
	holder, err := s.careHolder(ctx, by, personID, auth.PersonWrite)
	if err != nil {
		return nil, err
	}
	if !validCareID(id) {
		return nil, ErrCareNotFound
	}
	var c *CareCode
	err = s.DB.InTx(ctx, func(tx db.Tx) error {
		var err error
		c, err = s.scanCare(tx.QueryRowContext(ctx, `SELECT `+careCols+` FROM care_codes c JOIN persons p ON p.num = c.person_num
			WHERE c.id = $1`, id), false)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !careVisible(by, holder, c)) {
			return ErrCareNotFound
		}
		if err != nil {
			return fmt.Errorf("codes: read care code: %w", err)
		}
		if !c.RevokedAt.IsZero() {
			return nil
		}
		c.RevokedAt = s.now().UTC().Truncate(time.Millisecond)
		c.setState(s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE care_codes SET revoked_at = $1, revoked_by = $2 WHERE id = $3`,
			c.RevokedAt.UnixMilli(), by.Actor(), id); err != nil {
			return fmt.Errorf("codes: revoke care code: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "care_code.revoke",
			Subject: "person:" + c.PersonID, Region: c.Region, Detail: map[string]any{"care_code": id}})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.addRevoked(c.ID)
	return c, nil
}

// isRevoked is the verifier's revocation check: only care codes are
// revocable, by their cti.
func (s *Service) isRevoked(c *codeformat.Claims) bool {
	if c.Kind != codeformat.KindCare {
		return false
	}
	_, ok := (*s.revoked.Load())[c.ID]
	return ok
}

func (s *Service) addRevoked(id string) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 8 {
		return
	}
	s.revMu.Lock()
	defer s.revMu.Unlock()
	next := maps.Clone(*s.revoked.Load())
	next[[8]byte(b)] = struct{}{}
	s.revoked.Store(&next)
}

// RefreshRevocations reloads the revoked care codes that have not expired,
// so that a revocation made on another node reaches this one. The server
// runs it periodically; revocations are rare, so the set is small.
func (s *Service) RefreshRevocations(ctx context.Context) error {
	// Held across the query: a revocation committed while it runs is added
	// after the swap rather than lost by it.
	s.revMu.Lock()
	defer s.revMu.Unlock()
	next := map[[8]byte]struct{}{}
	err := db.Each(ctx, s.DB, `SELECT id FROM care_codes WHERE revoked_at IS NOT NULL AND expires_at > $1`,
		[]any{s.now().Add(-s.cfg.Skew).UnixMilli()}, func(sc db.Scanner) error {
			var id string
			if err := sc.Scan(&id); err != nil {
				return err
			}
			if b, err := hex.DecodeString(id); err == nil && len(b) == 8 {
				next[[8]byte(b)] = struct{}{}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("codes: load revocations: %w", err)
	}
	s.revoked.Store(&next)
	return nil
}
