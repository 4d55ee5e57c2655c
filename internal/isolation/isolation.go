// Package isolation runs isolation sites (集中隔离点: hotels, designated
// hospitals, and home isolation managed as a site) with their rooms: the
// admission of a person, identified at the desk by scanning their code or by
// their identity number (audited), temperatures twice a day, discharge and
// release; and the transfer of positives (转运) to a designated hospital or
// site, each step time-stamped in order. Admission records an isolation fact
// until its planned end and release a case.released fact, so colours follow
// through the rules.
package isolation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
)

// Persons finds persons (the person service).
type Persons interface {
	Get(ctx context.Context, num int64) (*person.Person, error)
	FindByIDNumber(ctx context.Context, idType, number string) (*person.Person, error)
	Lookup(ctx context.Context, by *auth.Principal, id string) (*person.Person, error)
}

// CodeResolver turns a scanned code into its person, verified online
// ((*codes.Service).Resolve).
type CodeResolver interface {
	Resolve(ctx context.Context, scanned string) (num int64, kind codeformat.Kind, err error)
}

// FactRecorder records facts and recomputes colours (the status service).
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// Deps are the services isolation uses.
type Deps struct {
	DB       *db.DB
	Persons  Persons
	Codes    CodeResolver
	Facts    FactRecorder
	Log      *slog.Logger
	Location *time.Location // the days of readings (Asia/Shanghai by default)
}

// Service runs isolation sites and transfers. It is safe for concurrent use.
type Service struct {
	db      *db.DB
	persons Persons
	codes   CodeResolver
	facts   FactRecorder
	log     *slog.Logger
	loc     *time.Location
	now     func() time.Time
}

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Location == nil {
		d.Location = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: d.DB, persons: d.Persons, codes: d.Codes, facts: d.Facts, log: d.Log, loc: d.Location, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Kinds of sites.
const (
	Hotel    = "hotel"    // centralised isolation hotel
	Hospital = "hospital" // designated hospital
	Home     = "home"     // home isolation, managed as a site of its community
)

// SiteKinds lists them in the order forms show them.
var SiteKinds = []string{Hotel, Hospital, Home}

// Reasons for isolation (the isolation fact's reason).
var Reasons = []string{"case", "close_contact", "secondary_contact", "inbound", "risk_area", "other"}

// How a stay ends.
const (
	Discharged = "discharged" // left the site, still isolated (to hospital, to home isolation)
	Released   = "released"   // isolation over (case.released)
)

// Where a discharge goes.
const (
	ToHospital = "to_hospital"
	ToHome     = "to_home"
)

// DischargeKinds lists them in the order forms show them.
var DischargeKinds = []string{ToHospital, ToHome}

// ReleaseReasons are the case.released reasons a site gives.
var ReleaseReasons = []string{"isolation_ended", "recovered", "excluded"}

// Site is an isolation site.
type Site struct {
	ID, Kind, Name, Address, Region string
	CreatedAt                       time.Time
	Rooms                           []Room
	Capacity, Occupied              int64 // over the rooms
}

// Room is a room of a site.
type Room struct {
	ID, Site, Number   string
	Capacity, Occupied int64
}

// SiteInput creates a site.
type SiteInput struct {
	Kind, Name, Address, Region string
}

// RoomInput adds a room.
type RoomInput struct {
	Number   string
	Capacity int64
}

const maxBack = 7 * 24 * time.Hour

func (s *Service) checkTime(at time.Time) (time.Time, error) {
	now := s.clock()
	if at.IsZero() {
		return now, nil
	}
	at = at.UTC().Truncate(time.Millisecond)
	if at.After(now.Add(time.Minute)) || at.Before(now.Add(-maxBack)) {
		return time.Time{}, ErrTimeInvalid
	}
	return at, nil
}

func checkNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if _, err := idnum.CleanText("note", note); err != nil || utf8.RuneCountInString(note) > 200 {
		return "", ErrNoteInvalid
	}
	return note, nil
}

// CreateSite adds a site in the operator's region (or a region inside it).
func (s *Service) CreateSite(ctx context.Context, by *auth.Principal, in SiteInput) (*Site, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	if !slices.Contains(SiteKinds, in.Kind) {
		return nil, ErrSiteKindInvalid
	}
	name, err := idnum.CleanText("name", strings.TrimSpace(in.Name))
	if err != nil || name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, ErrSiteNameInvalid
	}
	addr, err := idnum.CleanText("address", strings.TrimSpace(in.Address))
	if err != nil || utf8.RuneCountInString(addr) > 200 {
		return nil, ErrSiteNameInvalid
	}
	region := in.Region
	if region == "" {
		region = by.Region
	}
	if region == "" || !by.InScope(region) {
		return nil, auth.ErrOutOfScope.Withf("region %q is outside your scope %s", region, by.Region)
	}
	st := &Site{ID: ids.New(), Kind: in.Kind, Name: name, Address: addr, Region: region, CreatedAt: s.clock(), Rooms: []Room{}}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO iso_sites (id, kind, name, address, region_code, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, st.ID, st.Kind, st.Name, st.Address, st.Region, st.CreatedAt.UnixMilli(), by.Actor()); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: st.CreatedAt, Actor: by.Actor(), Action: "isolation.site.create",
			Subject: "isolation_site:" + st.ID, Region: st.Region, Detail: map[string]any{"kind": st.Kind}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("isolation: create site: %w", err)
	}
	return st, nil
}

// AddRoom adds a room to a site in scope. A number the site already has is
// a 409.
func (s *Service) AddRoom(ctx context.Context, by *auth.Principal, siteID string, in RoomInput) (*Room, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	st, err := s.site(ctx, s.db, by, siteID)
	if err != nil {
		return nil, err
	}
	num := strings.TrimSpace(in.Number)
	if _, err := idnum.CleanText("number", num); err != nil || num == "" || utf8.RuneCountInString(num) > 20 || in.Capacity < 1 || in.Capacity > 20 {
		return nil, ErrRoomInvalid
	}
	r := &Room{ID: ids.New(), Site: st.ID, Number: num, Capacity: in.Capacity}
	_, err = s.db.ExecContext(ctx, `INSERT INTO iso_rooms (id, site_id, number, capacity, occupied) VALUES ($1, $2, $3, $4, 0)`,
		r.ID, st.ID, r.Number, r.Capacity)
	if db.IsUniqueViolation(err) {
		return nil, ErrRoomExists.Withf("%s already has a room %s", st.Name, num)
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: add room: %w", err)
	}
	return r, nil
}

const siteCols = `id, kind, name, address, region_code, created_at`

func scanSite(sc db.Scanner) (*Site, error) {
	var st Site
	var at int64
	if err := sc.Scan(&st.ID, &st.Kind, &st.Name, &st.Address, &st.Region, &at); err != nil {
		return nil, err
	}
	st.CreatedAt = db.Time(at)
	st.Rooms = []Room{}
	return &st, nil
}

// site reads a site in the caller's scope (outside it: not found).
func (s *Service) site(ctx context.Context, q db.Querier, by *auth.Principal, id string) (*Site, error) {
	st, err := scanSite(q.QueryRowContext(ctx, `SELECT `+siteCols+` FROM iso_sites WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(st.Region)) {
		return nil, ErrSiteNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: read site: %w", err)
	}
	return st, nil
}

func (s *Service) rooms(ctx context.Context, sites map[string]*Site) error {
	ids := make([]any, 0, len(sites))
	for id := range sites {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	return db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT id, site_id, number, capacity, occupied FROM iso_rooms WHERE site_id IN `, nil, ids,
		` ORDER BY number`, func(sc db.Scanner) error {
			var r Room
			if err := sc.Scan(&r.ID, &r.Site, &r.Number, &r.Capacity, &r.Occupied); err != nil {
				return err
			}
			st := sites[r.Site]
			st.Rooms = append(st.Rooms, r)
			st.Capacity += r.Capacity
			st.Occupied += r.Occupied
			return nil
		})
}

// Sites lists the sites in the operator's scope with their rooms.
func (s *Service) Sites(ctx context.Context, by *auth.Principal) ([]*Site, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	cond, args := db.Scope("region_code", lo, hi, nil)
	out, err := db.Collect(ctx, s.db, `SELECT `+siteCols+` FROM iso_sites WHERE `+cond+` ORDER BY region_code, name`, args, scanSite)
	if err != nil {
		return nil, fmt.Errorf("isolation: list sites: %w", err)
	}
	byID := make(map[string]*Site, len(out))
	for _, st := range out {
		byID[st.ID] = st
	}
	if err := s.rooms(ctx, byID); err != nil {
		return nil, fmt.Errorf("isolation: list rooms: %w", err)
	}
	if out == nil {
		out = []*Site{}
	}
	return out, nil
}

// Site is one site in scope with its rooms.
func (s *Service) Site(ctx context.Context, by *auth.Principal, id string) (*Site, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	st, err := s.site(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	if err := s.rooms(ctx, map[string]*Site{st.ID: st}); err != nil {
		return nil, fmt.Errorf("isolation: read rooms: %w", err)
	}
	return st, nil
}

// Identity says who a desk means: a scanned code, an identity number or a
// public person id (one of them).
type Identity struct {
	Code             string
	IDType, IDNumber string
	PersonID         string
}

// identify finds the person; an identity number or a person id is a
// lookup the caller audits (method says which).
func (s *Service) identify(ctx context.Context, by *auth.Principal, in Identity) (*person.Person, string, error) {
	n := 0
	for _, v := range []string{in.Code, in.IDNumber, in.PersonID} {
		if strings.TrimSpace(v) != "" {
			n++
		}
	}
	if n != 1 {
		return nil, "", ErrIdentity
	}
	switch {
	case strings.TrimSpace(in.Code) != "":
		if s.codes == nil {
			return nil, "", errors.New("isolation: no code resolver")
		}
		num, kind, err := s.codes.Resolve(ctx, strings.TrimSpace(in.Code))
		if err != nil {
			return nil, "", err
		}
		if kind != codeformat.KindDynamic && kind != codeformat.KindCare {
			return nil, "", ErrCodeInvalid.Withf("a %s is not a health code; scan the person's health code or care code", kind)
		}
		p, err := s.persons.Get(ctx, num)
		return p, "code", err
	case in.IDNumber != "":
		t := in.IDType
		if t == "" {
			t = string(idnum.ResidentID)
		}
		p, err := s.persons.FindByIDNumber(ctx, t, strings.TrimSpace(in.IDNumber))
		if errors.Is(err, person.ErrNotFound) {
			return nil, "", person.ErrNotFound.Withf("nobody is registered with this identity number; register the person first")
		}
		return p, "id_number", err
	default:
		p, err := s.persons.Lookup(ctx, by, strings.TrimSpace(in.PersonID))
		return p, "person_id", err
	}
}

// Stay is a person's stay at a site, from admission to discharge or
// release.
type Stay struct {
	ID, PersonID, MaskedName string
	Person                   int64
	Site, SiteName, SiteKind string
	Room, RoomNumber         string // empty for home isolation without rooms
	Region                   string
	Reason, Method           string
	AdmittedAt, Until        time.Time
	EndedAt                  time.Time // zero while open
	EndKind, EndNote         string
	Readings                 []Reading
}

// Open reports whether the person is still at the site.
func (st *Stay) Open() bool { return st.EndedAt.IsZero() }

// Reading is a temperature taken at a half-day.
type Reading struct {
	Day     string // YYYY-MM-DD in the region's zone
	Slot    string // am or pm
	Celsius float64
	At      time.Time
	Fever   bool
}

// AdmitInput admits a person.
type AdmitInput struct {
	Identity
	Site, Room string
	Reason     string
	Days       int       // planned length (the isolation fact's until)
	At         time.Time // zero: now; an earlier admission being entered late
}

// Admit admits a person to a site in scope, into a room with a free place
// (a hotel or hospital needs one; home isolation may have none), and
// records the isolation fact until the planned end. Someone already
// admitted, a full room, a room of another site: refused, nothing written.
// Finding the person by identity number is audited with the admission.
func (s *Service) Admit(ctx context.Context, by *auth.Principal, in AdmitInput) (*Stay, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	if s.facts == nil {
		return nil, errors.New("isolation: no fact recorder")
	}
	st, err := s.site(ctx, s.db, by, in.Site)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Reasons, in.Reason) {
		return nil, ErrReasonInvalid
	}
	if in.Days < 1 || in.Days > 28 {
		return nil, ErrDaysInvalid
	}
	at, err := s.checkTime(in.At)
	if err != nil {
		return nil, err
	}
	var room *Room
	if in.Room != "" {
		room = &Room{}
		err := s.db.QueryRowContext(ctx, `SELECT id, number, capacity FROM iso_rooms WHERE id = $1 AND site_id = $2`, in.Room, st.ID).
			Scan(&room.ID, &room.Number, &room.Capacity)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrRoomNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("isolation: read room: %w", err)
		}
	} else if st.Kind != Home {
		return nil, ErrRoomRequired
	}
	p, method, err := s.identify(ctx, by, in.Identity)
	if err != nil {
		return nil, err
	}
	stay := &Stay{ID: ids.New(), PersonID: p.ID, Person: p.Num, MaskedName: idnum.MaskName(p.Name), Site: st.ID, SiteName: st.Name,
		SiteKind: st.Kind, Region: st.Region, Reason: in.Reason, Method: method, AdmittedAt: at, Until: at.AddDate(0, 0, in.Days)}
	var roomID any
	if room != nil {
		stay.Room, stay.RoomNumber, roomID = room.ID, room.Number, room.ID
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var open string
		switch err := tx.QueryRowContext(ctx, `SELECT s.name FROM iso_stays y JOIN iso_sites s ON s.id = y.site_id
			WHERE y.person_num = $1 AND y.ended_at IS NULL`, p.Num).Scan(&open); {
		case err == nil:
			return ErrAlreadyAdmitted.Withf("%s is already admitted at %s", stay.MaskedName, open)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if room != nil {
			res, err := tx.ExecContext(ctx, `UPDATE iso_rooms SET occupied = occupied + 1 WHERE id = $1 AND occupied < capacity`, room.ID)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return ErrRoomFull.Withf("room %s of %s is full (%d places)", room.Number, st.Name, room.Capacity)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iso_stays (id, person_num, masked_name, site_id, room_id, region_code, reason, method,
			admitted_at, until_at, admitted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			stay.ID, p.Num, stay.MaskedName, st.ID, roomID, st.Region, stay.Reason, method, at.UnixMilli(), stay.Until.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrAlreadyAdmitted
		}
		if err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "isolation.admit", Subject: "person:" + p.ID,
			Region: st.Region, Detail: map[string]any{"site": st.ID, "stay": stay.ID, "method": method}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("isolation: admit: %w", err)
	}
	mode := "centralized"
	if st.Kind == Home {
		mode = Home
	}
	// The stay is stored; the fact is idempotent by its key, so a failure
	// here is retried by recording it again, not by a second admission.
	if err := s.record(ctx, by, p.Num, "isolation:"+stay.ID, fact.Fact{Kind: fact.Isolation, At: at, Until: stay.Until,
		Attrs: map[string]any{"mode": mode, "reason": stay.Reason, "site": st.ID}}); err != nil {
		return nil, err
	}
	return stay, nil
}

func (s *Service) record(ctx context.Context, by *auth.Principal, num int64, key string, f fact.Fact) error {
	f.Source = "isolation"
	if _, err := s.facts.Record(ctx, status.NewFact{Person: num, RecordedBy: by.Actor(), Key: key, Fact: f}); err != nil {
		return fmt.Errorf("isolation: record %s: %w", f.Kind, err)
	}
	return nil
}

// EndInput ends a stay: a discharge (Kind to_hospital or to_home) or a
// release (Kind one of ReleaseReasons).
type EndInput struct {
	Kind string
	Note string
	At   time.Time // zero: now
}

// Discharge ends a stay without ending the isolation: the person goes to
// hospital, or home to finish it there (an isolation fact at home until
// the planned end). A stay already ended, or a time before the admission:
// 409, nothing written.
func (s *Service) Discharge(ctx context.Context, by *auth.Principal, stayID string, in EndInput) (*Stay, error) {
	if !slices.Contains(DischargeKinds, in.Kind) {
		return nil, ErrDischargeInvalid
	}
	st, err := s.end(ctx, by, stayID, Discharged, in)
	if err != nil {
		return nil, err
	}
	if in.Kind == ToHome && st.Until.After(st.EndedAt) {
		if err := s.record(ctx, by, st.Person, "isolation.home:"+st.ID, fact.Fact{Kind: fact.Isolation, At: st.EndedAt, Until: st.Until,
			Attrs: map[string]any{"mode": Home, "reason": st.Reason}}); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Release ends a stay and the isolation: case.released is recorded, so the
// colour the isolation gave turns back (a case's red too, when the reason
// is recovered or excluded).
func (s *Service) Release(ctx context.Context, by *auth.Principal, stayID string, in EndInput) (*Stay, error) {
	if !slices.Contains(ReleaseReasons, in.Kind) {
		return nil, ErrReleaseInvalid
	}
	st, err := s.end(ctx, by, stayID, Released, in)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, by, st.Person, "case.released:"+st.ID, fact.Fact{Kind: fact.CaseReleased, At: st.EndedAt,
		Attrs: map[string]any{"reason": in.Kind}}); err != nil {
		return nil, err
	}
	return st, nil
}

func (s *Service) end(ctx context.Context, by *auth.Principal, stayID, kind string, in EndInput) (*Stay, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return nil, err
	}
	at, err := s.checkTime(in.At)
	if err != nil {
		return nil, err
	}
	var st *Stay
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		var err error
		if st, err = s.stay(ctx, tx, by, stayID); err != nil {
			return err
		}
		if !st.Open() {
			return ErrNotAdmitted.Withf("%s was %s at %s", st.MaskedName, st.EndKind, st.EndedAt.In(s.loc).Format("2006-01-02 15:04"))
		}
		if at.Before(st.AdmittedAt) {
			return ErrBeforeAdmission.Withf("%s was admitted at %s", st.MaskedName, st.AdmittedAt.In(s.loc).Format("2006-01-02 15:04"))
		}
		res, err := tx.ExecContext(ctx, `UPDATE iso_stays SET ended_at = $1, end_kind = $2, end_note = $3, ended_by = $4
			WHERE id = $5 AND ended_at IS NULL`, at.UnixMilli(), kind, strings.TrimSpace(in.Kind+" "+note), by.Actor(), st.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotAdmitted
		}
		if st.Room != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE iso_rooms SET occupied = occupied - 1 WHERE id = $1 AND occupied > 0`, st.Room); err != nil {
				return err
			}
		}
		st.EndedAt, st.EndKind, st.EndNote = at, kind, strings.TrimSpace(in.Kind+" "+note)
		_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "isolation." + strings.TrimSuffix(kind, "d"),
			Subject: "person:" + st.PersonID, Region: st.Region, Detail: map[string]any{"stay": st.ID, "kind": in.Kind}})
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("isolation: end stay: %w", err)
	}
	return st, nil
}

const stayCols = `y.id, y.person_num, p.id, y.masked_name, y.site_id, s.name, s.kind, COALESCE(y.room_id, ''), COALESCE(r.number, ''),
	y.region_code, y.reason, y.method, y.admitted_at, y.until_at, y.ended_at, COALESCE(y.end_kind, ''), COALESCE(y.end_note, '')`

const stayFrom = ` FROM iso_stays y JOIN iso_sites s ON s.id = y.site_id JOIN persons p ON p.num = y.person_num
	LEFT JOIN iso_rooms r ON r.id = y.room_id`

func scanStay(sc db.Scanner) (*Stay, error) {
	var st Stay
	var adm, until int64
	var ended sql.NullInt64
	if err := sc.Scan(&st.ID, &st.Person, &st.PersonID, &st.MaskedName, &st.Site, &st.SiteName, &st.SiteKind, &st.Room, &st.RoomNumber,
		&st.Region, &st.Reason, &st.Method, &adm, &until, &ended, &st.EndKind, &st.EndNote); err != nil {
		return nil, err
	}
	st.AdmittedAt, st.Until, st.EndedAt = db.Time(adm), db.Time(until), db.NullTime(ended)
	st.Readings = []Reading{}
	return &st, nil
}

func (s *Service) stay(ctx context.Context, q db.Querier, by *auth.Principal, id string) (*Stay, error) {
	st, err := scanStay(q.QueryRowContext(ctx, `SELECT `+stayCols+stayFrom+` WHERE y.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !by.InScope(st.Region)) {
		return nil, ErrStayNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: read stay: %w", err)
	}
	return st, nil
}

// Stay is one stay in scope with its readings.
func (s *Service) Stay(ctx context.Context, by *auth.Principal, id string) (*Stay, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	st, err := s.stay(ctx, s.db, by, id)
	if err != nil {
		return nil, err
	}
	rs, err := db.Collect(ctx, s.db, `SELECT day, slot, tenths, at FROM iso_readings WHERE stay_id = $1 ORDER BY day, slot`, []any{st.ID},
		func(sc db.Scanner) (Reading, error) {
			var r Reading
			var day, tenths, at int64
			if err := sc.Scan(&day, &r.Slot, &tenths, &at); err != nil {
				return r, err
			}
			r.Day = fmt.Sprintf("%04d-%02d-%02d", day/10000, day/100%100, day%100)
			r.Celsius, r.At = float64(tenths)/10, db.Time(at)
			r.Fever = r.Celsius >= fact.FeverCelsius
			return r, nil
		})
	if err != nil {
		return nil, fmt.Errorf("isolation: read readings: %w", err)
	}
	if rs != nil {
		st.Readings = rs
	}
	return st, nil
}

// StayQuery narrows a list of stays.
type StayQuery struct {
	Site string // one site
	Open bool   // only those still at the site
}

// Stays lists stays at the sites in scope, newest first (at most 500).
func (s *Service) Stays(ctx context.Context, by *auth.Principal, q StayQuery) ([]*Stay, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	lo, hi := by.Bounds()
	cond, args := db.Scope("y.region_code", lo, hi, nil)
	if q.Site != "" {
		args = append(args, q.Site)
		cond += fmt.Sprintf(" AND y.site_id = $%d", len(args))
	}
	if q.Open {
		cond += " AND y.ended_at IS NULL"
	}
	out, err := db.Collect(ctx, s.db, `SELECT `+stayCols+stayFrom+` WHERE `+cond+` ORDER BY y.admitted_at DESC, y.id LIMIT 500`, args, scanStay)
	if err != nil {
		return nil, fmt.Errorf("isolation: list stays: %w", err)
	}
	if out == nil {
		out = []*Stay{}
	}
	return out, nil
}

// Half-days of readings: a morning reading is taken before 14:00 local time.
const (
	AM = "am"
	PM = "pm"
)

const pmFrom = 14 // hour of the region's day

func (s *Service) slotOf(at time.Time) (day int64, slot string) {
	l := at.In(s.loc)
	day = int64(l.Year()*10000 + int(l.Month())*100 + l.Day())
	if l.Hour() < pmFrom {
		return day, AM
	}
	return day, PM
}

// ReadingInput records a temperature.
type ReadingInput struct {
	Celsius float64
	At      time.Time // zero: now
}

// Record records the temperature of a person at a site in the half-day of
// its time. A second reading of the same half-day, a stay that ended, a
// time before the admission: 409, nothing written.
func (s *Service) Record(ctx context.Context, by *auth.Principal, stayID string, in ReadingInput) (*Reading, error) {
	if err := by.Require(auth.IsolationWrite); err != nil {
		return nil, err
	}
	if in.Celsius < 34 || in.Celsius > 43 {
		return nil, ErrTempInvalid
	}
	at, err := s.checkTime(in.At)
	if err != nil {
		return nil, err
	}
	tenths := int64(in.Celsius*10 + 0.5)
	day, slot := s.slotOf(at)
	r := &Reading{Day: fmt.Sprintf("%04d-%02d-%02d", day/10000, day/100%100, day%100), Slot: slot, Celsius: float64(tenths) / 10, At: at}
	r.Fever = r.Celsius >= fact.FeverCelsius
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		st, err := s.stay(ctx, tx, by, stayID)
		if err != nil {
			return err
		}
		if !st.Open() {
			return ErrNotAdmitted.Withf("%s was %s at %s", st.MaskedName, st.EndKind, st.EndedAt.In(s.loc).Format("2006-01-02 15:04"))
		}
		if at.Before(st.AdmittedAt) {
			return ErrBeforeAdmission
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO iso_readings (stay_id, day, slot, tenths, at, by_actor) VALUES ($1, $2, $3, $4, $5, $6)`,
			st.ID, day, slot, tenths, at.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrReadingExists.Withf("the %s reading of %s is already recorded", slot, r.Day)
		}
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("isolation: record reading: %w", err)
	}
	return r, nil
}

// Missing is a half-day without a reading of a person still at a site.
type Missing struct {
	Stay      *Stay
	Day, Slot string
	DueBy     time.Time // the end of the half-day
}

// MissingReadings lists, for the open stays in scope (of one site if
// given), every half-day that has ended since the admission without a
// reading, oldest first.
func (s *Service) MissingReadings(ctx context.Context, by *auth.Principal, site string) ([]Missing, error) {
	stays, err := s.Stays(ctx, by, StayQuery{Site: site, Open: true})
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	keys := make([]any, len(stays))
	for i, st := range stays {
		keys[i] = st.ID
	}
	if len(keys) > 0 {
		err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT stay_id, day, slot FROM iso_readings WHERE stay_id IN `, nil, keys, "",
			func(sc db.Scanner) error {
				var id, slot string
				var day int64
				if err := sc.Scan(&id, &day, &slot); err != nil {
					return err
				}
				have[fmt.Sprint(id, day, slot)] = true
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("isolation: read readings: %w", err)
		}
	}
	now := s.clock()
	out := []Missing{}
	for i := len(stays) - 1; i >= 0; i-- {
		st := stays[i]
		l := st.AdmittedAt.In(s.loc)
		for d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, s.loc); d.Before(now); d = d.AddDate(0, 0, 1) {
			for _, h := range []struct {
				slot string
				end  time.Time
			}{{AM, d.Add(pmFrom * time.Hour)}, {PM, d.AddDate(0, 0, 1)}} {
				if !h.end.After(st.AdmittedAt) || h.end.After(now) {
					continue
				}
				day := int64(d.Year()*10000 + int(d.Month())*100 + d.Day())
				if !have[fmt.Sprint(st.ID, day, h.slot)] {
					out = append(out, Missing{Stay: st, Day: d.Format("2006-01-02"), Slot: h.slot, DueBy: h.end})
				}
			}
		}
	}
	return out, nil
}
