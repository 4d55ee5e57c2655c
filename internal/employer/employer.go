// Package employer is the gateway's employer scenario (凭码上岗): an
// employer keeps its staff roster (imported as CSV; each line linked to a
// person when the staff member is scanned with their staff number or
// consents on their own page with the line's join code), admits staff at
// the gate by their code (green is attendance; yellow and red are refused
// with the reason and counted, never recorded as attendance), and sees each
// staff member's health only as a colour per day: never the facts or the
// reasons behind a colour. Its day report counts present, refused by
// reason and absent.
package employer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/healthcode/healthcode/internal/ratelimit"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// Orgs authorises gateway callers and names organisations (the
// organisation service).
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

// Colors is the status cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Deps are the services the employer scenario uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Gateway  Scanner
	Persons  Persons
	Colors   Colors
	Location *time.Location // "days" (Asia/Shanghai by default)
}

// Service keeps rosters and gate events. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	orgs    Orgs
	gw      Scanner
	persons Persons
	colors  Colors
	loc     *time.Location
	now     func() time.Time
	// wrongJoins bounds guessing of roster join codes per account.
	wrongJoins *ratelimit.Guesses
}

// New returns the service.
func New(d Deps) *Service {
	if d.Location == nil {
		d.Location = time.FixedZone("CST", 8*3600)
	}
	s := &Service{db: d.DB, orgs: d.Orgs, gw: d.Gateway, persons: d.Persons, colors: d.Colors, loc: d.Location, now: time.Now}
	s.wrongJoins = ratelimit.NewGuesses(10, 6*time.Minute, ErrJoinLimited, func() time.Time { return s.now() })
	return s
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// employerOf authorises an employer's key (scope employer.staff) or account.
func (s *Service) employerOf(ctx context.Context, by *auth.Principal) (*org.Org, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopeEmployerStaff)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Employer {
		return nil, ErrNotEmployer
	}
	return o, nil
}

// Staff is a line of the roster. The name is kept masked: the staff
// number is how the employer tells its lines apart.
type Staff struct {
	ID         string
	StaffNo    string
	MaskedName string
	Department string
	JoinCode   string // given to the staff member, who links with it on their own page
	Linked     bool
	LinkedAt   time.Time
	LinkedHow  string // scan or consent
	num        int64
}

// LineResult is one line of an import: imported, or why not.
type LineResult struct {
	Line    int
	StaffNo string
	OK      bool
	Code    string // the error code of a refused line
	Message string
}

// ImportReport is the answer to a roster import: every line, in order.
type ImportReport struct {
	Imported int
	Refused  int
	Lines    []LineResult
}

const (
	maxRosterLines = 5000
	maxStaffNo     = 32
	maxName        = 50
	maxDepartment  = 50
)

// Import adds lines to the roster from CSV (staff_no,name,department; a
// header line naming staff_no or 工号 is skipped). Each line is checked on
// its own: the good ones are added, the others reported with the reason;
// nothing of a refused line is written.
func (s *Service) Import(ctx context.Context, by *auth.Principal, text string) (*ImportReport, error) {
	o, err := s.employerOf(ctx, by)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(text, "\ufeff")))
	r.FieldsPerRecord, r.TrimLeadingSpace, r.ReuseRecord = -1, true, false
	type good struct {
		line int // index in rep.Lines
		st   Staff
	}
	rep := &ImportReport{}
	var goods []good
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		if len(rep.Lines) >= maxRosterLines {
			return nil, ErrRosterTooLarge
		}
		res := LineResult{Line: line}
		if err != nil {
			res.Code, res.Message = "line_unreadable", "the line is not CSV: "+pe.Err.Error()
			rep.Lines = append(rep.Lines, res)
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rep.Lines) == 0 && len(rec) > 0 && (strings.EqualFold(rec[0], "staff_no") || rec[0] == "工号") {
			continue
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		st, code, msg := checkLine(rec)
		res.StaffNo = st.StaffNo
		if code == "" && seen[st.StaffNo] {
			code, msg = "staff_no_repeated", fmt.Sprintf("staff number %s is on an earlier line of this file", st.StaffNo)
		}
		if code != "" {
			res.Code, res.Message = code, msg
			rep.Lines = append(rep.Lines, res)
			continue
		}
		seen[st.StaffNo] = true
		res.OK = true
		rep.Lines = append(rep.Lines, res)
		goods = append(goods, good{len(rep.Lines) - 1, st})
	}
	if len(rep.Lines) == 0 {
		return nil, ErrRosterEmpty
	}
	now := s.now().UnixMilli()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		existing := map[string]bool{}
		if err := db.Each(ctx, tx, `SELECT staff_no FROM employer_staff WHERE org_id = $1`, []any{o.ID}, func(sc db.Scanner) error {
			var no string
			err := sc.Scan(&no)
			existing[no] = true
			return err
		}); err != nil {
			return fmt.Errorf("employer: read roster: %w", err)
		}
		ins := db.Insert{Head: `INSERT INTO employer_staff (id, org_id, staff_no, name, department, join_code, created_at) VALUES `, Cols: 7}
		var rows []any
		n := 0
		for _, g := range goods {
			if existing[g.st.StaffNo] {
				res := &rep.Lines[g.line]
				res.OK, res.Code, res.Message = false, "staff_exists", fmt.Sprintf("staff number %s is already on the roster", g.st.StaffNo)
				continue
			}
			rows = append(rows, ids.New(), o.ID, g.st.StaffNo, g.st.MaskedName, g.st.Department, joinCode(), now)
			n++
		}
		if n > 0 {
			if _, err := ins.Exec(ctx, tx, s.db.Engine(), rows); err != nil {
				return fmt.Errorf("employer: import roster: %w", err)
			}
		}
		rep.Imported = n
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.now(), Actor: by.Actor(), Action: "employer.roster_import", Subject: "org:" + o.ID,
			Region: o.Region, Detail: map[string]any{"imported": n, "lines": len(rep.Lines)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Refused = len(rep.Lines) - rep.Imported
	return rep, nil
}

// checkLine validates one line of a roster: staff number, name, department.
func checkLine(rec []string) (Staff, string, string) {
	if len(rec) < 2 || len(rec) > 3 {
		return Staff{}, "line_fields", fmt.Sprintf("a line has 2 or 3 fields (staff_no,name,department), not %d", len(rec))
	}
	st := Staff{StaffNo: rec[0]}
	if len(rec) == 3 {
		st.Department = rec[2]
	}
	if n := utf8.RuneCountInString(st.StaffNo); n == 0 || n > maxStaffNo || strings.ContainsAny(st.StaffNo, " \t") {
		return st, "staff_no_invalid", "a staff number is 1-32 characters without spaces"
	}
	if n := utf8.RuneCountInString(rec[1]); n < 2 || n > maxName {
		return st, "staff_name_invalid", "a name is 2-50 characters"
	}
	if utf8.RuneCountInString(st.Department) > maxDepartment {
		return st, "staff_department_invalid", "a department is at most 50 characters"
	}
	st.MaskedName = idnum.MaskName(rec[1])
	return st, "", ""
}

// joinCode is a line's join code: 10 characters of an alphabet without
// look-alikes, read aloud or typed from a slip.
func joinCode() string {
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(b[:])
}

const staffCols = `id, staff_no, name, department, join_code, person_num, linked_at, linked_how`

func scanStaff(sc db.Scanner) (*Staff, error) {
	var st Staff
	var num, at sql.NullInt64
	var how sql.NullString
	if err := sc.Scan(&st.ID, &st.StaffNo, &st.MaskedName, &st.Department, &st.JoinCode, &num, &at, &how); err != nil {
		return nil, err
	}
	st.Linked, st.num, st.LinkedHow = num.Valid, num.Int64, how.String
	if at.Valid {
		st.LinkedAt = db.Time(at.Int64)
	}
	return &st, nil
}

// Roster lists the employer's roster by staff number.
func (s *Service) Roster(ctx context.Context, by *auth.Principal) ([]*Staff, error) {
	o, err := s.employerOf(ctx, by)
	if err != nil {
		return nil, err
	}
	return s.roster(ctx, o.ID)
}

func (s *Service) roster(ctx context.Context, orgID string) ([]*Staff, error) {
	out, err := db.Collect(ctx, s.db, `SELECT `+staffCols+` FROM employer_staff WHERE org_id = $1 ORDER BY staff_no`, []any{orgID}, scanStaff)
	if err != nil {
		return nil, fmt.Errorf("employer: roster: %w", err)
	}
	return out, nil
}

// GateInput is a scan at the gate: the code (or an ID number typed at the
// gate), and the staff number that links an unlinked line at the first scan.
type GateInput struct {
	Code     string
	IDType   string
	IDNumber string
	StaffNo  string
}

// Gate is the gate's answer.
type Gate struct {
	Staff      *Staff
	MaskedName string // as the code shows it
	Color      rules.Color
	Admitted   bool
	Reason     string // why not admitted: color_yellow, color_red, fever
	Reasons    []string
	At         time.Time
	LinkedNow  bool
}

// admissionReasons are the reasons a valid code is refused at the gate,
// worst first.
var admissionReasons = []string{codes.ReasonRed, codes.ReasonYellow, codes.ReasonFever}

// Gate admits a staff member at the gate by their code (凭码上岗): the
// scan is the gateway's (recorded as a verification); green is attendance,
// yellow and red are refused with the reason and counted as refusals. A
// code that is not valid is the gateway's 422 and writes nothing here; a
// person not on the roster is a 404 unless the staff number of an unlinked
// line is given, which links that line to them first.
func (s *Service) Gate(ctx context.Context, by *auth.Principal, in GateInput) (*Gate, error) {
	o, err := s.employerOf(ctx, by)
	if err != nil {
		return nil, err
	}
	sc, err := s.gw.Scan(ctx, by, gateway.ScanInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber})
	if err != nil {
		return nil, err
	}
	sub, err := s.gw.Resolve(o, sc.Subject)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	g := &Gate{MaskedName: sc.MaskedName, Color: sc.Color, Admitted: sc.Admitted, Reasons: sc.Reasons, At: now}
	if !g.Admitted {
		g.Reason = codes.ReasonYellow
		for _, r := range admissionReasons {
			if slices.Contains(sc.Reasons, r) {
				g.Reason = r
				break
			}
		}
	}
	in.StaffNo = strings.TrimSpace(in.StaffNo)
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		st, err := scanStaff(tx.QueryRowContext(ctx, `SELECT `+staffCols+` FROM employer_staff WHERE org_id = $1 AND person_num = $2`, o.ID, sub.Person))
		switch {
		case errors.Is(err, sql.ErrNoRows) && in.StaffNo == "":
			return ErrStaffNotFound
		case errors.Is(err, sql.ErrNoRows):
			if st, err = s.link(ctx, tx, by, o, in.StaffNo, sub.Person, "scan"); err != nil {
				return err
			}
			g.LinkedNow = true
		case err != nil:
			return fmt.Errorf("employer: staff of person: %w", err)
		}
		g.Staff = st
		_, err = tx.ExecContext(ctx, `INSERT INTO employer_gate (id, org_id, staff_id, day, at, color, admitted, reason, by_actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, ids.New(), o.ID, st.ID, s.day(now), now.UnixMilli(), g.Color.String(),
			g.Admitted, g.Reason, by.Actor())
		if err != nil {
			return fmt.Errorf("employer: record gate: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// link binds the roster line with the staff number to the person; a line
// linked to someone else is a 409.
func (s *Service) link(ctx context.Context, tx db.Tx, by *auth.Principal, o *org.Org, staffNo string, num int64, how string) (*Staff, error) {
	st, err := scanStaff(tx.QueryRowContext(ctx, `SELECT `+staffCols+` FROM employer_staff WHERE org_id = $1 AND staff_no = $2`, o.ID, staffNo))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrStaffNoUnknown.Withf("no line of the roster has the staff number %q", staffNo)
	}
	if err != nil {
		return nil, fmt.Errorf("employer: staff by number: %w", err)
	}
	return s.bind(ctx, tx, by, o, st, num, how)
}

func (s *Service) bind(ctx context.Context, tx db.Tx, by *auth.Principal, o *org.Org, st *Staff, num int64, how string) (*Staff, error) {
	if st.Linked && st.num != num {
		return nil, ErrStaffLinked.Withf("staff number %s is already linked to another person", st.StaffNo)
	}
	if st.Linked {
		return st, nil
	}
	var other string
	err := tx.QueryRowContext(ctx, `SELECT staff_no FROM employer_staff WHERE org_id = $1 AND person_num = $2`, o.ID, num).Scan(&other)
	if err == nil {
		return nil, ErrAlreadyLinked.Withf("this person is already linked to staff number %s of this roster", other)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("employer: staff of person: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	res, err := tx.ExecContext(ctx, `UPDATE employer_staff SET person_num = $1, linked_at = $2, linked_how = $3 WHERE id = $4 AND person_num IS NULL`,
		num, now.UnixMilli(), how, st.ID)
	if err != nil {
		return nil, fmt.Errorf("employer: link staff: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrStaffLinked.Withf("staff number %s was linked meanwhile", st.StaffNo)
	}
	if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "employer.staff_link", Subject: "org:" + o.ID,
		Region: o.Region, Detail: map[string]any{"staff": st.ID, "how": how}}); err != nil {
		return nil, err
	}
	st.Linked, st.num, st.LinkedAt, st.LinkedHow = true, num, now, how
	return st, nil
}

// Membership is a roster line a resident is linked to, as they see it.
type Membership struct {
	Org        *org.Org
	StaffNo    string
	MaskedName string
	Department string
	LinkedAt   time.Time
	LinkedHow  string
}

// Join links the resident to the roster line with the join code their
// employer gave them, with their consent: from then on the employer sees
// their colour per day at the gate. Audited.
func (s *Service) Join(ctx context.Context, by *auth.Principal, code string, consent bool) (*Membership, error) {
	if by == nil || by.Kind != auth.Resident {
		return nil, ErrResidentOnly
	}
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return nil, err
	}
	if err := s.wrongJoins.Check(by.Actor()); err != nil {
		return nil, err
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	var orgID string
	var st *Staff
	err = db.Each(ctx, s.db, `SELECT org_id, `+staffCols+` FROM employer_staff WHERE join_code = $1`, []any{code}, func(sc db.Scanner) error {
		var err error
		st, err = scanStaff(scanFunc(func(dest ...any) error { return sc.Scan(append([]any{&orgID}, dest...)...) }))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("employer: line by join code: %w", err)
	}
	if st == nil || code == "" {
		s.wrongJoins.Wrong(by.Actor())
		return nil, ErrJoinCodeUnknown
	}
	if !consent {
		return nil, ErrConsentRequired
	}
	o, err := s.orgs.Public(ctx, orgID)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		st, err = s.bind(ctx, tx, by, o, st, me.Num, "consent")
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Membership{Org: o, StaffNo: st.StaffNo, MaskedName: st.MaskedName, Department: st.Department, LinkedAt: st.LinkedAt,
		LinkedHow: st.LinkedHow}, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Memberships lists the rosters the resident is linked to.
func (s *Service) Memberships(ctx context.Context, by *auth.Principal) ([]*Membership, error) {
	me, err := s.persons.ActingFor(ctx, by, "")
	if err != nil {
		return nil, err
	}
	type row struct {
		org string
		st  *Staff
	}
	rows, err := db.Collect(ctx, s.db, `SELECT org_id, `+staffCols+` FROM employer_staff WHERE person_num = $1 ORDER BY linked_at`, []any{me.Num},
		func(sc db.Scanner) (row, error) {
			var r row
			var err error
			r.st, err = scanStaff(scanFunc(func(dest ...any) error { return sc.Scan(append([]any{&r.org}, dest...)...) }))
			return r, err
		})
	if err != nil {
		return nil, fmt.Errorf("employer: memberships: %w", err)
	}
	out := make([]*Membership, 0, len(rows))
	for _, r := range rows {
		o, err := s.orgs.Public(ctx, r.org)
		if err != nil {
			return nil, err
		}
		out = append(out, &Membership{Org: o, StaffNo: r.st.StaffNo, MaskedName: r.st.MaskedName, Department: r.st.Department,
			LinkedAt: r.st.LinkedAt, LinkedHow: r.st.LinkedHow})
	}
	return out, nil
}

// ParseDay reads a day ("" is today).
func (s *Service) ParseDay(v string) (time.Time, error) {
	if v == "" {
		y, m, d := s.now().In(s.loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, s.loc), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.loc)
	if err != nil {
		return time.Time{}, ErrDateInvalid.Withf("date %q is not a day such as 2022-04-01", v)
	}
	return t, nil
}

func (s *Service) day(t time.Time) string { return t.In(s.loc).Format(time.DateOnly) }
