package person

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
)

// Correction changes a person's name, identity number or both (empty:
// unchanged), with the reason (a hotline ticket, a document seen at the
// desk).
type Correction struct {
	Name     string
	IDType   string
	IDNumber string
	Reason   string
}

// Corrected is a correction made: the person as they were and as they are,
// masked, and the fields that changed.
type Corrected struct {
	Person        *Person
	Before, After Masked
	Fields        []string
}

// Correct corrects a person's name or identity number, for an operator with
// person.correct, in scope (outside it: not found). The new values are
// sealed and indexed as at registration; the audit entry has the fields,
// the reason and the values before and after, masked. A number another
// person has is a 409 person_exists; nothing to change, a 400.
func (s *Service) Correct(ctx context.Context, by *auth.Principal, id string, in Correction) (*Corrected, error) {
	if err := by.Require(auth.PersonCorrect); err != nil {
		return nil, err
	}
	p, err := s.GetByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !by.InScope(p.Region) {
		return nil, ErrNotFound
	}
	reason, err := idnum.CleanText("reason", strings.TrimSpace(in.Reason))
	if err != nil || reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, ErrCorrectionReason
	}
	next := *p
	var fields []string
	if strings.TrimSpace(in.Name) != "" {
		name, err := idnum.CleanText("name", strings.TrimSpace(in.Name))
		if err != nil || utf8.RuneCountInString(name) > 64 {
			return nil, ErrNameInvalid
		}
		if name != p.Name {
			next.Name = name
			fields = append(fields, "name")
		}
	}
	var newID idnum.ID
	if strings.TrimSpace(in.IDNumber) != "" {
		t := in.IDType
		if t == "" {
			t = string(p.IDType)
		}
		typ, err := idnum.ParseType(t)
		if err != nil {
			return nil, err
		}
		if newID, err = idnum.ParseAt(typ, strings.TrimSpace(in.IDNumber), s.now()); err != nil {
			return nil, err
		}
		if newID.Type != p.IDType || newID.Number != p.IDNumber {
			next.IDType, next.IDNumber = newID.Type, newID.Number
			next.BirthYear = 0
			if !newID.Birth.IsZero() {
				next.BirthYear = newID.Birth.Year()
			}
			fields = append(fields, "id_number")
		}
	}
	if len(fields) == 0 {
		return nil, ErrNothingToCorrect
	}
	c := &Corrected{Person: &next, Before: p.Masked(), After: next.Masked(), Fields: fields}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE persons SET name_hash = $1, name_enc = $2, id_type = $3, id_hash = $4, id_enc = $5,
			birth_year = $6 WHERE num = $7`,
			s.nameHash(next.Name), s.keys.SealString(next.Name, "persons.name:"+p.ID), string(next.IDType),
			s.idHash(idnum.ID{Type: next.IDType, Number: next.IDNumber}), s.keys.SealString(next.IDNumber, "persons.id_number:"+p.ID),
			sql.NullInt64{Int64: int64(next.BirthYear), Valid: next.BirthYear != 0}, p.Num)
		if db.IsUniqueViolation(err) {
			return ErrExists.Withf("another person is registered with this identity number")
		}
		if err != nil {
			return fmt.Errorf("person: correct: %w", err)
		}
		before, after := map[string]any{}, map[string]any{}
		for _, f := range fields {
			if f == "name" {
				before[f], after[f] = c.Before.Name, c.After.Name
			} else {
				before[f], after[f] = string(c.Before.IDType)+":"+c.Before.IDNumber, string(c.After.IDType)+":"+c.After.IDNumber
			}
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.correct", Subject: "person:" + p.ID,
			Region: p.Region, Detail: map[string]any{"fields": fields, "reason": reason, "before": before, "after": after}})
		return err
	})
	if err != nil {
		return nil, err
	}
	accts, err := db.Collect(ctx, s.db, `SELECT id FROM accounts WHERE person_num = $1`, []any{p.Num},
		func(sc db.Scanner) (string, error) { var a string; return a, sc.Scan(&a) })
	if err != nil {
		return nil, fmt.Errorf("person: accounts of a corrected person: %w", err)
	}
	for _, a := range accts {
		s.byAcct.drop(a)
	}
	return c, nil
}
