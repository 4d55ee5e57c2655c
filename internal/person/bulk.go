package person

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
)

// Checked is an input that passed the checks registration makes, for the
// lines of a list that are checked one by one and written in batches.
type Checked struct {
	c checked
}

// Key identifies the identity number however it was typed (full-width
// digits, a lower-case x): two lines with one Key are one person.
func (c Checked) Key() string { return string(c.c.id.Type) + ":" + c.c.id.Number }

// Region is the residential region the input names (or the deployment's).
func (c Checked) Region() string { return c.c.region }

// Check validates one input as registration would; by's scope must hold
// the region.
func (s *Service) Check(by *auth.Principal, in Input) (Checked, error) {
	if in.Region == "" {
		in.Region = by.Region
	}
	c, err := s.check(in)
	if err != nil {
		return Checked{}, err
	}
	if !by.InScope(c.region) {
		return Checked{}, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", c.region, by.Region)
	}
	return Checked{c: c}, nil
}

// ParseID checks an identity number of a list line (a resident ID card
// when the type is empty) and returns its Key.
func (s *Service) ParseID(idType, number string) (string, error) {
	if idType == "" {
		idType = string(idnum.ResidentID)
	}
	t, err := idnum.ParseType(idType)
	if err != nil {
		return "", err
	}
	id, err := idnum.ParseAt(t, number, s.now())
	if err != nil {
		return "", err
	}
	return string(id.Type) + ":" + id.Number, nil
}

// Match finds the registered persons among identity-number keys (Key,
// ParseID) through the blind index, in q (a transaction of the caller's or
// the store): the numbers of those found, by key.
func (s *Service) Match(ctx context.Context, q db.Querier, keys []string) (map[string]int64, error) {
	byHash := make(map[string]string, len(keys))
	hashes := make([][]byte, 0, len(keys))
	for _, k := range keys {
		h := s.keys.BlindIndex("id", k)
		if _, dup := byHash[string(h)]; !dup {
			byHash[string(h)] = k
			hashes = append(hashes, h)
		}
	}
	out := make(map[string]int64, len(keys))
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT id_hash, num FROM persons WHERE id_hash IN `, nil, hashes, ``,
		func(sc db.Scanner) error {
			var h []byte
			var num int64
			if err := sc.Scan(&h, &num); err != nil {
				return err
			}
			out[byHash[string(h)]] = num
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("person: match identity numbers: %w", err)
	}
	return out, nil
}

// Ensure registers, in the caller's transaction, those of cs not yet
// registered and matches the others (their record is left as it is: a list
// does not overwrite what a resident registered). It returns each input's
// person number, in order, and how many it registered. cs must not repeat
// a Key. The caller audits the import as a whole.
func (s *Service) Ensure(ctx context.Context, tx db.Tx, by *auth.Principal, cs []Checked) ([]int64, int, error) {
	if err := by.Require(auth.PersonWrite); err != nil {
		return nil, 0, err
	}
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key()
	}
	found, err := s.Match(ctx, tx, keys)
	if err != nil {
		return nil, 0, err
	}
	nums := make([]int64, len(cs))
	var fresh []int
	for i, k := range keys {
		if n, ok := found[k]; ok {
			nums[i] = n
		} else {
			fresh = append(fresh, i)
		}
	}
	if len(fresh) == 0 {
		return nums, 0, nil
	}
	last, err := db.NextVal(ctx, tx, "persons", int64(len(fresh)))
	if err != nil {
		return nil, 0, err
	}
	at := s.now().UTC().Truncate(time.Millisecond).UnixMilli()
	args := make([]any, 0, 13*len(fresh))
	for j, i := range fresh {
		c := cs[i].c
		num := last - int64(len(fresh)-1-j)
		id := s.handles.ID(num)
		birth := sql.NullInt64{}
		if !c.id.Birth.IsZero() {
			birth = sql.NullInt64{Int64: int64(c.id.Birth.Year()), Valid: true}
		}
		var phoneHash, phoneEnc []byte
		if c.phone != "" {
			phoneHash, phoneEnc = s.keys.BlindIndex("phone", c.phone), s.keys.SealString(c.phone, "persons.phone:"+id)
		}
		args = append(args, num, id, string(c.id.Type), s.idHash(c.id), s.keys.SealString(c.id.Number, "persons.id_number:"+id),
			s.nameHash(c.name), s.keys.SealString(c.name, "persons.name:"+id), phoneHash, phoneEnc,
			c.region, birth, at, by.Actor())
		nums[i] = num
	}
	if _, err := insertPersons.Exec(ctx, tx, s.db.Engine(), args); err != nil {
		if db.IsUniqueViolation(err) {
			return nil, 0, ErrExists.Withf("an identity number of the list was registered meanwhile; import it again")
		}
		return nil, 0, fmt.Errorf("person: ensure: %w", err)
	}
	return nums, len(fresh), nil
}
