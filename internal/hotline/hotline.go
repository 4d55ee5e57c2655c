// Package hotline keeps the 12345 hotline's tickets about health codes (a
// wrong colour, a wrong identity, a person who cannot register): each is
// routed to the person's region (or, for someone not registered, the
// region the caller names), has a deadline by its category, and is linked
// to the person's appeal or to a correction of their record by an
// authorised operator before it is closed.
package hotline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
)

// Categories of tickets, with the hours to resolve them.
const (
	WrongColor     = "wrong_color"     // the code's colour is wrong
	WrongIdentity  = "wrong_identity"  // the name or ID on the code is wrong
	CannotRegister = "cannot_register" // registering fails
)

// Categories lists them in the order forms show them.
var Categories = []string{WrongColor, WrongIdentity, CannotRegister}

// deadlines: a wrong colour keeps someone out of everywhere, so it is the
// most urgent.
var deadlines = map[string]time.Duration{WrongColor: 24 * time.Hour, WrongIdentity: 72 * time.Hour, CannotRegister: 48 * time.Hour}

// Persons finds and corrects persons (the person service).
type Persons interface {
	Lookup(ctx context.Context, by *auth.Principal, id string) (*person.Person, error)
	FindByIDNumber(ctx context.Context, idType, number string) (*person.Person, error)
	Get(ctx context.Context, num int64) (*person.Person, error)
	Correct(ctx context.Context, by *auth.Principal, id string, in person.Correction) (*person.Corrected, error)
}

// Appeals lists a person's appeals (the status service).
type Appeals interface {
	PersonAppeals(ctx context.Context, num int64) ([]*status.Appeal, error)
}

// RegionValidator checks region codes.
type RegionValidator interface {
	Validate(code string) error
}

// Service keeps the tickets. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	persons Persons
	appeals Appeals
	regions RegionValidator
	now     func() time.Time
}

// New returns the service.
func New(d *db.DB, persons Persons, appeals Appeals, regions RegionValidator) *Service {
	return &Service{db: d, persons: persons, appeals: appeals, regions: regions, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// States of a ticket; overdue is an open one past its deadline.
const (
	Open    = "open"
	Closed  = "closed"
	Overdue = "overdue"
)

// Ticket is a hotline ticket.
type Ticket struct {
	ID, Category         string
	PersonID, MaskedName string // empty for someone not registered
	Person               int64
	Region               string
	Summary              string
	State                string
	OpenedAt, Deadline   time.Time
	OpenedBy             string
	AppealID             string
	CorrectedAt          time.Time
	CorrectedBy          string
	Correction           *CorrectionRecord
	ClosedAt             time.Time
	ClosedBy, Resolution string
}

// CorrectionRecord is what a ticket keeps of a correction: the fields and
// the values before and after, masked.
type CorrectionRecord struct {
	Fields []string          `json:"fields"`
	Before map[string]string `json:"before"`
	After  map[string]string `json:"after"`
}

// IsOverdue reports whether the ticket is open past its deadline at now.
func (t *Ticket) IsOverdue(now time.Time) bool { return t.State == Open && now.After(t.Deadline) }

// Input opens a ticket.
type Input struct {
	Category string
	Summary  string
	PersonID string // the person the call is about, or:
	IDType   string
	IDNumber string
	Region   string // for someone not registered: where to route the ticket
}

func cleanText(s string, max int) (string, bool) {
	s = strings.TrimSpace(s)
	c, err := idnum.CleanText("text", s)
	return c, err == nil && c != "" && utf8.RuneCountInString(c) <= max
}

// OpenTicket opens a ticket for an operator with hotline.write: routed to
// the person's region (a lookup by identity number is audited), or to the
// region given for someone not registered, inside the operator's scope.
func (s *Service) OpenTicket(ctx context.Context, by *auth.Principal, in Input) (*Ticket, error) {
	if err := by.Require(auth.HotlineWrite); err != nil {
		return nil, err
	}
	if !slices.Contains(Categories, in.Category) {
		return nil, ErrCategoryInvalid
	}
	summary, ok := cleanText(in.Summary, 500)
	if !ok {
		return nil, ErrSummaryInvalid
	}
	now := s.clock()
	t := &Ticket{ID: ids.New(), Category: in.Category, Summary: summary, State: Open, OpenedAt: now, Deadline: now.Add(deadlines[in.Category]),
		OpenedBy: by.Actor()}
	var p *person.Person
	var err error
	switch {
	case in.PersonID != "":
		if p, err = s.persons.Lookup(ctx, by, strings.TrimSpace(in.PersonID)); err != nil {
			return nil, err
		}
	case in.IDNumber != "":
		t := in.IDType
		if t == "" {
			t = string(idnum.ResidentID)
		}
		p, err = s.persons.FindByIDNumber(ctx, t, strings.TrimSpace(in.IDNumber))
		if err != nil && !(errors.Is(err, person.ErrNotFound) && in.Category == CannotRegister) {
			return nil, err
		}
		if p != nil && !by.InScope(p.Region) {
			return nil, person.ErrNotFound
		}
	}
	if p == nil && in.Category != CannotRegister {
		return nil, ErrPersonRequired
	}
	var num any
	if p != nil {
		t.Person, t.PersonID, t.MaskedName, t.Region, num = p.Num, p.ID, idnum.MaskName(p.Name), p.Region, p.Num
	} else {
		if in.Region == "" {
			return nil, ErrRegionRequired
		}
		if err := s.regions.Validate(in.Region); err != nil {
			return nil, err
		}
		if !by.InScope(in.Region) {
			return nil, auth.ErrOutOfScope.Withf("region %s is outside your scope %s", in.Region, by.Region)
		}
		t.Region = in.Region
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hotline_tickets (id, category, person_num, masked_name, region_code, summary, state,
			opened_at, deadline_at, opened_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, t.ID, t.Category, num, t.MaskedName, t.Region,
			t.Summary, Open, now.UnixMilli(), t.Deadline.UnixMilli(), by.Actor()); err != nil {
			return err
		}
		e := audit.Entry{At: now, Actor: by.Actor(), Action: "hotline.open", Subject: "ticket:" + t.ID, Region: t.Region,
			Detail: map[string]any{"category": t.Category}}
		if p != nil {
			e.Detail["person"] = p.ID
			if in.PersonID == "" {
				e.Detail["method"] = "id_number"
			}
		}
		_, err := audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("hotline: open ticket: %w", err)
	}
	return t, nil
}

const ticketCols = `t.id, t.category, t.person_num, COALESCE(p.id, ''), t.masked_name, t.region_code, t.summary, t.state, t.opened_at,
	t.deadline_at, t.opened_by, COALESCE(t.appeal_id, ''), t.corrected_at, COALESCE(t.corrected_by, ''), COALESCE(t.correction, ''),
	t.closed_at, COALESCE(t.closed_by, ''), COALESCE(t.resolution, '')`

const ticketFrom = ` FROM hotline_tickets t LEFT JOIN persons p ON p.num = t.person_num`

func scanTicket(sc db.Scanner) (*Ticket, error) {
	var t Ticket
	var num, corrected, closed sql.NullInt64
	var opened, deadline int64
	var corr string
	if err := sc.Scan(&t.ID, &t.Category, &num, &t.PersonID, &t.MaskedName, &t.Region, &t.Summary, &t.State, &opened, &deadline, &t.OpenedBy,
		&t.AppealID, &corrected, &t.CorrectedBy, &corr, &closed, &t.ClosedBy, &t.Resolution); err != nil {
		return nil, err
	}
	t.Person, t.OpenedAt, t.Deadline = num.Int64, db.Time(opened), db.Time(deadline)
	t.CorrectedAt, t.ClosedAt = db.NullTime(corrected), db.NullTime(closed)
	if corr != "" {
		t.Correction = &CorrectionRecord{}
		if err := json.Unmarshal([]byte(corr), t.Correction); err != nil {
			return nil, fmt.Errorf("ticket %s: correction: %w", t.ID, err)
		}
	}
	return &t, nil
}

func (s *Service) ticket(ctx context.Context, q db.Querier, by *auth.Principal, id string) (*Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(t.Region)) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("hotline: read ticket: %w", err)
	}
	return t, nil
}

// Ticket is one ticket in scope.
func (s *Service) Ticket(ctx context.Context, by *auth.Principal, id string) (*Ticket, error) {
	if err := by.Require(auth.HotlineWrite); err != nil {
		return nil, err
	}
	return s.ticket(ctx, s.db, by, id)
}

// Tickets lists the tickets in scope: open ones by deadline (state open,
// the default), those past it (overdue), or closed ones newest first; at
// most 500.
func (s *Service) Tickets(ctx context.Context, by *auth.Principal, state string) ([]*Ticket, error) {
	if err := by.Require(auth.HotlineWrite); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	cond, args := db.Scope("t.region_code", lo, hi, nil)
	order := " ORDER BY t.deadline_at, t.id"
	switch state {
	case "", Open:
		cond += " AND t.state = 'open'"
	case Overdue:
		args = append(args, s.clock().UnixMilli())
		cond += fmt.Sprintf(" AND t.state = 'open' AND t.deadline_at < $%d", len(args))
	case Closed:
		cond += " AND t.state = 'closed'"
		order = " ORDER BY t.closed_at DESC, t.id"
	default:
		return nil, ErrStateInvalid
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+ticketCols+ticketFrom+` WHERE `+cond+order+` LIMIT 500`, args, scanTicket)
	if err != nil {
		return nil, fmt.Errorf("hotline: list tickets: %w", err)
	}
	if out == nil {
		out = []*Ticket{}
	}
	return out, nil
}

// open reads an open ticket about a person, for a change.
func (s *Service) open(ctx context.Context, by *auth.Principal, id string) (*Ticket, error) {
	if err := by.Require(auth.HotlineWrite); err != nil {
		return nil, err
	}
	t, err := s.ticket(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	if t.State != Open {
		return nil, ErrClosed
	}
	if t.PersonID == "" {
		return nil, ErrNoPerson
	}
	return t, nil
}

// LinkAppeal links an open ticket to an appeal of its person (the newest
// when appealID is empty), so the caller is answered when it is decided.
func (s *Service) LinkAppeal(ctx context.Context, by *auth.Principal, id, appealID string) (*Ticket, error) {
	t, err := s.open(ctx, by, id)
	if err != nil {
		return nil, err
	}
	as, err := s.appeals.PersonAppeals(ctx, t.Person)
	if err != nil {
		return nil, err
	}
	var found *status.Appeal
	for _, a := range as {
		if appealID == "" || a.ID == appealID {
			found = a
			break
		}
	}
	if found == nil {
		return nil, ErrAppealNotOfPerson
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hotline_tickets SET appeal_id = $1 WHERE id = $2 AND state = 'open'`, found.ID, t.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrClosed
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "hotline.link_appeal", Subject: "ticket:" + t.ID,
			Region: t.Region, Detail: map[string]any{"appeal": found.ID}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("hotline: link appeal: %w", err)
	}
	t.AppealID = found.ID
	return t, nil
}

// Correct corrects the record of an open ticket's person (the person
// service checks person.correct and audits the values) and keeps on the
// ticket what changed, masked.
func (s *Service) Correct(ctx context.Context, by *auth.Principal, id string, in person.Correction) (*Ticket, error) {
	t, err := s.open(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Reason) == "" {
		in.Reason = "12345 ticket " + t.ID
	}
	c, err := s.persons.Correct(ctx, by, t.PersonID, in)
	if err != nil {
		return nil, err
	}
	rec := &CorrectionRecord{Fields: c.Fields, Before: map[string]string{}, After: map[string]string{}}
	for _, f := range c.Fields {
		if f == "name" {
			rec.Before[f], rec.After[f] = c.Before.Name, c.After.Name
		} else {
			rec.Before[f], rec.After[f] = c.Before.IDNumber, c.After.IDNumber
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	// The record is corrected (and audited) already: the ticket notes it
	// even if someone closed it meanwhile.
	if _, err := s.db.ExecContext(ctx, `UPDATE hotline_tickets SET corrected_at = $1, corrected_by = $2, correction = $3, masked_name = $4
		WHERE id = $5`, now.UnixMilli(), by.Actor(), string(b), c.After.Name, t.ID); err != nil {
		return nil, fmt.Errorf("hotline: note correction: %w", err)
	}
	t.CorrectedAt, t.CorrectedBy, t.Correction, t.MaskedName = now, by.Actor(), rec, c.After.Name
	return t, nil
}

// Close closes an open ticket with its resolution; a closed one is a 409.
func (s *Service) Close(ctx context.Context, by *auth.Principal, id, resolution string) (*Ticket, error) {
	if err := by.Require(auth.HotlineWrite); err != nil {
		return nil, err
	}
	res, ok := cleanText(resolution, 500)
	if !ok {
		return nil, ErrResolutionInvalid
	}
	var t *Ticket
	now := s.clock()
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if t, err = s.ticket(ctx, tx, by, id); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE hotline_tickets SET state = 'closed', closed_at = $1, closed_by = $2, resolution = $3
			WHERE id = $4 AND state = 'open'`, now.UnixMilli(), by.Actor(), res, t.ID)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrClosed.Withf("the ticket was closed at %s", t.ClosedAt.Format(time.RFC3339))
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "hotline.close", Subject: "ticket:" + t.ID,
			Region: t.Region, Detail: map[string]any{"overdue": t.IsOverdue(now)}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("hotline: close ticket: %w", err)
	}
	t.State, t.ClosedAt, t.ClosedBy, t.Resolution = Closed, now, by.Actor(), res
	return t, nil
}

// Purge deletes tickets closed before cutoff (open ones too at the
// wind-down, whose cutoff is after everything), for the retention runner.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "hotline_tickets", Query: `DELETE FROM hotline_tickets WHERE COALESCE(closed_at, deadline_at + 31536000000) < $1`})
	if err != nil {
		return out, fmt.Errorf("hotline: purge tickets: %w", err)
	}
	return out, nil
}
