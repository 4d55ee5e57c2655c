// Package hospital is the gateway's hospital scenario (三卡合一: the
// health code as the patient's card for building a record, registering
// and queueing; payment and insurance are out of scope). A patient
// consents by showing the code: after the scan the hospital may receive
// the patient's name, ID type and number and phone once for that scan
// (audited as a person lookup by the organisation), and give one queue
// number, which a red code does not get and a yellow code gets at the
// fever clinic, with the reason.
package hospital

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs authorises gateway callers and shows organisations to operators
// (the organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
}

// Subjects opens subject references (the gateway).
type Subjects interface {
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Persons reads a person by number (the person service), sealed fields
// opened.
type Persons interface {
	Get(ctx context.Context, num int64) (*person.Person, error)
}

// Colors is the status cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Config tunes the service.
type Config struct {
	Location *time.Location // "days" of queues (Asia/Shanghai by default)
}

// Deps are the services the hospital scenario uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Subjects Subjects
	Persons  Persons
	Colors   Colors
	Log      *slog.Logger
}

// Service hands off identities and gives queue numbers. It is safe for
// concurrent use.
type Service struct {
	db       *db.DB
	orgs     Orgs
	subjects Subjects
	persons  Persons
	colors   Colors
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{db: d.DB, orgs: d.Orgs, subjects: d.Subjects, persons: d.Persons, colors: d.Colors, cfg: cfg, log: d.Log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Purposes of an identity hand-off.
const (
	PurposeCard         = "card"         // 建卡: the hospital builds the patient's card
	PurposeRegistration = "registration" // 挂号
)

// Identity is what a hospital receives of a patient, once per scan.
type Identity struct {
	Name     string
	IDType   idnum.Type
	IDNumber string
	Phone    string // "" for a person registered without a phone
	Purpose  string
	At       time.Time
}

// Identity hands a scanned patient's identity to the hospital the scan
// was made for (scope hospital.identity), once per scan: the patient
// consented by showing the code. The lookup is audited as a person read
// by the key or account; a second request with the same reference, or one
// with another organisation's or an expired reference, is refused and
// audited too (the reference named a person); an altered one names nobody.
func (s *Service) Identity(ctx context.Context, by *auth.Principal, ref, purpose string) (*Identity, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeHospitalIdentity)
	if err != nil {
		return nil, err
	}
	if purpose != PurposeCard && purpose != PurposeRegistration {
		return nil, ErrPurposeInvalid
	}
	sub, err := s.subjects.Resolve(o, ref)
	if err != nil {
		if errors.Is(err, gateway.ErrSubjectForeign) || errors.Is(err, gateway.ErrSubjectExpired) {
			s.refused(ctx, by, o, sub.Person, purpose, err)
		}
		return nil, err
	}
	return s.HandOff(ctx, by, o, sub.Person, sub.Ref, purpose)
}

// HandOff gives organisation o, for which by acts, the identity of person
// num once for the consent ref (a scan's reference, a terminal sign-in):
// the lookup is audited as a person read by the key or account, and a
// second hand-off with the same ref is refused (409 subject_used) and
// audited too. Callers have authorised by and established the consent.
func (s *Service) HandOff(ctx context.Context, by *auth.Principal, o *org.Org, num int64, ref, purpose string) (*Identity, error) {
	p, err := s.persons.Get(ctx, num)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO hospital_handoffs (ref, org_id, person_num, purpose, at, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, ref, o.ID, p.Num, purpose, now.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrSubjectUsed.Withf("this scan handed the patient's identity over already; scan the code again (the patient consents anew)")
		}
		if err != nil {
			return fmt.Errorf("hospital: store hand-off: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "person.read", Subject: "person:" + p.ID,
			Region: p.Region, Detail: map[string]any{"full": true, "org": o.ID, "purpose": purpose, "via": "gateway"}})
		return err
	})
	if errors.Is(err, ErrSubjectUsed) {
		s.refused(ctx, by, o, p.Num, purpose, err)
	}
	if err != nil {
		return nil, err
	}
	return &Identity{Name: p.Name, IDType: p.IDType, IDNumber: p.IDNumber, Phone: p.Phone, Purpose: purpose, At: now}, nil
}

// refused audits a refused hand-off of a person the reference named: an
// attempt at personal data. The refusal stands whatever the audit does.
func (s *Service) refused(ctx context.Context, by *auth.Principal, o *org.Org, num int64, purpose string, why error) {
	p, err := s.persons.Get(ctx, num)
	if err != nil {
		s.log.Warn("hospital: audit a refused hand-off", "err", err)
		return
	}
	reason := ""
	if e, ok := apierr.As(why); ok {
		reason = e.Code
	}
	err = audit.Record(ctx, s.db, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "person.read_refused", Subject: "person:" + p.ID,
		Region: p.Region, Detail: map[string]any{"org": o.ID, "purpose": purpose, "reason": reason}})
	if err != nil {
		s.log.Warn("hospital: audit a refused hand-off", "err", err)
	}
}

// FeverDepartment is where a yellow code is sent.
const FeverDepartment = "发热门诊"

const maxDepartment = 30

// Ticket is a queue number.
type Ticket struct {
	ID         string
	Org        string
	Department string // where the patient queues
	Asked      string // the department asked for
	Number     int64  // within the department and the day, from 1
	MaskedName string
	Color      rules.Color
	// Routed is true when a yellow code was sent to the fever clinic
	// instead of the department asked for; Reasons says why.
	Routed  bool
	Reasons []string
	At      time.Time
}

func (s *Service) day(t time.Time) int64 {
	y, m, d := t.In(s.cfg.Location).Date()
	return int64(y*10000 + int(m)*100 + d)
}

// Queue gives the patient a scan referred to a queue number in the
// department asked for, once per scan, for a hospital's key (scope
// hospital.queue) or account. The colour is the patient's current one: a
// red code is refused (nothing written), a yellow one queues at the fever
// clinic with the reason color_yellow.
func (s *Service) Queue(ctx context.Context, by *auth.Principal, ref, department string) (*Ticket, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeHospitalQueue)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Hospital {
		return nil, ErrNotHospital
	}
	sub, err := s.subjects.Resolve(o, ref)
	if err != nil {
		return nil, err
	}
	department = strings.TrimSpace(department)
	if n := utf8.RuneCountInString(department); n == 0 || n > maxDepartment {
		return nil, ErrDepartmentInvalid
	}
	p, err := s.persons.Get(ctx, sub.Person)
	if err != nil {
		return nil, err
	}
	color, _ := s.colors.Color(p.Num)
	if !color.Valid() {
		color = rules.Green
	}
	t := &Ticket{ID: ids.New(), Org: o.ID, Department: department, Asked: department, MaskedName: idnum.MaskName(p.Name),
		Color: color, Reasons: []string{}, At: s.now().UTC().Truncate(time.Millisecond)}
	switch color {
	case rules.Red:
		return nil, ErrRefusedRed
	case rules.Yellow:
		t.Reasons = []string{codes.ReasonYellow}
		if department != FeverDepartment {
			t.Department, t.Routed = FeverDepartment, true
		}
	}
	day := s.day(t.At)
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO hospital_queue_counters (org_id, day, department, last) VALUES ($1, $2, $3, 1)
			ON CONFLICT (org_id, day, department) DO UPDATE SET last = hospital_queue_counters.last + 1
			RETURNING last`, o.ID, day, t.Department).Scan(&t.Number)
		if err != nil {
			return fmt.Errorf("hospital: next queue number: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hospital_tickets (id, ref, org_id, day, department, asked, number, person_num,
				masked_name, color, routed, at, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			t.ID, sub.Ref, o.ID, day, t.Department, t.Asked, t.Number, p.Num, t.MaskedName, color.String(), t.Routed,
			t.At.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrSubjectUsed.Withf("this scan has a queue number already; scan the patient's code again for another")
		}
		if err != nil {
			return fmt.Errorf("hospital: store ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ParseDay reads a day ("2022-04-01") in the deployment's zone; "" is today.
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		y, m, d := s.now().In(s.cfg.Location).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Location)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

// DepartmentCount is how many numbers a department gave on a day.
type DepartmentCount struct {
	Department string
	Count      int64
}

// Day is a hospital's queue of one day.
type Day struct {
	Org     *org.Org
	Day     time.Time
	Tickets []*Ticket // in the order given
	Counts  []DepartmentCount
	Routed  int64 // yellow codes sent to the fever clinic
}

// maxDay bounds one day's list.
const maxDay = 5000

// Tickets is a hospital's queue of a day: for its own keys (scope
// hospital.queue) and accounts, with orgID "" or their own; for operators
// who read organisations, of a hospital in their scope.
func (s *Service) Tickets(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Day, error) {
	var o *org.Org
	var err error
	if by != nil && by.Org != "" {
		if o, err = s.orgs.Authorize(ctx, by, org.ScopeHospitalQueue); err != nil {
			return nil, err
		}
		if orgID != "" && orgID != o.ID {
			return nil, org.ErrNotFound
		}
	} else {
		if orgID == "" {
			return nil, ErrOrgMissing
		}
		if o, err = s.orgs.Get(ctx, by, orgID); err != nil {
			return nil, err
		}
	}
	if o.Kind != org.Hospital {
		return nil, ErrNotHospital.Withf("%s is not a hospital", o.Name)
	}
	d := &Day{Org: o, Day: day, Tickets: []*Ticket{}}
	counts := map[string]int64{}
	var order []string
	err = db.Each(ctx, s.db, `SELECT id, department, asked, number, masked_name, color, routed, at FROM hospital_tickets
		WHERE org_id = $1 AND day = $2 ORDER BY at, id LIMIT $3`, []any{o.ID, s.day(day), maxDay}, func(sc db.Scanner) error {
		t := &Ticket{Org: o.ID, Reasons: []string{}}
		var color string
		var at int64
		if err := sc.Scan(&t.ID, &t.Department, &t.Asked, &t.Number, &t.MaskedName, &color, &t.Routed, &at); err != nil {
			return err
		}
		t.Color, _ = rules.ParseColor(color)
		t.At = db.Time(at)
		if t.Color == rules.Yellow {
			t.Reasons = []string{codes.ReasonYellow}
		}
		if t.Routed {
			d.Routed++
		}
		if _, ok := counts[t.Department]; !ok {
			order = append(order, t.Department)
		}
		counts[t.Department]++
		d.Tickets = append(d.Tickets, t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hospital: tickets: %w", err)
	}
	for _, dep := range order {
		d.Counts = append(d.Counts, DepartmentCount{dep, counts[dep]})
	}
	return d, nil
}
