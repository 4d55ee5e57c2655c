package pharmacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
)

// Class is a watched drug class (两抗一退 and cough medicine). The
// authority adds, renames and retires classes; a retired class is refused
// for new purchases and keeps its name on old ones.
type Class struct {
	Code      string
	Name      fact.Text
	Active    bool
	Position  int64
	UpdatedAt time.Time
	UpdatedBy string
}

const classCols = `code, name_zh, name_en, active, position, updated_at, updated_by`

func scanClass(row interface{ Scan(...any) error }) (*Class, error) {
	var c Class
	var at int64
	if err := row.Scan(&c.Code, &c.Name.ZH, &c.Name.EN, &c.Active, &c.Position, &at, &c.UpdatedBy); err != nil {
		return nil, err
	}
	c.UpdatedAt = db.Time(at)
	return &c, nil
}

// Classes lists the drug classes in their order; retired ones only when
// all is set. They are public: a pharmacy's till shows them.
func (s *Service) Classes(ctx context.Context, all bool) ([]*Class, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+classCols+` FROM drug_classes WHERE active OR $1 ORDER BY position, code`, all)
	if err != nil {
		return nil, fmt.Errorf("pharmacy: list drug classes: %w", err)
	}
	defer rows.Close()
	out := []*Class{}
	for rows.Next() {
		c, err := scanClass(rows)
		if err != nil {
			return nil, fmt.Errorf("pharmacy: list drug classes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// class returns a class by code (retired ones too), or nil.
func (s *Service) class(ctx context.Context, q db.Querier, code string) (*Class, error) {
	c, err := scanClass(q.QueryRowContext(ctx, `SELECT `+classCols+` FROM drug_classes WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pharmacy: drug class: %w", err)
	}
	return c, nil
}

// ClassInput adds or changes a drug class.
type ClassInput struct {
	Code     string
	NameZH   string
	NameEN   string
	Active   bool
	Position int64 // 0: after the others (new) or unchanged
}

func validCode(c string) bool {
	if len(c) < 2 || len(c) > 32 || c[0] < 'a' || c[0] > 'z' {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !(c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9' || c[i] == '_') {
			return false
		}
	}
	return true
}

// SaveClass adds a drug class or changes one (names, order, retired or
// not); for operators with org.write whose scope is the whole deployment,
// since the classes are the same everywhere. Audited.
func (s *Service) SaveClass(ctx context.Context, by *auth.Principal, in ClassInput) (*Class, error) {
	if by == nil || !by.Can(auth.OrgWrite) {
		return nil, ErrForbidden.Withf("your role may not edit drug classes (needs %s)", auth.OrgWrite)
	}
	if !by.InScope(s.cfg.Region) {
		return nil, ErrForbidden.Withf("drug classes are the same in the whole deployment (%s); your scope is %s", s.cfg.Region, by.Region)
	}
	if !validCode(in.Code) {
		return nil, ErrDrugClassInvalid
	}
	c := &Class{Code: in.Code, Name: fact.Text{ZH: strings.TrimSpace(in.NameZH), EN: strings.TrimSpace(in.NameEN)},
		Active: in.Active, Position: in.Position, UpdatedAt: s.now().UTC().Truncate(time.Millisecond), UpdatedBy: by.Actor()}
	for _, n := range []string{c.Name.ZH, c.Name.EN} {
		if l := utf8.RuneCountInString(n); l == 0 || l > 50 {
			return nil, ErrClassNameInvalid
		}
	}
	if c.Position < 0 || c.Position > 1000 {
		return nil, ErrDrugClassInvalid.Withf("position must be 0-1000")
	}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		old, err := s.class(ctx, tx, c.Code)
		if err != nil {
			return err
		}
		if c.Position == 0 {
			if old != nil {
				c.Position = old.Position
			} else if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 1 FROM drug_classes`).Scan(&c.Position); err != nil {
				return fmt.Errorf("pharmacy: drug class position: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO drug_classes (`+classCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, active = excluded.active,
				position = excluded.position, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			c.Code, c.Name.ZH, c.Name.EN, c.Active, c.Position, c.UpdatedAt.UnixMilli(), c.UpdatedBy); err != nil {
			return fmt.Errorf("pharmacy: save drug class: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "pharmacy.drug_class_save",
			Subject: "drug_class:" + c.Code, Region: s.cfg.Region, Detail: map[string]any{"name_zh": c.Name.ZH, "name_en": c.Name.EN,
				"active": c.Active, "position": c.Position, "new": old == nil}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
