package person

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
)

// Create registers a person on their behalf (at a service desk, a sampling
// site), in the operator's scope.
func (s *Service) Create(ctx context.Context, by *auth.Principal, in Input) (*Person, error) {
	if err := by.Require(auth.PersonWrite); err != nil {
		return nil, err
	}
	if in.Region == "" {
		in.Region = by.Region
		if in.Region == "" {
			in.Region = s.cfg.Region
		}
	}
	c, err := s.check(in)
	if err != nil {
		return nil, err
	}
	if !by.InScope(c.region) {
		return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", c.region, by.Region)
	}
	var p *Person
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if p, err = s.insert(ctx, tx, c, by.Actor()); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.create",
			Subject: "person:" + p.ID, Region: p.Region})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Lookup returns a person for an operator: in scope only (a person outside
// it is "not found", so scope cannot be probed), and audited.
func (s *Service) Lookup(ctx context.Context, by *auth.Principal, id string) (*Person, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	p, err := s.GetByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !by.InScope(p.Region) {
		return nil, ErrNotFound
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.read",
		Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"full": by.Can(auth.PersonReadFull)}})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Query searches persons. Identity number, phone and name match exactly
// (they are sealed; only their blind indexes can be compared).
type Query struct {
	IDType   string
	IDNumber string
	Phone    string
	Name     string
	Region   string // narrow to a region inside the operator's scope
	After    string // public id of the last person of the previous page
	Limit    int
	// Nums narrows the search to these persons (at most Limit), found by
	// another feature (the persons of a colour); nil: no narrowing.
	Nums []int64
}

// Search finds persons in the operator's scope. The search and the ids it
// returned are audited (the search terms are not: they are personal data).
func (s *Service) Search(ctx context.Context, by *auth.Principal, q Query) ([]*Person, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	lo, hi := by.Bounds()
	if q.Region != "" {
		if !by.InScope(q.Region) {
			return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", q.Region, by.Region)
		}
		lo, hi = auth.Bounds(q.Region)
	}
	scope, args := db.Scope(searchRegion, lo, hi, nil)
	where := []string{scope}
	used := []string{}
	add := func(cond string, v any, field string) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
		used = append(used, field)
	}
	if q.IDNumber != "" {
		t := q.IDType
		if t == "" {
			t = string(idnum.ResidentID)
		}
		typ, err := idnum.ParseType(t)
		if err != nil {
			return nil, err
		}
		id, err := idnum.ParseAt(typ, q.IDNumber, s.now())
		if err != nil {
			return nil, err
		}
		add(`p.id_hash = ?`, s.idHash(id), "id_number")
	}
	if q.Phone != "" {
		phone, err := idnum.NormalizePhone(q.Phone)
		if err != nil {
			return nil, err
		}
		add(`p.phone_hash = ?`, s.keys.BlindIndex("phone", phone), "phone")
	}
	if q.Name != "" {
		add(`p.name_hash = ?`, s.nameHash(strings.TrimSpace(q.Name)), "name")
	}
	if q.Nums != nil {
		if len(q.Nums) == 0 || len(q.Nums) > q.Limit {
			return []*Person{}, nil
		}
		marks := make([]string, len(q.Nums))
		for i, n := range q.Nums {
			args = append(args, n)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		where = append(where, `p.num IN (`+strings.Join(marks, ", ")+`)`)
		used = append(used, "nums")
	}
	browsing := len(used) == 0
	var after int64
	if q.After != "" {
		num, err := s.handles.ParseID(q.After)
		if err != nil {
			return nil, ErrAfterInvalid
		}
		after = num
		add(`p.num > ?`, num, "after")
	}
	var out []*Person
	var err error
	if browsing {
		out, err = s.browse(ctx, lo, hi, after, q.Limit)
	} else {
		args = append(args, q.Limit)
		out, err = db.Collect(ctx, s.db, searchSQL(where, len(args)), args, s.scan)
	}
	if err != nil {
		return nil, fmt.Errorf("person: search: %w", err)
	}
	idsOut := make([]string, len(out))
	for i, p := range out {
		idsOut[i] = p.ID
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.search",
		Subject: "persons", Region: lo, Detail: map[string]any{"fields": used, "results": idsOut}})
	return out, err
}

// searchRegion is how a search reads the scope: as a filter only. Every
// search has a filter that finds few rows through its own index (an ID
// number, a phone, a list of numbers; a name, a few hundred in a
// province); the concatenation keeps both engines off the region index.
// On PostgreSQL a prepared search settles after five runs on a plan made
// for every value (the generic plan), which added the town's whole range
// of the region index to a name's rows: 17 ms for a name in a town of
// 150,000 at 10M residents, 223 ms when those index pages were not in
// memory (docs/PERFORMANCE.md, "A town's name search").
const searchRegion = "(p.region_code || '')"

// searchSQL is a search's statement over its conditions, its limit the
// argument numbered limit.
func searchSQL(where []string, limit int) string {
	return `SELECT ` + personCols + ` FROM persons p WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY p.num LIMIT $%d`, limit)
}

// browsePersons is a page of the persons of a scope (db.Browse).
var browsePersons = db.Browse{Table: "persons", Alias: "p", Key: "num", Cols: personCols}

func (s *Service) browse(ctx context.Context, lo, hi string, after int64, limit int) ([]*Person, error) {
	var w db.Where
	w.Scope("p.region_code", lo, hi)
	return db.Page(ctx, s.db, browsePersons, w, after, limit, s.scan)
}

// Import registers many persons on their behalf at once (a migration from
// another system, the demo's simulated city), in the operator's scope, in
// one transaction of multi-row inserts with one audit entry. Every input
// is checked first; one bad input or a number already registered stores
// nothing.
func (s *Service) Import(ctx context.Context, by *auth.Principal, ins []Input) ([]*Person, error) {
	if err := by.Require(auth.PersonWrite); err != nil {
		return nil, err
	}
	cs := make([]checked, len(ins))
	for i, in := range ins {
		if in.Region == "" {
			in.Region = by.Region
		}
		c, err := s.check(in)
		if err != nil {
			return nil, err
		}
		if !by.InScope(c.region) {
			return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", c.region, by.Region)
		}
		cs[i] = c
	}
	out := make([]*Person, len(cs))
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if len(cs) == 0 {
			return nil
		}
		last, err := db.NextVal(ctx, tx, "persons", int64(len(cs)))
		if err != nil {
			return err
		}
		at := s.now().UTC().Truncate(time.Millisecond)
		args := make([]any, 0, 13*len(cs))
		for i, c := range cs {
			p := &Person{Num: last - int64(len(cs)-1-i), IDType: c.id.Type, IDNumber: c.id.Number, Name: c.name,
				Phone: c.phone, Region: c.region, CreatedAt: at}
			p.ID = s.handles.ID(p.Num)
			if !c.id.Birth.IsZero() {
				p.BirthYear = c.id.Birth.Year()
			}
			var phoneHash, phoneEnc []byte
			if c.phone != "" {
				phoneHash, phoneEnc = s.keys.BlindIndex("phone", c.phone), s.keys.SealString(c.phone, "persons.phone:"+p.ID)
			}
			args = append(args, p.Num, p.ID, string(p.IDType), s.idHash(c.id), s.keys.SealString(p.IDNumber, "persons.id_number:"+p.ID),
				s.nameHash(p.Name), s.keys.SealString(p.Name, "persons.name:"+p.ID), phoneHash, phoneEnc,
				p.Region, sql.NullInt64{Int64: int64(p.BirthYear), Valid: p.BirthYear != 0}, p.CreatedAt.UnixMilli(), by.Actor())
			out[i] = p
		}
		if _, err := insertPersons.Exec(ctx, tx, s.db.Engine(), args); err != nil {
			if db.IsUniqueViolation(err) {
				return ErrExists.Withf("an identity number of the import is already registered")
			}
			return fmt.Errorf("person: import: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: at, Actor: by.Actor(), Action: "person.import",
			Subject: "region:" + by.Region, Region: by.Region, Detail: map[string]any{"persons": len(cs)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var insertPersons = db.Insert{Head: `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc,
	phone_hash, phone_enc, region_code, birth_year, created_at, created_by) VALUES `, Cols: 13}
