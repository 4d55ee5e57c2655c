// Package person registers people and finds them: residents registering the
// person behind their phone, dependents (代办) registered by a family member,
// and people registered on their behalf by operators. One identity number is
// one person. Name, identity number and phone are sealed at rest and found by
// blind index; every operator read is audited.
package person

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/secret"
)

// Person is a registered person, decrypted.
type Person struct {
	Num       int64
	ID        string
	IDType    idnum.Type
	IDNumber  string
	Name      string
	Phone     string // "" for dependents without a phone of their own
	Region    string
	BirthYear int
	CreatedAt time.Time
	HasPhone  bool // registered by themselves (an account) rather than for them
}

// Masked is what screens show of a person.
type Masked struct {
	ID       string
	Name     string
	IDType   idnum.Type
	IDNumber string
	Phone    string
	Region   string
}

// Masked returns the display form.
func (p *Person) Masked() Masked {
	m := Masked{ID: p.ID, Name: idnum.MaskName(p.Name), IDType: p.IDType, IDNumber: idnum.MaskNumber(p.IDNumber), Region: p.Region}
	if p.Phone != "" {
		m.Phone = idnum.MaskPhone(p.Phone)
	}
	return m
}

// Full returns the unmasked form, for roles permitted to see it.
func (p *Person) Full() Masked {
	return Masked{ID: p.ID, Name: p.Name, IDType: p.IDType, IDNumber: p.IDNumber, Phone: p.Phone, Region: p.Region}
}

// For is the form reader may see: unmasked for an operator whose role has
// person.read_full, masked for everyone else (residents too: their pages
// show their own number masked, as it is on screen in public).
func (p *Person) For(reader *auth.Principal) Masked {
	if reader.Can(auth.PersonReadFull) {
		return p.Full()
	}
	return p.Masked()
}

// RegionValidator checks region codes.
type RegionValidator interface {
	Validate(code string) error
}

// Config holds the service's settings.
type Config struct {
	Region        string // the deployment's region: where people live unless they say otherwise
	MaxDependents int    // dependents per account (default 4, as Beijing allowed)
}

// Service registers and finds persons. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	keys    *secret.Keyring
	handles *Handles
	regions RegionValidator
	cfg     Config
	now     func() time.Time
	byAcct  *cache
}

// New returns the service.
func New(d *db.DB, keys *secret.Keyring, regions RegionValidator, cfg Config) (*Service, error) {
	if cfg.MaxDependents == 0 {
		cfg.MaxDependents = 4
	}
	h, err := NewHandles(keys.Derive("person/handle", 32))
	if err != nil {
		return nil, err
	}
	return &Service{db: d, keys: keys, handles: h, regions: regions, cfg: cfg, now: time.Now, byAcct: newCache(1 << 20)}, nil
}

// Handles is the handle permutation, for codes.
func (s *Service) Handles() *Handles { return s.handles }

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Input is what registration takes.
type Input struct {
	Name     string
	IDType   string
	IDNumber string
	Phone    string // operators registering on behalf; residents' own phone comes from the login
	Region   string // residential region; the deployment's region if empty
	Relation string
}

type checked struct {
	name   string
	id     idnum.ID
	phone  string
	region string
}

func (s *Service) check(in Input) (checked, error) {
	var c checked
	c.name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(c.name); n == 0 || n > 64 {
		return c, ErrNameInvalid
	}
	for _, r := range c.name {
		if r < ' ' || r == 0x7f {
			return c, ErrNameInvalid.Withf("name contains control characters")
		}
	}
	t, err := idnum.ParseType(in.IDType)
	if err != nil {
		return c, err
	}
	if c.id, err = idnum.ParseAt(t, in.IDNumber, s.now()); err != nil {
		return c, err
	}
	if in.Phone != "" {
		if c.phone, err = idnum.NormalizePhone(in.Phone); err != nil {
			return c, err
		}
	}
	c.region = in.Region
	if c.region == "" {
		c.region = s.cfg.Region
	}
	if err := s.regions.Validate(c.region); err != nil {
		return c, err
	}
	return c, nil
}

func (s *Service) idHash(id idnum.ID) []byte {
	return s.keys.BlindIndex("id", string(id.Type)+":"+id.Number)
}

func (s *Service) nameHash(name string) []byte { return s.keys.BlindIndex("name", name) }

// insert stores a new person in tx. A duplicate identity number is a 409.
func (s *Service) insert(ctx context.Context, tx db.Tx, c checked, by string) (*Person, error) {
	num, err := db.NextVal(ctx, tx, "persons", 1)
	if err != nil {
		return nil, err
	}
	p := &Person{Num: num, ID: s.handles.ID(num), IDType: c.id.Type, IDNumber: c.id.Number, Name: c.name,
		Phone: c.phone, Region: c.region, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if !c.id.Birth.IsZero() {
		p.BirthYear = c.id.Birth.Year()
	}
	var phoneHash, phoneEnc []byte
	if c.phone != "" {
		phoneHash, phoneEnc = s.keys.BlindIndex("phone", c.phone), s.keys.SealString(c.phone, "persons.phone:"+p.ID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc,
		phone_hash, phone_enc, region_code, birth_year, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		p.Num, p.ID, string(p.IDType), s.idHash(c.id), s.keys.SealString(p.IDNumber, "persons.id_number:"+p.ID),
		s.nameHash(p.Name), s.keys.SealString(p.Name, "persons.name:"+p.ID), phoneHash, phoneEnc,
		p.Region, sql.NullInt64{Int64: int64(p.BirthYear), Valid: p.BirthYear != 0}, p.CreatedAt.UnixMilli(), by)
	if db.IsUniqueViolation(err) {
		return nil, ErrExists
	}
	if err != nil {
		return nil, fmt.Errorf("person: insert: %w", err)
	}
	return p, nil
}

const personCols = `p.num, p.id, p.id_type, p.id_enc, p.name_enc, p.phone_enc, p.region_code, p.birth_year, p.created_at,
	EXISTS (SELECT 1 FROM accounts a WHERE a.person_num = p.num)`

func (s *Service) scan(row interface{ Scan(...any) error }) (*Person, error) {
	var p Person
	var idType string
	var idEnc, nameEnc, phoneEnc []byte
	var birth sql.NullInt64
	var at int64
	if err := row.Scan(&p.Num, &p.ID, &idType, &idEnc, &nameEnc, &phoneEnc, &p.Region, &birth, &at, &p.HasPhone); err != nil {
		return nil, err
	}
	p.IDType, p.BirthYear, p.CreatedAt = idnum.Type(idType), int(birth.Int64), db.Time(at)
	var err error
	if p.IDNumber, err = s.keys.OpenString(idEnc, "persons.id_number:"+p.ID); err != nil {
		return nil, fmt.Errorf("person %s: id number: %w", p.ID, err)
	}
	if p.Name, err = s.keys.OpenString(nameEnc, "persons.name:"+p.ID); err != nil {
		return nil, fmt.Errorf("person %s: name: %w", p.ID, err)
	}
	if phoneEnc != nil {
		if p.Phone, err = s.keys.OpenString(phoneEnc, "persons.phone:"+p.ID); err != nil {
			return nil, fmt.Errorf("person %s: phone: %w", p.ID, err)
		}
	}
	return &p, nil
}

func (s *Service) one(ctx context.Context, q db.Querier, where string, args ...any) (*Person, error) {
	p, err := s.scan(q.QueryRowContext(ctx, `SELECT `+personCols+` FROM persons p WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("person: read: %w", err)
	}
	return p, nil
}

// Get returns the person with the internal number (no audit: for the
// system's own use, not for operator lookups).
func (s *Service) Get(ctx context.Context, num int64) (*Person, error) {
	return s.one(ctx, s.db, `p.num = $1`, num)
}

// GetByID returns the person with the public id (no audit; see Lookup).
func (s *Service) GetByID(ctx context.Context, id string) (*Person, error) {
	num, err := s.handles.ParseID(id)
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, num)
}

// FindByIDNumber returns the person with an identity number (no audit;
// callers that act for an operator or a checkpoint audit the lookup).
func (s *Service) FindByIDNumber(ctx context.Context, idType, number string) (*Person, error) {
	t, err := idnum.ParseType(idType)
	if err != nil {
		return nil, err
	}
	id, err := idnum.ParseAt(t, number, s.now())
	if err != nil {
		return nil, err
	}
	return s.one(ctx, s.db, `p.id_hash = $1`, s.idHash(id))
}
