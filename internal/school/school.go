// Package school is the gateway's school scenario: a school keeps its
// classes and pupils (each pupil a person who is a dependent of a parent:
// the parent enrols the child with the class's join code from their own
// page, or the school scans the child's code), takes the morning and noon
// checks (晨午检: temperature and symptoms, reported by the parent from
// their phone or taken at the gate or in class), admits pupils at the gate
// by a health code, a printed care code or a signed test certificate
// (有码认码、有单认单: each verified by its signature), and reads the day per
// class and for the school: reported, fever, symptoms and the absentees
// (no report).
package school

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"github.com/healthcode/healthcode/internal/ratelimit"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs authorises gateway callers and names organisations.
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Public(ctx context.Context, id string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
	List(ctx context.Context, by *auth.Principal, f org.Filter) ([]*org.Org, error)
}

// Scanner scans codes for an organisation and opens the references it
// answers (the gateway).
type Scanner interface {
	Scan(ctx context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error)
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Persons says whom a resident acts for (the person service).
type Persons interface {
	ActingFor(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error)
}

// Deps are the services the school scenario uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Gateway  Scanner
	Persons  Persons
	Location *time.Location // "days" (Asia/Shanghai by default)
}

// Service keeps classes, pupils, checks and entries. It is safe for
// concurrent use.
type Service struct {
	db      *db.DB
	orgs    Orgs
	gw      Scanner
	persons Persons
	loc     *time.Location
	now     func() time.Time
	// wrongJoins bounds guessing of join codes (40 bits, but a province
	// has many classes) per account.
	wrongJoins *ratelimit.Guesses
}

// New returns the service.
func New(d Deps) *Service {
	if d.Location == nil {
		d.Location = time.FixedZone("CST", 8*3600)
	}
	s := &Service{db: d.DB, orgs: d.Orgs, gw: d.Gateway, persons: d.Persons, loc: d.Location, now: time.Now}
	s.wrongJoins = ratelimit.NewGuesses(10, 6*time.Minute, ErrJoinLimited, func() time.Time { return s.now() })
	return s
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// The checks of a school day.
const (
	Morning = "morning" // 晨检
	Noon    = "noon"    // 午检
)

// Slots lists them in the day's order.
var Slots = []string{Morning, Noon}

// Where a check was taken.
const (
	ByParent = "parent"
	ByGate   = "gate"
	ByClass  = "class"
)

// CertificateMaxAge is how old a test certificate's swab may be for a
// paper slip to admit at the gate.
const CertificateMaxAge = 72 * time.Hour

// Reasons a pupil is refused at the gate besides the code's own.
const (
	ReasonCertificatePositive = "certificate_positive"
	ReasonCertificateStale    = "certificate_stale"
)

func (s *Service) schoolOf(ctx context.Context, by *auth.Principal) (*org.Org, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeSchoolCheck)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.School {
		return nil, ErrNotSchool
	}
	return o, nil
}

// Class is a class of a school.
type Class struct {
	ID       string
	Name     string
	JoinCode string // parents enrol their children with it
	Pupils   int
}

// Pupil is a pupil as the school sees them: a masked name.
type Pupil struct {
	ID         string
	ClassID    string
	MaskedName string
	num        int64
}

func joinCode() string {
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [8]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(b[:])
}

// CreateClass adds a class to the school.
func (s *Service) CreateClass(ctx context.Context, by *auth.Principal, name string) (*Class, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	return s.createClass(ctx, o, by.Actor(), name)
}

// CreateClassFor adds a class to a school as the platform (the demo).
func (s *Service) CreateClassFor(ctx context.Context, orgID, name string) (*Class, error) {
	o, err := s.orgs.Public(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.createClass(ctx, o, "system", name)
}

func (s *Service) createClass(ctx context.Context, o *org.Org, actor, name string) (*Class, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 30 {
		return nil, ErrClassNameInvalid
	}
	c := &Class{ID: ids.New(), Name: name, JoinCode: joinCode()}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM school_classes WHERE org_id = $1 AND name = $2`, o.ID, name).Scan(&n); err != nil {
			return fmt.Errorf("school: class by name: %w", err)
		}
		if n > 0 {
			return ErrClassExists.Withf("the school already has a class %q", name)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO school_classes (id, org_id, name, join_code, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, o.ID, c.Name, c.JoinCode, s.now().UnixMilli()); err != nil {
			return fmt.Errorf("school: create class: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: actor, Action: "school.class_create", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"class": c.ID, "name": c.Name}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Classes lists the school's classes by name, with their sizes.
func (s *Service) Classes(ctx context.Context, by *auth.Principal) ([]*Class, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	return s.classes(ctx, s.db, o.ID)
}

func (s *Service) classes(ctx context.Context, q db.Querier, orgID string) ([]*Class, error) {
	out, err := db.Collect(ctx, q, `SELECT c.id, c.name, c.join_code, (SELECT COUNT(*) FROM school_pupils p WHERE p.class_id = c.id)
		FROM school_classes c WHERE c.org_id = $1 ORDER BY c.name`, []any{orgID}, func(sc db.Scanner) (*Class, error) {
		var c Class
		return &c, sc.Scan(&c.ID, &c.Name, &c.JoinCode, &c.Pupils)
	})
	if err != nil {
		return nil, fmt.Errorf("school: classes: %w", err)
	}
	return out, nil
}

func (s *Service) class(ctx context.Context, orgID, id string) (*Class, error) {
	var c Class
	err := s.db.QueryRowContext(ctx, `SELECT id, name, join_code FROM school_classes WHERE id = $1 AND org_id = $2`, id, orgID).
		Scan(&c.ID, &c.Name, &c.JoinCode)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrClassNotFound.Withf("no class %q at this school", id)
	}
	if err != nil {
		return nil, fmt.Errorf("school: class: %w", err)
	}
	return &c, nil
}

// Pupils lists a class's pupils by name.
func (s *Service) Pupils(ctx context.Context, by *auth.Principal, classID string) (*Class, []*Pupil, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.class(ctx, o.ID, classID)
	if err != nil {
		return nil, nil, err
	}
	ps, err := db.Collect(ctx, s.db, `SELECT id, class_id, masked_name, person_num FROM school_pupils WHERE class_id = $1 ORDER BY masked_name, id`,
		[]any{c.ID}, scanPupil)
	if err != nil {
		return nil, nil, fmt.Errorf("school: pupils: %w", err)
	}
	return c, ps, nil
}

func scanPupil(sc db.Scanner) (*Pupil, error) {
	var p Pupil
	return &p, sc.Scan(&p.ID, &p.ClassID, &p.MaskedName, &p.num)
}

// Enrol adds the child whose code the school scanned to a class.
func (s *Service) Enrol(ctx context.Context, by *auth.Principal, classID, code string) (*Pupil, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	c, err := s.class(ctx, o.ID, classID)
	if err != nil {
		return nil, err
	}
	sc, err := s.gw.Scan(ctx, by, gateway.ScanInput{Code: code})
	if err != nil {
		return nil, err
	}
	sub, err := s.gw.Resolve(o, sc.Subject)
	if err != nil {
		return nil, err
	}
	return s.enrol(ctx, o, c, sub.Person, sc.MaskedName, by.Actor())
}

// Join enrols a parent's dependent in the class with the join code the
// school gave them. Only a dependent of the parent's account may be
// enrolled this way (person.ActingFor), never the parent themselves.
func (s *Service) Join(ctx context.Context, by *auth.Principal, classCode, personID string) (*Enrolment, error) {
	child, err := s.child(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	if err := s.wrongJoins.Check(by.Actor()); err != nil {
		return nil, err
	}
	classCode = strings.ToUpper(strings.TrimSpace(classCode))
	var orgID string
	var c Class
	err = s.db.QueryRowContext(ctx, `SELECT id, org_id, name, join_code FROM school_classes WHERE join_code = $1`, classCode).
		Scan(&c.ID, &orgID, &c.Name, &c.JoinCode)
	if errors.Is(err, sql.ErrNoRows) || classCode == "" {
		s.wrongJoins.Wrong(by.Actor())
		return nil, ErrClassCodeUnknown
	}
	if err != nil {
		return nil, fmt.Errorf("school: class by code: %w", err)
	}
	o, err := s.orgs.Public(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p, err := s.enrol(ctx, o, &c, child.Num, child.MaskedName, by.Actor())
	if err != nil {
		return nil, err
	}
	return &Enrolment{Pupil: p, PersonID: child.ID, School: o, Class: c.Name}, nil
}

// child is a dependent of the resident; the resident themselves is not.
func (s *Service) child(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error) {
	if by == nil || by.Kind != auth.Resident {
		return person.Profile{}, ErrParentOnly
	}
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return person.Profile{}, err
	}
	if personID == "" || personID == me.ID {
		return person.Profile{}, ErrParentOnly.Withf("choose one of your dependents: a pupil is enrolled and reported by a parent")
	}
	return s.persons.ActingFor(ctx, by, personID)
}

func (s *Service) enrol(ctx context.Context, o *org.Org, c *Class, num int64, masked, actor string) (*Pupil, error) {
	p := &Pupil{ID: ids.New(), ClassID: c.ID, MaskedName: masked, num: num}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM school_pupils WHERE org_id = $1 AND person_num = $2`, o.ID, num).Scan(&n); err != nil {
			return fmt.Errorf("school: pupil of person: %w", err)
		}
		if n > 0 {
			return ErrPupilEnrolled
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO school_pupils (id, org_id, class_id, person_num, masked_name, enrolled_at, enrolled_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, o.ID, c.ID, num, masked, s.now().UnixMilli(), actor); err != nil {
			return fmt.Errorf("school: enrol: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: actor, Action: "school.enrol", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"class": c.ID, "pupil": p.ID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ImportPupil is a pupil enrolled in bulk by the platform.
type ImportPupil struct {
	Num        int64
	MaskedName string
}

// ImportPupils enrols persons in a class in batches, as the platform (the
// demo and benchmarks); persons already pupils of the school are skipped.
func (s *Service) ImportPupils(ctx context.Context, classID string, ps []ImportPupil) error {
	var orgID string
	if err := s.db.QueryRowContext(ctx, `SELECT org_id FROM school_classes WHERE id = $1`, classID).Scan(&orgID); err != nil {
		return fmt.Errorf("school: import pupils: class %s: %w", classID, err)
	}
	ins := db.Insert{Head: `INSERT INTO school_pupils (id, org_id, class_id, person_num, masked_name, enrolled_at, enrolled_by) VALUES `,
		Cols: 7, Tail: ` ON CONFLICT DO NOTHING`}
	args := make([]any, 0, len(ps)*7)
	now := s.now().UnixMilli()
	for _, p := range ps {
		args = append(args, ids.New(), orgID, classID, p.Num, p.MaskedName, now, "system")
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := ins.Exec(ctx, tx, s.db.Engine(), args); err != nil {
			return fmt.Errorf("school: import pupils: %w", err)
		}
		return nil
	})
}

// CheckInput is a morning or noon check.
type CheckInput struct {
	Slot        string
	Temperature float64 // °C
	Symptoms    []string
}

func (in CheckInput) check() (CheckInput, error) {
	if !slices.Contains(Slots, in.Slot) {
		return in, ErrSlotInvalid
	}
	if math.IsNaN(in.Temperature) || in.Temperature < 34 || in.Temperature > 43 {
		return in, ErrTemperatureInvalid
	}
	in.Temperature = math.Round(in.Temperature*10) / 10
	var syms []string
	for _, sym := range in.Symptoms {
		sym = strings.TrimSpace(sym)
		if !slices.ContainsFunc(fact.Symptoms, func(x fact.Symptom) bool { return x.Code == sym }) || slices.Contains(syms, sym) {
			return in, ErrSymptomsInvalid.Withf("unknown or repeated symptom %q", sym)
		}
		syms = append(syms, sym)
	}
	in.Symptoms = syms
	return in, nil
}

// Check is a pupil's check as stored.
type Check struct {
	PupilID     string
	Day         time.Time
	Slot        string
	Temperature float64
	Symptoms    []string
	Source      string
	At          time.Time
}

// Fever reports whether the check measured a fever.
func (c *Check) Fever() bool { return c.Temperature >= fact.FeverCelsius }

// Enrolment is a child's place at a school, as the parent sees it.
type Enrolment struct {
	Pupil    *Pupil
	PersonID string
	School   *org.Org
	Class    string
	Today    map[string]*Check // by slot
}

// Report records a parent's check of their child for today; a later
// report of the same check replaces it.
func (s *Service) Report(ctx context.Context, by *auth.Principal, personID string, in CheckInput) (*Check, error) {
	child, err := s.child(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	var p Pupil
	var orgID string
	err = s.db.QueryRowContext(ctx, `SELECT id, class_id, masked_name, org_id FROM school_pupils WHERE person_num = $1 ORDER BY enrolled_at DESC LIMIT 1`,
		child.Num).Scan(&p.ID, &p.ClassID, &p.MaskedName, &orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, fmt.Errorf("school: pupil of child: %w", err)
	}
	return s.record(ctx, orgID, &p, in, ByParent, by.Actor())
}

// ClassCheck records a check a teacher took in class; a pupil of another
// class is a 404.
func (s *Service) ClassCheck(ctx context.Context, by *auth.Principal, classID, pupilID string, in CheckInput) (*Check, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	c, err := s.class(ctx, o.ID, classID)
	if err != nil {
		return nil, err
	}
	p, err := scanPupil(s.db.QueryRowContext(ctx, `SELECT id, class_id, masked_name, person_num FROM school_pupils WHERE id = $1 AND class_id = $2`,
		strings.TrimSpace(pupilID), c.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrPupilNotInClass.Withf("pupil %q is not in class %s", pupilID, c.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("school: pupil: %w", err)
	}
	if in, err = in.check(); err != nil {
		return nil, err
	}
	return s.record(ctx, o.ID, p, in, ByClass, by.Actor())
}

func (s *Service) record(ctx context.Context, orgID string, p *Pupil, in CheckInput, source, actor string) (*Check, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	c := &Check{PupilID: p.ID, Day: s.dayOf(now), Slot: in.Slot, Temperature: in.Temperature, Symptoms: in.Symptoms, Source: source, At: now}
	day := c.Day.Format(time.DateOnly)
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM school_checks WHERE pupil_id = $1 AND day = $2 AND slot = $3`, p.ID, day, in.Slot); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO school_checks (pupil_id, day, slot, org_id, class_id, temperature, symptoms, source, at, by_actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, p.ID, day, in.Slot, orgID, p.ClassID, int64(math.Round(in.Temperature*10)),
			strings.Join(in.Symptoms, ","), source, now.UnixMilli(), actor)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("school: record check: %w", err)
	}
	return c, nil
}

// ImportCheck is a check recorded in bulk by the platform.
type ImportCheck struct {
	PupilID     string
	Slot        string
	Temperature float64
	Symptoms    []string
	Source      string
	At          time.Time
}

// ImportChecks records checks in batches, as the platform (the demo and
// benchmarks); a check already there is kept.
func (s *Service) ImportChecks(ctx context.Context, cs []ImportCheck) error {
	pupils := map[string][2]string{}
	err := db.Each(ctx, s.db, `SELECT id, org_id, class_id FROM school_pupils`, nil, func(sc db.Scanner) error {
		var id, o, c string
		err := sc.Scan(&id, &o, &c)
		pupils[id] = [2]string{o, c}
		return err
	})
	if err != nil {
		return fmt.Errorf("school: import checks: %w", err)
	}
	ins := db.Insert{Head: `INSERT INTO school_checks (pupil_id, day, slot, org_id, class_id, temperature, symptoms, source, at, by_actor) VALUES `,
		Cols: 10, Tail: ` ON CONFLICT DO NOTHING`}
	args := make([]any, 0, len(cs)*10)
	for _, c := range cs {
		oc, ok := pupils[c.PupilID]
		if !ok {
			return fmt.Errorf("school: import checks: no pupil %s", c.PupilID)
		}
		args = append(args, c.PupilID, s.dayOf(c.At).Format(time.DateOnly), c.Slot, oc[0], oc[1], int64(math.Round(c.Temperature*10)),
			strings.Join(c.Symptoms, ","), c.Source, c.At.UnixMilli(), "system")
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := ins.Exec(ctx, tx, s.db.Engine(), args)
		return err
	})
}

// GateInput is a scan at the school gate: a health code, a printed care
// code or a test certificate; with the check it is for and, measured at
// the gate, the temperature (recorded as that check).
type GateInput struct {
	Code        string
	Slot        string  // "" is morning before noon, else noon
	Temperature float64 // 0: not measured
}

// Entry is the gate's answer.
type Entry struct {
	Pupil      *Pupil
	Class      string
	Kind       string // dynamic, care or certificate
	Color      rules.Color
	Admitted   bool
	Reasons    []string
	Result     string // a certificate's result
	ResultAt   time.Time
	At         time.Time
	MaskedName string
}

// Gate admits a pupil at the gate (有码认码、有单认单). The code is checked by
// the gateway (signature, expiry, revocation: an invalid one is its 422
// and writes nothing here); a certificate admits when negative and at most
// 72 hours old and the holder is green now; a fever measured at the gate
// refuses. Each entry of a pupil is recorded, admitted or with its reasons.
func (s *Service) Gate(ctx context.Context, by *auth.Principal, in GateInput) (*Entry, error) {
	o, err := s.schoolOf(ctx, by)
	if err != nil {
		return nil, err
	}
	measured := in.Temperature != 0
	if measured {
		if math.IsNaN(in.Temperature) || in.Temperature < 34 || in.Temperature > 43 {
			return nil, ErrTemperatureInvalid
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if in.Slot == "" {
		in.Slot = Morning
		if now.In(s.loc).Hour() >= 11 {
			in.Slot = Noon
		}
	}
	if !slices.Contains(Slots, in.Slot) {
		return nil, ErrSlotInvalid
	}
	sc, err := s.gw.Scan(ctx, by, gateway.ScanInput{Code: in.Code, Slip: true})
	if err != nil {
		return nil, err
	}
	sub, err := s.gw.Resolve(o, sc.Subject)
	if err != nil {
		return nil, err
	}
	p, err := scanPupil(s.db.QueryRowContext(ctx, `SELECT id, class_id, masked_name, person_num FROM school_pupils WHERE org_id = $1 AND person_num = $2`,
		o.ID, sub.Person))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrPupilNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("school: pupil of person: %w", err)
	}
	e := &Entry{Pupil: p, Kind: sc.Kind, Color: sc.Color, Admitted: sc.Admitted, Reasons: slices.Clone(sc.Reasons), Result: sc.Result,
		ResultAt: sc.ResultAt, At: now, MaskedName: sc.MaskedName}
	if sc.Kind == codeformat.KindCertificate.String() {
		switch {
		case sc.Result != fact.ResultNegative:
			e.Admitted, e.Reasons = false, append(e.Reasons, ReasonCertificatePositive)
		case now.Sub(sc.ResultAt) > CertificateMaxAge:
			e.Admitted, e.Reasons = false, append(e.Reasons, ReasonCertificateStale)
		}
	}
	if measured && in.Temperature >= fact.FeverCelsius {
		e.Admitted, e.Reasons = false, append(e.Reasons, codes.ReasonFever)
	}
	reason := ""
	if len(e.Reasons) > 0 {
		reason = e.Reasons[0]
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO school_entries (id, org_id, pupil_id, day, at, kind, admitted, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, ids.New(), o.ID, p.ID, s.dayOf(now).Format(time.DateOnly), now.UnixMilli(), e.Kind, e.Admitted, reason)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("school: record entry: %w", err)
	}
	if measured {
		if _, err := s.record(ctx, o.ID, p, CheckInput{Slot: in.Slot, Temperature: math.Round(in.Temperature*10) / 10}, ByGate, by.Actor()); err != nil {
			return nil, err
		}
	}
	if c, err := s.class(ctx, o.ID, p.ClassID); err == nil {
		e.Class = c.Name
	}
	return e, nil
}

// Children lists the enrolments of the resident's dependents, with today's
// checks.
func (s *Service) Children(ctx context.Context, by *auth.Principal, deps []person.Profile) ([]*Enrolment, error) {
	var out []*Enrolment
	today := s.dayOf(s.now()).Format(time.DateOnly)
	for _, d := range deps {
		if _, err := s.persons.ActingFor(ctx, by, d.ID); err != nil {
			return nil, err
		}
		var p Pupil
		var orgID, class string
		err := s.db.QueryRowContext(ctx, `SELECT p.id, p.class_id, p.masked_name, p.org_id, c.name FROM school_pupils p
			JOIN school_classes c ON c.id = p.class_id WHERE p.person_num = $1 ORDER BY p.enrolled_at DESC LIMIT 1`, d.Num).
			Scan(&p.ID, &p.ClassID, &p.MaskedName, &orgID, &class)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("school: enrolment: %w", err)
		}
		o, err := s.orgs.Public(ctx, orgID)
		if err != nil {
			return nil, err
		}
		e := &Enrolment{Pupil: &p, PersonID: d.ID, School: o, Class: class, Today: map[string]*Check{}}
		err = db.Each(ctx, s.db, `SELECT slot, temperature, symptoms, source, at FROM school_checks WHERE pupil_id = $1 AND day = $2`,
			[]any{p.ID, today}, func(sc db.Scanner) error {
				c := &Check{PupilID: p.ID}
				var t, at int64
				var syms string
				if err := sc.Scan(&c.Slot, &t, &syms, &c.Source, &at); err != nil {
					return err
				}
				c.Temperature, c.At = float64(t)/10, db.Time(at)
				if syms != "" {
					c.Symptoms = strings.Split(syms, ",")
				}
				e.Today[c.Slot] = c
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("school: checks: %w", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ParseDay reads a day ("" is today).
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		return s.dayOf(s.now()), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.loc)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// ParseSlot reads a check ("" is morning).
func ParseSlot(v string) (string, error) {
	if v == "" {
		return Morning, nil
	}
	if !slices.Contains(Slots, v) {
		return "", ErrSlotInvalid
	}
	return v, nil
}

func (s *Service) dayOf(t time.Time) time.Time {
	y, m, d := t.In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.loc)
}
