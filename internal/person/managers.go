package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/sms"
)

// Notifier queues a text message in the caller's transaction, so a message
// goes out exactly when the change it tells of commits (sms.Outbox).
type Notifier interface {
	SendTx(ctx context.Context, tx db.Tx, m sms.Message) error
}

// SetNotifier sets where messages to managers go; without one none are sent.
func (s *Service) SetNotifier(n Notifier) { s.notify = n }

// States of a manager request.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRefused  = "refused"
	RequestDesk     = "desk" // settled by a service desk's verification
)

// ManagerRequest asks to manage a person who already has a manager. Knowing
// a dependent's name and identity number is not enough to become one more
// manager: one of the managers consents, or a service desk verifies the
// requester in person.
type ManagerRequest struct {
	ID         string
	PersonID   string
	MaskedName string
	Relation   string
	State      string
	// RequesterPhone is masked (138****0000): what a manager needs to
	// recognise a relative, no more.
	RequesterPhone string
	CreatedAt      time.Time
}

// managerCount is how many accounts manage the person.
func managerCount(ctx context.Context, q db.Querier, num int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM dependents WHERE person_num = $1`, num).Scan(&n); err != nil {
		return 0, fmt.Errorf("person: count managers: %w", err)
	}
	return n, nil
}

// requestManager records a request of the account to manage p, who has
// managers already, and tells each of them.
func (s *Service) requestManager(ctx context.Context, tx db.Tx, accountID, phone string, p *Person, relation string) (*ManagerRequest, error) {
	var pending int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM manager_requests WHERE account_id = $1 AND person_num = $2 AND state = $3`,
		accountID, p.Num, RequestPending).Scan(&pending); err != nil {
		return nil, fmt.Errorf("person: read manager requests: %w", err)
	}
	if pending > 0 {
		return nil, ErrManagerRequestPending
	}
	r := &ManagerRequest{ID: ids.New(), PersonID: p.ID, MaskedName: idnum.MaskName(p.Name), Relation: relation,
		State: RequestPending, RequesterPhone: idnum.MaskPhone(phone), CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if _, err := tx.ExecContext(ctx, `INSERT INTO manager_requests (id, account_id, person_num, relation, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, accountID, p.Num, relation, r.State, r.CreatedAt.UnixMilli()); err != nil {
		return nil, fmt.Errorf("person: store manager request: %w", err)
	}
	if err := s.tellManagers(ctx, tx, p, "", sms.KindManagerRequest, map[string]string{"phone": r.RequesterPhone}); err != nil {
		return nil, err
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "resident:" + accountID, Action: "dependent.request",
		Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"relation": relation, "request": r.ID}})
	return r, err
}

// tellManagers sends every account managing p but except a message of
// kind, with the person's masked name among its vars.
func (s *Service) tellManagers(ctx context.Context, tx db.Tx, p *Person, except, kind string, vars map[string]string) error {
	if s.notify == nil {
		return nil
	}
	phones, err := db.Collect(ctx, tx, `SELECT a.id, a.phone_enc FROM dependents d JOIN accounts a ON a.id = d.account_id
		WHERE d.person_num = $1 AND a.id <> $2 ORDER BY d.created_at, a.id`, []any{p.Num, except}, s.scanAccountPhone)
	if err != nil {
		return fmt.Errorf("person: managers' phones: %w", err)
	}
	vars["name"] = idnum.MaskName(p.Name)
	for _, phone := range phones {
		if err := s.notify.SendTx(ctx, tx, sms.Message{To: phone, Purpose: kind, Vars: vars, Region: p.Region}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) scanAccountPhone(sc db.Scanner) (string, error) {
	var id string
	var enc []byte
	if err := sc.Scan(&id, &enc); err != nil {
		return "", err
	}
	return s.keys.OpenString(enc, "accounts.phone:"+id)
}

// addManager makes the account a manager of p in tx, within the account's
// limit, and tells every other manager of the new one.
func (s *Service) addManager(ctx context.Context, tx db.Tx, accountID string, p *Person, relation string) error {
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dependents WHERE account_id = $1`, accountID).Scan(&count); err != nil {
		return fmt.Errorf("person: count dependents: %w", err)
	}
	if count >= s.cfg.MaxDependents {
		return ErrDependentsLimit.Withf("an account may manage at most %d dependents", s.cfg.MaxDependents)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO dependents (account_id, person_num, relation, created_at) VALUES ($1, $2, $3, $4)`,
		accountID, p.Num, relation, s.now().UnixMilli())
	if db.IsUniqueViolation(err) {
		return ErrDependentExists
	}
	if err != nil {
		return fmt.Errorf("person: add dependent: %w", err)
	}
	phone, _, err := s.accountPhone(ctx, tx, accountID)
	if err != nil {
		return err
	}
	return s.tellManagers(ctx, tx, p, accountID, sms.KindManagerAdded, map[string]string{"phone": idnum.MaskPhone(phone)})
}

// ManagerRequests lists the pending requests to manage the persons the
// resident manages, oldest first.
func (s *Service) ManagerRequests(ctx context.Context, by *auth.Principal) ([]ManagerRequest, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, auth.ErrForbidden.Withf("only a resident decides on requests to manage their dependents")
	}
	out, err := db.Collect(ctx, s.db, `SELECT r.id, r.person_num, r.relation, r.state, r.created_at, a.id, a.phone_enc
		FROM manager_requests r JOIN accounts a ON a.id = r.account_id
		WHERE r.state = $1 AND r.person_num IN (SELECT person_num FROM dependents WHERE account_id = $2)
		ORDER BY r.created_at, r.id`, []any{RequestPending, by.ID}, s.scanRequest(ctx))
	if err != nil {
		return nil, fmt.Errorf("person: manager requests: %w", err)
	}
	return out, nil
}

func (s *Service) scanRequest(ctx context.Context) func(db.Scanner) (ManagerRequest, error) {
	return func(sc db.Scanner) (ManagerRequest, error) {
		var r ManagerRequest
		var num, at int64
		var acct string
		var enc []byte
		if err := sc.Scan(&r.ID, &num, &r.Relation, &r.State, &at, &acct, &enc); err != nil {
			return r, err
		}
		r.CreatedAt = db.Time(at)
		phone, err := s.keys.OpenString(enc, "accounts.phone:"+acct)
		if err != nil {
			return r, err
		}
		r.RequesterPhone = idnum.MaskPhone(phone)
		p, err := s.Get(ctx, num)
		if err != nil {
			return r, err
		}
		r.PersonID, r.MaskedName = p.ID, idnum.MaskName(p.Name)
		return r, nil
	}
}

// DecideManagerRequest is a manager's answer to a pending request about a
// person they manage: approve makes the requester a manager too (and every
// manager is told), refuse closes it. A request about someone the resident
// does not manage is not found.
func (s *Service) DecideManagerRequest(ctx context.Context, by *auth.Principal, id string, approve bool) (*ManagerRequest, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, auth.ErrForbidden.Withf("only a resident decides on requests to manage their dependents")
	}
	var out *ManagerRequest
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var acct, relation string
		var num int64
		err := tx.QueryRowContext(ctx, `SELECT account_id, person_num, relation FROM manager_requests r
			WHERE id = $1 AND state = $2 AND EXISTS (SELECT 1 FROM dependents d WHERE d.person_num = r.person_num AND d.account_id = $3)`,
			id, RequestPending, by.ID).Scan(&acct, &num, &relation)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrManagerRequestNotFound
		}
		if err != nil {
			return fmt.Errorf("person: read manager request: %w", err)
		}
		p, err := s.one(ctx, tx, `p.num = $1`, num)
		if err != nil {
			return err
		}
		state, action := RequestRefused, "dependent.refuse"
		if approve {
			state, action = RequestApproved, "dependent.approve"
			if err := s.addManager(ctx, tx, acct, p, relation); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE manager_requests SET state = $1, decided_at = $2, decided_by = $3 WHERE id = $4`,
			state, s.now().UnixMilli(), by.Actor(), id); err != nil {
			return fmt.Errorf("person: decide manager request: %w", err)
		}
		out = &ManagerRequest{ID: id, PersonID: p.ID, MaskedName: idnum.MaskName(p.Name), Relation: relation, State: state}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: action,
			Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"request": id, "account": acct}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddManagerAtDesk is a service desk's verification (核验): an operator who
// has checked the requester's documents in person makes the account that
// logged in with phone a manager of a person in their scope. It is audited
// as the operator's act, settles any pending request of that account, and
// every manager is told.
func (s *Service) AddManagerAtDesk(ctx context.Context, by *auth.Principal, personID, phone, relation string) (*Person, error) {
	if err := by.Require(auth.PersonWrite); err != nil {
		return nil, err
	}
	if relation == "" {
		relation = "other"
	}
	if !slices.Contains(Relations, relation) {
		return nil, ErrRelationInvalid.Withf("relation must be one of %v", Relations)
	}
	phone, err := idnum.NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	p, err := s.GetByID(ctx, personID)
	if err != nil {
		return nil, err
	}
	if !by.InScope(p.Region) {
		return nil, ErrNotFound
	}
	if p.HasPhone {
		return nil, ErrHasOwnPhone
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var acct string
		var own sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, person_num FROM accounts WHERE phone_hash = $1`, s.keys.BlindIndex("phone", phone)).Scan(&acct, &own)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrAccountNotFound
		}
		if err != nil {
			return fmt.Errorf("person: find account: %w", err)
		}
		if own.Valid && own.Int64 == p.Num {
			return ErrDependentIsSelf
		}
		if err := s.addManager(ctx, tx, acct, p, relation); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE manager_requests SET state = $1, decided_at = $2, decided_by = $3
			WHERE account_id = $4 AND person_num = $5 AND state = $6`,
			RequestDesk, s.now().UnixMilli(), by.Actor(), acct, p.Num, RequestPending); err != nil {
			return fmt.Errorf("person: settle manager requests: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "dependent.desk_verify",
			Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"relation": relation, "account": acct}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
