package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
)

// Profile is the little a hot path needs about the person behind an
// account: it is cached per node, so showing a code does not read the database.
type Profile struct {
	Num        int64
	ID         string
	MaskedName string
	Region     string
}

func (s *Service) accountPhone(ctx context.Context, q db.Querier, accountID string) (string, sql.NullInt64, error) {
	var enc []byte
	var num sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT phone_enc, person_num FROM accounts WHERE id = $1`, accountID).Scan(&enc, &num)
	if errors.Is(err, sql.ErrNoRows) {
		return "", num, auth.ErrTokenInvalid.Withf("unknown account; log in again")
	}
	if err != nil {
		return "", num, fmt.Errorf("person: read account: %w", err)
	}
	phone, err := s.keys.OpenString(enc, "accounts.phone:"+accountID)
	return phone, num, err
}

// Register creates the person behind a logged-in phone. If the identity
// number is already registered without a phone of its own by an operator
// and the name matches, the account takes that person over; a person whom
// family members manage is not taken over this way (ErrManaged: knowing a
// name and a number proves nothing); otherwise a registered number is a 409.
func (s *Service) Register(ctx context.Context, accountID string, in Input) (*Person, error) {
	in.Relation = ""
	var p *Person
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		phone, num, err := s.accountPhone(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if num.Valid {
			return ErrAlreadyRegistered
		}
		in.Phone = ""
		c, err := s.check(in)
		if err != nil {
			return err
		}
		c.phone = phone
		action := "person.register"
		existing, err := s.one(ctx, tx, `p.id_hash = $1`, s.idHash(c.id))
		switch {
		case err == nil:
			if existing.HasPhone || existing.Name != c.name {
				return ErrExists
			}
			if n, err := managerCount(ctx, tx, existing.Num); err != nil {
				return err
			} else if n > 0 {
				return ErrManaged
			}
			p, action = existing, "person.claim"
			p.Phone = phone
			if _, err := tx.ExecContext(ctx, `UPDATE persons SET phone_hash = $1, phone_enc = $2 WHERE num = $3`,
				s.keys.BlindIndex("phone", phone), s.keys.SealString(phone, "persons.phone:"+p.ID), p.Num); err != nil {
				return fmt.Errorf("person: set phone: %w", err)
			}
		case errors.Is(err, ErrNotFound):
			if p, err = s.insert(ctx, tx, c, "resident:"+accountID); err != nil {
				return err
			}
		default:
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET person_num = $1 WHERE id = $2`, p.Num, accountID); err != nil {
			if db.IsUniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("person: link account: %w", err)
		}
		p.HasPhone = true
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "resident:" + accountID, Action: action,
			Subject: "person:" + p.ID, Region: p.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Profile returns the cached profile of the account's person, or a 404
// not_registered.
func (s *Service) Profile(ctx context.Context, accountID string) (Profile, error) {
	if pr, ok := s.byAcct.get(accountID); ok {
		return pr, nil
	}
	p, err := s.ForAccount(ctx, accountID)
	if err != nil {
		return Profile{}, err
	}
	pr := p.Profile()
	s.byAcct.put(accountID, pr)
	return pr, nil
}

// Profile is the hot-path view of a person.
func (p *Person) Profile() Profile {
	return Profile{Num: p.Num, ID: p.ID, MaskedName: idnum.MaskName(p.Name), Region: p.Region}
}

// ForAccount returns the account's person, or a 404 not_registered.
func (s *Service) ForAccount(ctx context.Context, accountID string) (*Person, error) {
	p, err := s.one(ctx, s.db, `p.num = (SELECT person_num FROM accounts WHERE id = $1)`, accountID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotRegistered
	}
	return p, err
}

// Relations a dependent may have to the account holder.
var Relations = []string{"parent", "child", "spouse", "grandparent", "grandchild", "sibling", "relative", "other"}

// AddDependent registers a person an account manages (an elderly parent, a
// child), up to MaxDependents. A person already registered may be added when
// the name matches and they have no phone registration of their own: such a
// person can be managed by several family members. When they already have a
// manager, the answer is instead a pending request (nil person): one of the
// managers consents (DecideManagerRequest) or a service desk verifies the
// requester (AddManagerAtDesk), and every manager is told.
func (s *Service) AddDependent(ctx context.Context, accountID string, in Input) (*Person, *ManagerRequest, error) {
	if in.Relation == "" {
		in.Relation = "other"
	}
	if !slices.Contains(Relations, in.Relation) {
		return nil, nil, ErrRelationInvalid.Withf("relation must be one of %v", Relations)
	}
	var p *Person
	var req *ManagerRequest
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		phone, own, err := s.accountPhone(ctx, tx, accountID)
		if err != nil {
			return err
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dependents WHERE account_id = $1`, accountID).Scan(&count); err != nil {
			return fmt.Errorf("person: count dependents: %w", err)
		}
		if count >= s.cfg.MaxDependents {
			return ErrDependentsLimit.Withf("an account may manage at most %d dependents", s.cfg.MaxDependents)
		}
		in.Phone = ""
		c, err := s.check(in)
		if err != nil {
			return err
		}
		existing, err := s.one(ctx, tx, `p.id_hash = $1`, s.idHash(c.id))
		switch {
		case err == nil:
			if own.Valid && existing.Num == own.Int64 {
				return ErrDependentIsSelf
			}
			if existing.HasPhone || existing.Name != c.name {
				return ErrExists
			}
			var mine int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dependents WHERE account_id = $1 AND person_num = $2`,
				accountID, existing.Num).Scan(&mine); err != nil {
				return fmt.Errorf("person: read dependents: %w", err)
			}
			if mine > 0 {
				return ErrDependentExists
			}
			managers, err := managerCount(ctx, tx, existing.Num)
			if err != nil {
				return err
			}
			if managers > 0 {
				req, err = s.requestManager(ctx, tx, accountID, phone, existing, in.Relation)
				return err
			}
			p = existing
		case errors.Is(err, ErrNotFound):
			if p, err = s.insert(ctx, tx, c, "resident:"+accountID); err != nil {
				return err
			}
		default:
			return err
		}
		if err := s.addManager(ctx, tx, accountID, p, in.Relation); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "resident:" + accountID, Action: "dependent.add",
			Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"relation": in.Relation}})
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return p, req, nil
}

// Dependent is a person an account manages.
type Dependent struct {
	*Person
	Relation string
}

// Dependents lists the account's dependents in the order they were added.
func (s *Service) Dependents(ctx context.Context, accountID string) ([]Dependent, error) {
	out, err := db.Collect(ctx, s.db, `SELECT `+personCols+`, d.relation FROM dependents d JOIN persons p ON p.num = d.person_num
		WHERE d.account_id = $1 ORDER BY d.created_at, p.num`, []any{accountID}, func(sc db.Scanner) (Dependent, error) {
		var rel string
		p, err := s.scan(scanFunc(func(dest ...any) error { return sc.Scan(append(dest, &rel)...) }))
		return Dependent{Person: p, Relation: rel}, err
	})
	if err != nil {
		return nil, fmt.Errorf("person: list dependents: %w", err)
	}
	return out, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Dependent returns one of the account's dependents by public id; anyone
// else's is a 404.
func (s *Service) Dependent(ctx context.Context, accountID, personID string) (*Person, error) {
	num, err := s.handles.ParseID(personID)
	if err != nil {
		return nil, err
	}
	p, err := s.one(ctx, s.db, `p.num = $1 AND EXISTS (SELECT 1 FROM dependents d WHERE d.account_id = $2 AND d.person_num = p.num)`, num, accountID)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ActingFor is the person a resident acts for: themselves (personID empty
// or their own id) or one of their dependents; anyone else is a 404.
// Operators and API keys act on persons in their scope instead (Lookup),
// so they are refused.
func (s *Service) ActingFor(ctx context.Context, by *auth.Principal, personID string) (Profile, error) {
	if by == nil || by.Kind != auth.Resident {
		return Profile{}, auth.ErrForbidden.Withf("only a resident acts for themselves and their dependents")
	}
	own, err := s.Profile(ctx, by.ID)
	if err != nil {
		return Profile{}, err
	}
	if personID == "" || personID == own.ID {
		return own, nil
	}
	p, err := s.Dependent(ctx, by.ID, personID)
	if err != nil {
		return Profile{}, err
	}
	return p.Profile(), nil
}

// RemoveDependent stops managing a dependent; the person stays registered.
func (s *Service) RemoveDependent(ctx context.Context, accountID, personID string) error {
	p, err := s.Dependent(ctx, accountID, personID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dependents WHERE account_id = $1 AND person_num = $2`, accountID, p.Num); err != nil {
			return fmt.Errorf("person: remove dependent: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: "resident:" + accountID, Action: "dependent.remove",
			Subject: "person:" + p.ID, Region: p.Region})
		return err
	})
}

// Phones returns the phones that should hear about a person: their own
// and those of the accounts managing them (notifications of colour changes).
func (s *Service) Phones(ctx context.Context, num int64) ([]string, error) {
	out, err := db.Collect(ctx, s.db, `SELECT a.id, a.phone_enc FROM accounts a WHERE a.person_num = $1
		UNION SELECT a.id, a.phone_enc FROM dependents d JOIN accounts a ON a.id = d.account_id WHERE d.person_num = $1`, []any{num},
		func(sc db.Scanner) (string, error) {
			var id string
			var enc []byte
			if err := sc.Scan(&id, &enc); err != nil {
				return "", err
			}
			phone, err := s.keys.OpenString(enc, "accounts.phone:"+id)
			if err != nil {
				return "", fmt.Errorf("phone of account %s: %w", id, err)
			}
			return phone, nil
		})
	if err != nil {
		return nil, fmt.Errorf("person: phones: %w", err)
	}
	return out, nil
}
