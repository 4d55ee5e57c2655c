// Package hall is the service hall scenario (政务服务大厅, 亮码办事): queue
// tickets taken by showing the code at the hall's machine, where the
// colour decides (green gets a number for the service asked for; yellow is
// sent to the hall's designated window or refused, by the hall's policy;
// red is refused, each with the reason), a booking made online counted
// when its holder takes a ticket, sign-in at a hall terminal (the resident
// consents on their phone and the terminal receives the identity once,
// audited, as a hospital does), and the resident's rating of the service
// afterwards, once per ticket. Another region's resident is served when
// their code verifies through the federation.
package hall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
)

// Orgs authorises gateway callers and reads organisations (the
// organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*org.Org, error)
	List(ctx context.Context, by *auth.Principal, f org.Filter) ([]*org.Org, error)
	Public(ctx context.Context, id string) (*org.Org, error)
}

// Scanner scans codes for an organisation and opens the subject
// references it answers (the gateway).
type Scanner interface {
	Scan(ctx context.Context, p *auth.Principal, in gateway.ScanInput) (*gateway.Scan, error)
	Resolve(o *org.Org, ref string) (gateway.Subject, error)
}

// Persons says whom a resident acts for (the person service).
type Persons interface {
	ActingFor(ctx context.Context, by *auth.Principal, personID string) (person.Profile, error)
}

// Bookings uses a booking made online when its holder arrives (the booking
// service).
type Bookings interface {
	Arrive(ctx context.Context, o *org.Org, num int64, name, actor string) (*booking.Booking, error)
}

// Identities hands a person's identity to an organisation once per
// consent, audited (the hospital's hand-off).
type Identities interface {
	HandOff(ctx context.Context, by *auth.Principal, o *org.Org, num int64, ref, purpose string) (*hospital.Identity, error)
}

// Deps are the services the hall uses.
type Deps struct {
	DB         *db.DB
	Orgs       Orgs
	Scanner    Scanner
	Persons    Persons
	Bookings   Bookings
	Identities Identities
}

// Config tunes the service.
type Config struct {
	Location *time.Location        // days of tickets (Asia/Shanghai by default)
	LoginTTL time.Duration         // how long a sign-in request waits for consent (default 5 minutes)
	Metrics  prometheus.Registerer // receives the halls' metrics (nil: not registered)
}

// Service gives tickets, signs residents in and takes ratings. It is safe
// for concurrent use.
type Service struct {
	d   Deps
	db  *db.DB
	cfg Config
	now func() time.Time
	m   *metrics
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = 5 * time.Minute
	}
	return &Service{d: d, db: d.DB, cfg: cfg, now: time.Now, m: newMetrics(cfg.Metrics)}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) day(t time.Time) int64 {
	y, m, d := t.In(s.cfg.Location).Date()
	return int64(y*10000 + int(m)*100 + d)
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

func (s *Service) hall(ctx context.Context, by *auth.Principal, scope string) (*org.Org, error) {
	o, err := s.d.Orgs.Authorize(ctx, by, scope)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.ServiceHall {
		return nil, ErrNotHall
	}
	return o, nil
}

// Yellow policies.
const (
	YellowWindow = "window" // served at the designated window
	YellowRefuse = "refuse" // no ticket on site
)

// DefaultWindow is where yellow codes are served unless the hall says
// otherwise.
const DefaultWindow = "黄码专窗"

// Policy is how a hall serves yellow codes.
type Policy struct {
	Yellow string
	Window string // the designated window, with YellowWindow
}

const maxName = 30

func validName(v string) bool {
	n := utf8.RuneCountInString(v)
	return n > 0 && n <= maxName
}

// Policy is the caller's hall's policy (scope hall.queue).
func (s *Service) Policy(ctx context.Context, by *auth.Principal) (*Policy, error) {
	o, err := s.hall(ctx, by, org.ScopeHallQueue)
	if err != nil {
		return nil, err
	}
	return s.policy(ctx, o)
}

func (s *Service) policy(ctx context.Context, o *org.Org) (*Policy, error) {
	p := &Policy{Yellow: YellowWindow, Window: DefaultWindow}
	err := s.db.QueryRowContext(ctx, `SELECT yellow, window_name FROM hall_policies WHERE org_id = $1`, o.ID).Scan(&p.Yellow, &p.Window)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("hall: policy: %w", err)
	}
	return p, nil
}

// SetPolicy sets how the caller's hall serves yellow codes (scope
// hall.queue).
func (s *Service) SetPolicy(ctx context.Context, by *auth.Principal, in Policy) (*Policy, error) {
	o, err := s.hall(ctx, by, org.ScopeHallQueue)
	if err != nil {
		return nil, err
	}
	in.Window = strings.TrimSpace(in.Window)
	switch {
	case in.Yellow == YellowRefuse:
		in.Window = ""
	case in.Yellow == YellowWindow && validName(in.Window):
	default:
		return nil, ErrPolicyInvalid
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO hall_policies (org_id, yellow, window_name, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (org_id) DO UPDATE SET yellow = excluded.yellow, window_name = excluded.window_name, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by`, o.ID, in.Yellow, in.Window, s.clock().UnixMilli(), by.Actor())
	if err != nil {
		return nil, fmt.Errorf("hall: set policy: %w", err)
	}
	return &in, nil
}

// Ticket states.
const (
	Waiting = "waiting"
	Done    = "done"
)

// Ticket is a queue ticket.
type Ticket struct {
	ID         string
	Org        *org.Org
	Service    string // asked for
	Line       string // where the holder queues: the service, or the designated window
	Number     int64  // within the line and the day, from 1
	MaskedName string
	Color      rules.Color
	// Routed: a yellow code sent to the designated window; Reasons says why.
	Routed  bool
	Reasons []string
	// Booked: the holder booked online and the booking was used.
	Booked bool
	// Issuer is another region's code (served through the federation);
	// "" for this region's residents.
	Issuer    string
	State     string
	At        time.Time
	DoneAt    time.Time
	Rating    int // 0 until rated
	Comment   string
	PersonNum int64 // 0 for another region's resident; never shown to the hall
}

// Take gives the person whose code the hall's machine scanned a ticket for
// the service (scope hall.queue, and scan for the code). A code that is not
// valid is the gateway's 422 (expired, forged; another region's code whose
// issuer is not known here: code_issuer_unknown); red is refused; yellow
// goes to the designated window or is refused by the hall's policy; a
// booking for now is used. Nothing is written when refused.
func (s *Service) Take(ctx context.Context, by *auth.Principal, code, service string) (*Ticket, error) {
	o, err := s.hall(ctx, by, org.ScopeHallQueue)
	if err != nil {
		return nil, err
	}
	service = strings.TrimSpace(service)
	if !validName(service) {
		return nil, ErrServiceInvalid
	}
	sc, err := s.d.Scanner.Scan(ctx, by, gateway.ScanInput{Code: code, Foreign: true})
	if err != nil {
		return nil, err
	}
	t := &Ticket{ID: ids.New(), Org: o, Service: service, Line: service, MaskedName: sc.MaskedName, Color: sc.Color, Reasons: []string{},
		State: Waiting, At: s.clock()}
	if !t.Color.Valid() {
		t.Color = rules.Green
	}
	switch t.Color {
	case rules.Red:
		s.m.refusedRed.Inc()
		return nil, ErrRefusedRed.Withf("%s's code is red (color_red): no ticket; the hall's epidemic-control staff take over", sc.MaskedName)
	case rules.Yellow:
		p, err := s.policy(ctx, o)
		if err != nil {
			return nil, err
		}
		if p.Yellow == YellowRefuse {
			s.m.refusedYellow.Inc()
			return nil, ErrRefusedYellow.Withf("%s's code is yellow (color_yellow): %s serves yellow codes by appointment or online only", sc.MaskedName, o.Name)
		}
		t.Line, t.Routed, t.Reasons = p.Window, true, []string{codes.ReasonYellow}
	}
	if sc.Subject == "" {
		// Another region's resident, verified through the federation.
		t.Issuer = sc.Issuer
		for _, r := range sc.Reasons {
			if r == codes.ReasonLiveStatusUnavailable {
				t.Reasons = append(t.Reasons, r)
			}
		}
	} else {
		sub, err := s.d.Scanner.Resolve(o, sc.Subject)
		if err != nil {
			return nil, err
		}
		t.PersonNum = sub.Person
	}
	if t.PersonNum != 0 && s.d.Bookings != nil {
		// A walk-in is served all the same: only a booking for now counts.
		if _, err := s.d.Bookings.Arrive(ctx, o, t.PersonNum, t.MaskedName, by.Actor()); err == nil {
			t.Booked = true
		} else if _, ok := apierr.As(err); !ok {
			return nil, err
		}
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		day := s.day(t.At)
		err := tx.QueryRowContext(ctx, `INSERT INTO hall_counters (org_id, day, line, last) VALUES ($1, $2, $3, 1)
			ON CONFLICT (org_id, day, line) DO UPDATE SET last = hall_counters.last + 1 RETURNING last`, o.ID, day, t.Line).Scan(&t.Number)
		if err != nil {
			return fmt.Errorf("hall: next number: %w", err)
		}
		var num sql.NullInt64
		if t.PersonNum != 0 {
			num = sql.NullInt64{Int64: t.PersonNum, Valid: true}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hall_tickets (id, org_id, day, service, line, number, person_num, issuer, masked_name, color,
				routed, booked, state, at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			t.ID, o.ID, day, t.Service, t.Line, t.Number, num, t.Issuer, t.MaskedName, t.Color.String(), t.Routed, t.Booked, t.State,
			t.At.UnixMilli(), by.Actor())
		if err != nil {
			return fmt.Errorf("hall: store ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.Routed {
		s.m.routed.Inc()
	} else {
		s.m.number.Inc()
	}
	return t, nil
}

const ticketCols = `id, org_id, service, line, number, person_num, issuer, masked_name, color, routed, booked, state, at, done_at, rating, comment`

func (s *Service) scanTicket(ctx context.Context) func(db.Scanner) (*Ticket, error) {
	return func(sc db.Scanner) (*Ticket, error) {
		var t Ticket
		var orgID, color string
		var num, doneAt, rating sql.NullInt64
		var comment sql.NullString
		var at int64
		if err := sc.Scan(&t.ID, &orgID, &t.Service, &t.Line, &t.Number, &num, &t.Issuer, &t.MaskedName, &color, &t.Routed, &t.Booked,
			&t.State, &at, &doneAt, &rating, &comment); err != nil {
			return nil, err
		}
		t.PersonNum, t.At, t.DoneAt, t.Rating, t.Comment = num.Int64, db.Time(at), db.NullTime(doneAt), int(rating.Int64), comment.String
		t.Color, _ = rules.ParseColor(color)
		t.Reasons = []string{}
		if t.Routed {
			t.Reasons = []string{codes.ReasonYellow}
		}
		o, err := s.d.Orgs.Public(ctx, orgID)
		if err != nil {
			return nil, err
		}
		t.Org = o
		return &t, nil
	}
}

func (s *Service) ticket(ctx context.Context, id string) (*Ticket, error) {
	t, err := s.scanTicket(ctx)(s.db.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM hall_tickets WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTicketNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("hall: read ticket: %w", err)
	}
	return t, nil
}

// Finish marks a ticket of the caller's hall served (scope hall.queue):
// its holder may rate the service then.
func (s *Service) Finish(ctx context.Context, by *auth.Principal, id string) (*Ticket, error) {
	o, err := s.hall(ctx, by, org.ScopeHallQueue)
	if err != nil {
		return nil, err
	}
	t, err := s.ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Org.ID != o.ID {
		return nil, ErrTicketNotFound
	}
	now := s.clock()
	res, err := s.db.ExecContext(ctx, `UPDATE hall_tickets SET state = $1, done_at = $2 WHERE id = $3 AND state = $4`, Done, now.UnixMilli(), id, Waiting)
	if err != nil {
		return nil, fmt.Errorf("hall: finish: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("hall: finish: %w", err)
	} else if n == 0 {
		return nil, ErrTicketDone
	}
	t.State, t.DoneAt = Done, now
	return t, nil
}

// MyTickets are the resident's tickets (or a dependent's), newest first.
func (s *Service) MyTickets(ctx context.Context, by *auth.Principal, personID string) ([]*Ticket, error) {
	who, err := s.d.Persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+ticketCols+` FROM hall_tickets WHERE person_num = $1 ORDER BY at DESC, id LIMIT 50`,
		[]any{who.Num}, s.scanTicket(ctx))
	if err != nil {
		return nil, fmt.Errorf("hall: my tickets: %w", err)
	}
	return out, nil
}

const maxComment = 200

// Rate rates the service of a served ticket of the resident (or a
// dependent's), 1 to 5, once; anyone else's ticket is a 404.
func (s *Service) Rate(ctx context.Context, by *auth.Principal, personID, id string, stars int, comment string) (*Ticket, error) {
	who, err := s.d.Persons.ActingFor(ctx, by, personID)
	if err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	if stars < 1 || stars > 5 || utf8.RuneCountInString(comment) > maxComment {
		return nil, ErrRatingInvalid
	}
	t, err := s.ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.PersonNum != who.Num {
		return nil, ErrTicketNotFound
	}
	switch {
	case t.Rating != 0:
		return nil, ErrAlreadyRated.Withf("you rated this ticket %d already; a ticket is rated once", t.Rating)
	case t.State != Done:
		return nil, ErrNotServed
	}
	now := s.clock()
	res, err := s.db.ExecContext(ctx, `UPDATE hall_tickets SET rating = $1, comment = $2, rated_at = $3 WHERE id = $4 AND rating IS NULL AND state = $5`,
		stars, comment, now.UnixMilli(), id, Done)
	if err != nil {
		return nil, fmt.Errorf("hall: rate: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("hall: rate: %w", err)
	} else if n == 0 {
		return nil, ErrAlreadyRated
	}
	s.m.ratings[stars].Inc()
	t.Rating, t.Comment = stars, comment
	return t, nil
}

// LineCount is how many tickets a line gave.
type LineCount struct {
	Line  string
	Count int64
}

// Day is a hall's queue of one day.
type Day struct {
	Org     *org.Org
	Day     time.Time
	Policy  *Policy
	Tickets []*Ticket // in the order given
	Lines   []LineCount
	Routed  int64 // yellow codes sent to the designated window
	Booked  int64 // tickets of online bookings
	Foreign int64 // other regions' residents
	Done    int64
	Rated   int64
	Rating  float64 // the mean rating, 0 when none
}

const maxDay = 5000

// Tickets is a hall's queue of a day: for its own keys (scope hall.queue)
// and accounts with orgID "" or their own; for operators who read
// organisations, of a hall in their scope.
func (s *Service) Tickets(ctx context.Context, by *auth.Principal, orgID string, day time.Time) (*Day, error) {
	o, err := org.ReportOf(ctx, s.d.Orgs, by, orgID, org.ScopeHallQueue, ErrOrgMissing)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.ServiceHall {
		return nil, ErrNotHall.Withf("%s is not a service hall", o.Name)
	}
	d := &Day{Org: o, Day: day}
	if d.Policy, err = s.policy(ctx, o); err != nil {
		return nil, err
	}
	d.Tickets, err = db.Collect(ctx, s.db, `SELECT `+ticketCols+` FROM hall_tickets WHERE org_id = $1 AND day = $2 ORDER BY at, id LIMIT $3`,
		[]any{o.ID, s.day(day), maxDay}, s.scanTicket(ctx))
	if err != nil {
		return nil, fmt.Errorf("hall: tickets: %w", err)
	}
	if d.Tickets == nil {
		d.Tickets = []*Ticket{}
	}
	counts := map[string]int64{}
	var sum int64
	for _, t := range d.Tickets {
		if _, ok := counts[t.Line]; !ok {
			d.Lines = append(d.Lines, LineCount{Line: t.Line})
		}
		counts[t.Line]++
		if t.Routed {
			d.Routed++
		}
		if t.Booked {
			d.Booked++
		}
		if t.Issuer != "" {
			d.Foreign++
		}
		if t.State == Done {
			d.Done++
		}
		if t.Rating > 0 {
			d.Rated++
			sum += int64(t.Rating)
		}
	}
	for i := range d.Lines {
		d.Lines[i].Count = counts[d.Lines[i].Line]
	}
	if d.Rated > 0 {
		d.Rating = float64(sum) / float64(d.Rated)
	}
	return d, nil
}

// Login states.
const (
	LoginPending   = "pending"
	LoginConsented = "consented"
	LoginDeclined  = "declined"
	LoginDelivered = "delivered"
)

// PurposeLogin is the purpose of a terminal's identity hand-off.
const PurposeLogin = "hall_login"

// Login is a sign-in request of a terminal.
type Login struct {
	ID        string
	Org       *org.Org
	State     string
	ExpiresAt time.Time
	// Identity is the resident's, in the one answer that delivers it.
	Identity *hospital.Identity
}

// StartLogin opens a sign-in request at the caller's terminal (scope
// hall.terminal): the terminal shows its id as a code the resident scans
// with their phone.
func (s *Service) StartLogin(ctx context.Context, by *auth.Principal) (*Login, error) {
	o, err := s.hall(ctx, by, org.ScopeHallTerminal)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	l := &Login{ID: ids.New(), Org: o, State: LoginPending, ExpiresAt: now.Add(s.cfg.LoginTTL)}
	_, err = s.db.ExecContext(ctx, `INSERT INTO hall_logins (id, org_id, terminal, state, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		l.ID, o.ID, by.Actor(), l.State, now.UnixMilli(), l.ExpiresAt.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("hall: start sign-in: %w", err)
	}
	s.m.logins["started"].Inc()
	return l, nil
}

type loginRow struct {
	Login
	terminal string
	num      int64
}

func (s *Service) login(ctx context.Context, id string) (*loginRow, error) {
	var l loginRow
	var orgID string
	var exp int64
	var num sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, org_id, terminal, state, expires_at, person_num FROM hall_logins WHERE id = $1`, id).
		Scan(&l.ID, &orgID, &l.terminal, &l.State, &exp, &num)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrLoginNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("hall: read sign-in: %w", err)
	}
	l.ExpiresAt, l.num = db.Time(exp), num.Int64
	if l.Org, err = s.d.Orgs.Public(ctx, orgID); err != nil {
		return nil, err
	}
	return &l, nil
}

// LoginRequest is a sign-in request as the resident who scanned it sees
// it (the hall asking), before they answer.
func (s *Service) LoginRequest(ctx context.Context, by *auth.Principal, id string) (*Login, error) {
	if _, err := s.d.Persons.ActingFor(ctx, by, ""); err != nil {
		return nil, err
	}
	l, err := s.login(ctx, id)
	if err != nil {
		return nil, err
	}
	if l.State == LoginPending && !s.clock().Before(l.ExpiresAt) {
		return nil, ErrLoginNotFound
	}
	return &l.Login, nil
}

// Answer is the resident's answer to a sign-in request, for themselves
// (consent is personal): approve lets the terminal receive their identity
// once. A request expired or answered already is refused.
func (s *Service) Answer(ctx context.Context, by *auth.Principal, id string, approve bool) (*Login, error) {
	me, err := s.d.Persons.ActingFor(ctx, by, "")
	if err != nil {
		return nil, err
	}
	l, err := s.login(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if !now.Before(l.ExpiresAt) {
		return nil, ErrLoginNotFound
	}
	state := LoginDeclined
	if approve {
		state = LoginConsented
	}
	res, err := s.db.ExecContext(ctx, `UPDATE hall_logins SET state = $1, person_num = $2, decided_at = $3 WHERE id = $4 AND state = $5`,
		state, me.Num, now.UnixMilli(), id, LoginPending)
	if err != nil {
		return nil, fmt.Errorf("hall: answer sign-in: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("hall: answer sign-in: %w", err)
	} else if n == 0 {
		return nil, ErrLoginDecided
	}
	s.m.logins[state].Inc()
	l.State = state
	return &l.Login, nil
}

// Collect is the terminal's look at its sign-in request (scope
// hall.terminal, the terminal that opened it): pending until the resident
// answers; declined; or, once, the resident's identity, handed off as a
// hospital's is (audited as a person read). A second collection is
// refused (and audited as a refused read).
func (s *Service) Collect(ctx context.Context, by *auth.Principal, id string) (*Login, error) {
	o, err := s.hall(ctx, by, org.ScopeHallTerminal)
	if err != nil {
		return nil, err
	}
	l, err := s.login(ctx, id)
	if err != nil {
		return nil, err
	}
	if l.Org.ID != o.ID || l.terminal != by.Actor() {
		return nil, ErrLoginNotFound
	}
	switch l.State {
	case LoginPending:
		if !s.clock().Before(l.ExpiresAt) {
			return nil, ErrLoginNotFound
		}
		return &l.Login, nil
	case LoginDeclined:
		return nil, ErrLoginDeclined
	}
	idn, err := s.d.Identities.HandOff(ctx, by, o, l.num, "hall-login:"+l.ID, PurposeLogin)
	if errors.Is(err, hospital.ErrSubjectUsed) {
		return nil, ErrLoginUsed
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE hall_logins SET state = $1, delivered_at = $2 WHERE id = $3`,
		LoginDelivered, s.clock().UnixMilli(), l.ID); err != nil {
		return nil, fmt.Errorf("hall: deliver sign-in: %w", err)
	}
	s.m.logins[LoginDelivered].Inc()
	l.State, l.Identity = LoginDelivered, idn
	return &l.Login, nil
}

// Purge deletes the tickets and sign-ins older than cutoff (who came to
// the hall is personal). The counters hold no person and stay.
func (s *Service) Purge(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	out, err := db.DeleteBefore(ctx, s.db, cutoff,
		db.Deletion{Table: "hall_tickets", Query: `DELETE FROM hall_tickets WHERE at < $1`},
		db.Deletion{Table: "hall_logins", Query: `DELETE FROM hall_logins WHERE created_at < $1`},
	)
	if err != nil {
		return out, fmt.Errorf("hall: purge: %w", err)
	}
	return out, nil
}
