package nat

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
)

// PersonRef is a person on an operator's list: masked, always.
type PersonRef struct {
	ID         string
	Name       string
	Phone      string
	Region     string
	RegionName string
}

func (s *Service) personRef(p *person.Person) PersonRef {
	r := PersonRef{ID: p.ID, Name: idnum.MaskName(p.Name), Region: p.Region, RegionName: s.regions.FullName(p.Region)}
	if p.Phone != "" {
		r.Phone = idnum.MaskPhone(p.Phone)
	}
	return r
}

// Alert is a single-tube positive for the health officers of the person's
// region.
type Alert struct {
	ID          string
	Person      PersonRef
	Tube        string
	Site        SiteRef
	SampledAt   time.Time
	CreatedAt   time.Time
	AckedAt     *time.Time
	AckedBy     string
	RetractedAt *time.Time // the lab corrected the result
}

// ListQuery pages an operator's list, newest first.
type ListQuery struct {
	Region string // narrow to a region in scope
	Open   bool   // only unacknowledged alerts / open tasks
	Kind   string // tasks: retest or resample
	After  string // the Next of the previous page
	Limit  int
}

// A page ends at an item (created_at, id); the next page starts after it in
// the order created_at DESC, id DESC. The id breaks ties: a tube's tasks
// are all made in the same instant.
func cursor(c string) (ms int64, id string, err error) {
	if c == "" {
		return 1 << 62, "", nil
	}
	a, b, ok := strings.Cut(c, ".")
	ms, perr := strconv.ParseInt(a, 10, 64)
	if !ok || perr != nil || b == "" {
		return 0, "", ErrAfterInvalid
	}
	return ms, b, nil
}

func nextCursor(at time.Time, id string) string {
	return strconv.FormatInt(at.UnixMilli(), 10) + "." + id
}

func (s *Service) scope(by *auth.Principal, region string) (lo, hi string, err error) {
	if region == "" {
		lo, hi = by.Bounds()
		return lo, hi, nil
	}
	if err := s.regions.Validate(region); err != nil {
		return "", "", err
	}
	if !by.InScope(region) {
		return "", "", ErrRegionNotFound.Withf("no region %s in your scope", region)
	}
	lo, hi = auth.Bounds(region)
	return lo, hi, nil
}

func limit(n int) int {
	if n <= 0 || n > 200 {
		return 50
	}
	return n
}

// persons decrypts the persons of a list, for masked display.
func (s *Service) personsByNum(ctx context.Context, nums []int64) (map[int64]*person.Person, error) {
	out := make(map[int64]*person.Person, len(nums))
	for _, n := range nums {
		if _, ok := out[n]; ok {
			continue
		}
		p, err := s.persons.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		out[n] = p
	}
	return out, nil
}

// Alerts lists the alerts of persons in the operator's scope, newest first.
// The persons listed are audited as an operator's read of them.
func (s *Service) Alerts(ctx context.Context, by *auth.Principal, q ListQuery) (alerts []Alert, next string, err error) {
	if err := by.Require(auth.AlertRead); err != nil {
		return nil, "", err
	}
	lo, hi, err := s.scope(by, q.Region)
	if err != nil {
		return nil, "", err
	}
	ms, id, err := cursor(q.After)
	if err != nil {
		return nil, "", err
	}
	scope, args := db.Scope("a.region_code", lo, hi, nil)
	where := scope + ` AND (a.created_at < $3 OR (a.created_at = $3 AND a.id < $4))`
	if q.Open {
		where += ` AND a.acked_at IS NULL AND a.retracted_at IS NULL`
	}
	lim := limit(q.Limit)
	type row struct {
		a   Alert
		num int64
	}
	list, err := db.Collect(ctx, s.db, `SELECT a.id, a.person_num, a.barcode, a.sampled_at, a.created_at, a.acked_at,
		COALESCE(a.acked_by, ''), a.retracted_at, st.id, st.name, st.address
		FROM nat_alerts a JOIN nat_sites st ON st.id = a.site_id WHERE `+where+` ORDER BY a.created_at DESC, a.id DESC LIMIT $5`,
		append(args, ms, id, lim), func(sc db.Scanner) (row, error) {
			var r row
			var sampled, created int64
			var acked, retracted sql.NullInt64
			if err := sc.Scan(&r.a.ID, &r.num, &r.a.Tube, &sampled, &created, &acked, &r.a.AckedBy, &retracted,
				&r.a.Site.ID, &r.a.Site.Name, &r.a.Site.Address); err != nil {
				return r, err
			}
			r.a.SampledAt, r.a.CreatedAt = db.Time(sampled), db.Time(created)
			if acked.Valid {
				t := db.NullTime(acked)
				r.a.AckedAt = &t
			}
			if retracted.Valid {
				t := db.NullTime(retracted)
				r.a.RetractedAt = &t
			}
			return r, nil
		})
	if err != nil {
		return nil, "", fmt.Errorf("nat: list alerts: %w", err)
	}
	nums := make([]int64, len(list))
	for i, r := range list {
		nums[i] = r.num
	}
	ps, err := s.personsByNum(ctx, nums)
	if err != nil {
		return nil, "", err
	}
	out := make([]Alert, len(list))
	listed := make([]string, len(list))
	for i, r := range list {
		r.a.Person = s.personRef(ps[r.num])
		out[i], listed[i] = r.a, r.a.Person.ID
	}
	if err := audit.Record(ctx, s.db, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "nat.alerts.read",
		Subject: "nat_alerts", Region: lo, Detail: map[string]any{"results": listed}}); err != nil {
		return nil, "", err
	}
	if len(out) == lim {
		next = nextCursor(out[lim-1].CreatedAt, out[lim-1].ID)
	}
	return out, next, nil
}

// AckAlert records that a health officer has taken an alert in hand.
func (s *Service) AckAlert(ctx context.Context, by *auth.Principal, id string) error {
	if err := by.Require(auth.AlertRead); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx db.Tx) error {
		var region string
		var acked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT region_code, acked_at FROM nat_alerts WHERE id = $1`, id).Scan(&region, &acked)
		if err == sql.ErrNoRows || (err == nil && !by.InScope(region)) {
			return ErrAlertNotFound
		}
		if err != nil {
			return fmt.Errorf("nat: read alert: %w", err)
		}
		if acked.Valid {
			return ErrAlertAcked
		}
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `UPDATE nat_alerts SET acked_at = $1, acked_by = $2 WHERE id = $3`, now.UnixMilli(), by.Actor(), id); err != nil {
			return fmt.Errorf("nat: ack alert: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "nat.alert.ack", Subject: "alert:" + id, Region: region})
		return err
	})
}

// GridTask is a follow-up task on a grid worker's list.
type GridTask struct {
	Task
	Person       PersonRef
	ClosedAt     *time.Time
	ClosedReason string // sampled, superseded
}

// Tasks lists follow-up tasks of persons in the operator's scope, newest
// first; audited as a read of the persons listed.
func (s *Service) Tasks(ctx context.Context, by *auth.Principal, q ListQuery) (tasks []GridTask, next string, err error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, "", err
	}
	lo, hi, err := s.scope(by, q.Region)
	if err != nil {
		return nil, "", err
	}
	if q.Kind != "" && q.Kind != "retest" && q.Kind != "resample" {
		return nil, "", ErrKindInvalid
	}
	ms, id, err := cursor(q.After)
	if err != nil {
		return nil, "", err
	}
	var w db.Where
	w.Scope("region_code", lo, hi)
	w.Add("(created_at < ? OR (created_at = ? AND id < ?))", ms, ms, id)
	if q.Kind != "" {
		w.Add("kind = ?", q.Kind)
	}
	if q.Open {
		w.Add("closed_at IS NULL")
	}
	lim := limit(q.Limit)
	where := w.SQL()
	var list []GridTask
	var nums []int64
	err = db.Each(ctx, s.db, `SELECT id, kind, barcode, created_at, person_num, closed_at, COALESCE(closed_reason, '')
		FROM nat_tasks WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT `+w.Next(lim), w.Args, func(sc db.Scanner) error {
		var t GridTask
		var created int64
		var num int64
		var closed sql.NullInt64
		if err := sc.Scan(&t.ID, &t.Kind, &t.Tube, &created, &num, &closed, &t.ClosedReason); err != nil {
			return err
		}
		t.CreatedAt = db.Time(created)
		if closed.Valid {
			c := db.NullTime(closed)
			t.ClosedAt = &c
		}
		list, nums = append(list, t), append(nums, num)
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("nat: list tasks: %w", err)
	}
	ps, err := s.personsByNum(ctx, nums)
	if err != nil {
		return nil, "", err
	}
	listed := make([]string, len(list))
	for i := range list {
		list[i].Person = s.personRef(ps[nums[i]])
		listed[i] = list[i].Person.ID
	}
	if list == nil {
		list = []GridTask{}
	}
	if err := audit.Record(ctx, s.db, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "nat.tasks.read",
		Subject: "nat_tasks", Region: lo, Detail: map[string]any{"results": listed}}); err != nil {
		return nil, "", err
	}
	if len(list) == lim {
		next = nextCursor(list[lim-1].CreatedAt, list[lim-1].ID)
	}
	return list, next, nil
}
