package vaccine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

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

// Sources of a dose.
const (
	SourceScan   = "scan"
	SourceImport = "import"
)

// Dose is a dose given.
type Dose struct {
	ID       string
	Dose     int
	Product  Product
	Lot      string
	SiteID   string
	SiteName string
	Region   string
	GivenAt  time.Time
	Source   string
}

const doseCols = `d.id, d.dose, p.id, p.name, p.maker, p.doses, p.interval_days, d.lot, st.id, st.name, d.region_code, d.given_at, d.source`
const doseFrom = ` FROM vac_doses d JOIN vac_products p ON p.id = d.product_id JOIN vac_sites st ON st.id = d.site_id`

func scanDose(sc db.Scanner) (Dose, error) {
	var d Dose
	var at int64
	err := sc.Scan(&d.ID, &d.Dose, &d.Product.ID, &d.Product.Name, &d.Product.Maker, &d.Product.Doses, &d.Product.IntervalDays,
		&d.Lot, &d.SiteID, &d.SiteName, &d.Region, &at, &d.Source)
	d.GivenAt = db.Time(at)
	return d, err
}

// doses are a person's doses in order.
func (s *Service) doses(ctx context.Context, q db.Querier, num int64) ([]Dose, error) {
	out, err := db.Collect(ctx, q, `SELECT `+doseCols+doseFrom+` WHERE d.person_num = $1 ORDER BY d.dose`, []any{num}, scanDose)
	if err != nil {
		return nil, fmt.Errorf("vaccine: read doses: %w", err)
	}
	return out, nil
}

// DoseInput registers a dose: the person by their scanned code (or, for a
// person without one, identity number), the vaccine, the lot and the dose
// number, at a site; GivenAt zero is now.
type DoseInput struct {
	Code             string
	IDType, IDNumber string
	ProductID        string
	Lot              string
	Dose             int
	SiteID           string
	GivenAt          time.Time
}

// Registered is a dose as the site sees it.
type Registered struct {
	Dose
	PersonID   string
	MaskedName string
}

var lotRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{3,31}$`)

// checkSchedule refuses a dose that breaks the series: a number outside
// it, one that does not follow the doses before, another vaccine than the
// series began with, or too early after the last.
func (s *Service) checkSchedule(prior []Dose, p *Product, dose int, at time.Time) error {
	if dose < 1 || dose > p.Doses {
		return ErrDoseInvalid.Withf("%s has %d doses; dose %d is not one of them", p.Name, p.Doses, dose)
	}
	for _, d := range prior {
		if d.Dose == dose {
			return ErrDoseExists.Withf("dose %d was given on %s", dose, d.GivenAt.In(s.cfg.Location).Format("2006-01-02"))
		}
	}
	if dose != len(prior)+1 {
		return ErrDoseOrder.Withf("the person has %d dose(s) recorded; the next is dose %d, not %d", len(prior), len(prior)+1, dose)
	}
	if len(prior) == 0 {
		return nil
	}
	last := prior[len(prior)-1]
	if last.Product.ID != p.ID {
		return ErrDoseProduct.Withf("the series was begun with %s (%s); dose %d must be the same vaccine, not %s",
			last.Product.Name, last.Product.Maker, dose, p.Name)
	}
	if due := s.due(last, p); at.Before(due) {
		return ErrDoseTooEarly.Withf("dose %d was given on %s; dose %d is due from %s (%d days)", last.Dose,
			last.GivenAt.In(s.cfg.Location).Format("2006-01-02"), dose, due.In(s.cfg.Location).Format("2006-01-02"), p.IntervalDays)
	}
	return nil
}

// Register records a dose given at a site in the operator's scope, after
// scanning the person's code: a dose that breaks the schedule is refused
// with the reason, and nothing is written. The person's open appointment
// for the dose is closed and a vaccine.dose fact is appended.
func (s *Service) Register(ctx context.Context, by *auth.Principal, in DoseInput) (*Registered, error) {
	if err := by.Require(auth.DoseWrite); err != nil {
		return nil, err
	}
	if s.deps.Facts == nil {
		return nil, errNoFacts
	}
	st, err := s.GetSite(ctx, in.SiteID)
	if err != nil {
		return nil, err
	}
	if !by.InScope(st.Region) {
		return nil, ErrSiteNotFound
	}
	if !lotRe.MatchString(in.Lot) {
		return nil, ErrLotInvalid
	}
	p, err := s.product(ctx, s.db, in.ProductID)
	if err != nil {
		return nil, err
	}
	who, method, err := s.identify(ctx, in)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	at := now
	if !in.GivenAt.IsZero() {
		if at = in.GivenAt.UTC().Truncate(time.Millisecond); at.After(now.Add(time.Minute)) {
			return nil, ErrDoseFuture
		}
	}
	r, err := s.store(ctx, by, who, p, st, in.Lot, in.Dose, at, SourceScan, method)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// identify finds the person of a dose.
func (s *Service) identify(ctx context.Context, in DoseInput) (*person.Person, string, error) {
	switch {
	case in.Code != "" && in.IDNumber != "":
		return nil, "", ErrIdentity.Withf("give either code or id_number, not both")
	case in.Code != "":
		if s.deps.Codes == nil {
			return nil, "", errNoCodes
		}
		num, kind, err := s.deps.Codes.Resolve(ctx, strings.TrimSpace(in.Code))
		if err != nil {
			return nil, "", err
		}
		if kind != codeformat.KindDynamic && kind != codeformat.KindCare {
			return nil, "", ErrCodeInvalid.Withf("a %s is not a health code; scan the person's health code or care code", kind)
		}
		p, err := s.persons.Get(ctx, num)
		return p, kind.String(), err
	case in.IDNumber != "":
		if in.IDType == "" {
			in.IDType = string(idnum.ResidentID)
		}
		p, err := s.persons.FindByIDNumber(ctx, in.IDType, in.IDNumber)
		if errors.Is(err, person.ErrNotFound) {
			return nil, "", person.ErrNotFound.Withf("nobody is registered with this identity number; register the person first")
		}
		return p, "id_number", err
	}
	return nil, "", ErrIdentity
}

// store checks the schedule and writes the dose, closes the appointment and
// records the fact.
func (s *Service) store(ctx context.Context, by *auth.Principal, who *person.Person, p *Product, st *Site, lot string, dose int,
	at time.Time, source, method string) (*Registered, error) {
	r := &Registered{Dose: Dose{ID: ids.New(), Dose: dose, Product: *p, Lot: lot, SiteID: st.ID, SiteName: st.Name, Region: st.Region,
		GivenAt: at, Source: source}, PersonID: who.ID, MaskedName: idnum.MaskName(who.Name)}
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		prior, err := s.doses(ctx, tx, who.Num)
		if err != nil {
			return err
		}
		if err := s.checkSchedule(prior, p, dose, at); err != nil {
			return err
		}
		var appt *string
		var id string
		switch err := tx.QueryRowContext(ctx, `SELECT id FROM vac_appointments WHERE person_num = $1 AND dose = $2 AND state = 'booked'`,
			who.Num, dose).Scan(&id); {
		case err == nil:
			appt = &id
			if _, err := tx.ExecContext(ctx, `UPDATE vac_appointments SET state = 'done', closed_at = $1 WHERE id = $2`, s.clock().UnixMilli(), id); err != nil {
				return fmt.Errorf("vaccine: close appointment: %w", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("vaccine: find appointment: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO vac_doses (id, person_num, product_id, dose, lot, site_id, region_code, given_at, recorded_by, source, appointment_id, created_at, fact_recorded)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE)`, r.ID, who.Num, p.ID, dose, lot, st.ID, st.Region, at.UnixMilli(),
			by.Actor(), source, appt, s.clock().UnixMilli())
		if db.IsUniqueViolation(err) {
			return ErrDoseExists.Withf("dose %d of this person is already recorded", dose)
		}
		if err != nil {
			return fmt.Errorf("vaccine: store dose: %w", err)
		}
		if method == "id_number" {
			_, err = audit.Append(ctx, tx, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "vaccine.dose.id_number",
				Subject: "person:" + who.ID, Region: who.Region, Detail: map[string]any{"site": st.ID}})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.metrics.doses.WithLabelValues(source).Inc()
	pd := pendingDose{id: r.ID, person: who.Num, by: by.Actor(), dose: dose, product: p.Name, lot: lot, site: st.Name, at: at}
	if err := s.recordDose(ctx, pd); err != nil {
		// The dose is stored; RecordPending records its fact later.
		s.log.Warn("vaccine: dose stored, its fact left for later", "dose", r.ID, "err", err)
	}
	return r, nil
}

// pendingDose is a stored dose whose fact is to be recorded.
type pendingDose struct {
	id, by, product, lot, site string
	person                     int64
	dose                       int
	at                         time.Time
}

// recordDose records the dose's fact (idempotent by the dose's id) and marks
// the dose recorded.
func (s *Service) recordDose(ctx context.Context, d pendingDose) error {
	if _, err := s.deps.Facts.Record(ctx, status.NewFact{Person: d.person, RecordedBy: d.by, Key: "vaccine.dose:" + d.id,
		Fact: fact.Fact{Kind: fact.VaccineDose, At: d.at, Source: "vaccine:" + d.id, Attrs: map[string]any{
			"dose": int64(d.dose), "product": truncate(d.product, 128), "lot": d.lot, "site": truncate(d.site, 128)}}}); err != nil {
		return fmt.Errorf("vaccine: record the fact of dose %s: %w", d.id, err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE vac_doses SET fact_recorded = TRUE WHERE id = $1`, d.id); err != nil {
		return fmt.Errorf("vaccine: mark dose %s recorded: %w", d.id, err)
	}
	return nil
}

// RecordPending records the facts of doses a failure left behind; the
// server runs it every minute. A dose younger than a minute may still be
// on its way through Register, which records it itself.
func (s *Service) RecordPending(ctx context.Context) error {
	cutoff := s.clock().Add(-time.Minute).UnixMilli()
	todo, err := db.Collect(ctx, s.db, `SELECT d.id, d.person_num, d.recorded_by, d.dose, p.name, d.lot, st.name, d.given_at
		FROM vac_doses d JOIN vac_products p ON p.id = d.product_id JOIN vac_sites st ON st.id = d.site_id
		WHERE d.fact_recorded = FALSE AND d.created_at < $1 ORDER BY d.created_at LIMIT 500`, []any{cutoff},
		func(sc db.Scanner) (pendingDose, error) {
			var d pendingDose
			var at int64
			err := sc.Scan(&d.id, &d.person, &d.by, &d.dose, &d.product, &d.lot, &d.site, &at)
			d.at = db.Time(at)
			return d, err
		})
	if err != nil {
		return fmt.Errorf("vaccine: read pending doses: %w", err)
	}
	for _, d := range todo {
		if err := s.recordDose(ctx, d); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		s.log.Info("vaccine: recorded facts of doses left pending", "doses", len(todo))
	}
	return nil
}

func truncate(v string, n int) string {
	r := []rune(v)
	if len(r) > n {
		return string(r[:n])
	}
	return v
}
