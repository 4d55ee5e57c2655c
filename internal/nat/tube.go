package nat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/person"
)

// Capacities are the tube sizes in use: a single tube and 5-, 10- and
// 20-in-1 mixing (混采).
var Capacities = []int{1, 5, 10, 20}

// Barcodes are printed on the tube and read by a scanner: 4-32 letters,
// digits and dashes. They are compared in upper case, since scanners and
// lab systems disagree about case.
var barcodeRe = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{3,31}$`)

// ParseBarcode normalises a scanned barcode, or refuses it.
func ParseBarcode(v string) (string, error) {
	b := strings.ToUpper(strings.TrimSpace(v))
	if !barcodeRe.MatchString(b) {
		return "", ErrBarcodeInvalid.Withf("a tube barcode is 4-32 letters, digits and dashes, not %q", truncate(v, 40))
	}
	return b, nil
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// Tube is a sampling tube.
type Tube struct {
	Barcode    string
	Capacity   int
	SiteID     string
	Region     string
	Samples    int
	OpenedAt   time.Time
	SealedAt   *time.Time
	TransferID string
	Lab        string
	// Result is the lab's word for the tube (negative, positive, invalid);
	// empty while pending. Version counts reports: 2 and up are corrections.
	Result     string
	Version    int
	ReportedAt *time.Time
	State      string // open, full, sealed, transferred, reported
}

func (t *Tube) state() string {
	switch {
	case t.Result != "":
		return "reported"
	case t.TransferID != "":
		return "transferred"
	case t.SealedAt != nil:
		return "sealed"
	case t.Samples >= t.Capacity:
		return "full"
	}
	return "open"
}

const tubeCols = `t.barcode, t.capacity, t.site_id, t.region_code, t.samples, t.opened_at, t.sealed_at,
	COALESCE(t.transfer_id, ''), COALESCE(x.lab, ''), COALESCE(t.result, ''), t.result_version, t.result_at`

const tubeFrom = ` FROM nat_tubes t LEFT JOIN nat_transfers x ON x.id = t.transfer_id`

func scanTube(row interface{ Scan(...any) error }) (*Tube, error) {
	var t Tube
	var opened int64
	var sealed, reported sql.NullInt64
	if err := row.Scan(&t.Barcode, &t.Capacity, &t.SiteID, &t.Region, &t.Samples, &opened, &sealed,
		&t.TransferID, &t.Lab, &t.Result, &t.Version, &reported); err != nil {
		return nil, err
	}
	t.OpenedAt = db.Time(opened)
	if sealed.Valid {
		at := db.NullTime(sealed)
		t.SealedAt = &at
	}
	if reported.Valid {
		at := db.NullTime(reported)
		t.ReportedAt = &at
	}
	t.State = t.state()
	return &t, nil
}

func (s *Service) tube(ctx context.Context, q db.Querier, barcode string) (*Tube, error) {
	t, err := scanTube(q.QueryRowContext(ctx, `SELECT `+tubeCols+tubeFrom+` WHERE t.barcode = $1`, barcode))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrTubeNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("nat: read tube: %w", err)
	}
	return t, nil
}

// Tube returns a tube in the operator's scope.
func (s *Service) Tube(ctx context.Context, by *auth.Principal, barcode string) (*Tube, error) {
	b, err := ParseBarcode(barcode)
	if err != nil {
		return nil, err
	}
	t, err := s.tube(ctx, s.db, b)
	if err != nil {
		return nil, err
	}
	if by.Kind != auth.Operator || !by.InScope(t.Region) {
		return nil, ErrTubeNotFound
	}
	return t, nil
}

// OpenTube starts a tube at a site: sampling staff scan a new tube's barcode
// and say how many swabs it takes.
func (s *Service) OpenTube(ctx context.Context, by *auth.Principal, barcode string, capacity int, siteID string) (*Tube, error) {
	if err := by.Require(auth.TubeWrite); err != nil {
		return nil, err
	}
	b, err := ParseBarcode(barcode)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(Capacities, capacity) {
		return nil, ErrCapacityInvalid.Withf("capacity must be 1, 5, 10 or 20 swabs, not %d", capacity)
	}
	var t *Tube
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		st, err := s.site(ctx, tx, siteID)
		if err != nil || !by.InScope(st.Region) {
			return ErrSiteNotFound
		}
		if !st.Open {
			return ErrSiteClosed.Withf("sampling site %s is closed; open it first", st.Name)
		}
		now := s.clock()
		_, err = tx.ExecContext(ctx, `INSERT INTO nat_tubes (barcode, capacity, site_id, region_code, samples, opened_at, opened_by, result_version)
			VALUES ($1, $2, $3, $4, 0, $5, $6, 0)`, b, capacity, st.ID, st.Region, now.UnixMilli(), by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrTubeExists.Withf("tube %s was already opened; every tube is used once", b)
		}
		if err != nil {
			return fmt.Errorf("nat: open tube: %w", err)
		}
		t = &Tube{Barcode: b, Capacity: capacity, SiteID: st.ID, Region: st.Region, OpenedAt: now}
		t.State = t.state()
		return nil
	})
	return t, err
}

// SampleInput names the person swabbed: a scanned code, or an identity
// number for people without one.
type SampleInput struct {
	Code     string
	IDType   string
	IDNumber string
}

// Sample is one person's swab in a tube.
type Sample struct {
	ID         string
	Barcode    string
	Position   int
	Capacity   int
	SampledAt  time.Time
	Method     string // dynamic, care, id_number
	PersonID   string
	MaskedName string
	// Full is true when the tube is now full and should be sealed.
	Full bool
}

// AddSample binds a person to a tube. The person comes from a scanned code
// (checked online by the codes service) or, for people without a phone or
// a printed code, from their identity number, which is audited as any
// lookup of a person by an operator. A sealed or full tube, the same person
// twice in a tube and an invalid code are refused.
func (s *Service) AddSample(ctx context.Context, by *auth.Principal, barcode string, in SampleInput) (*Sample, error) {
	if err := by.Require(auth.TubeWrite); err != nil {
		return nil, err
	}
	b, err := ParseBarcode(barcode)
	if err != nil {
		return nil, err
	}
	var p *person.Person
	method := ""
	switch {
	case in.Code != "" && in.IDNumber != "":
		return nil, ErrSampleIdentity.Withf("give either code or id_number, not both")
	case in.Code != "":
		if s.deps.Codes == nil {
			return nil, errNoCodes
		}
		num, kind, err := s.deps.Codes.Resolve(ctx, strings.TrimSpace(in.Code))
		if err != nil {
			return nil, err
		}
		if kind != codeformat.KindDynamic && kind != codeformat.KindCare {
			return nil, ErrCodeInvalid.Withf("a %s is not a health code; scan the person's health code or care code", kind)
		}
		if p, err = s.persons.Get(ctx, num); err != nil {
			return nil, err
		}
		method = kind.String()
	case in.IDNumber != "":
		if in.IDType == "" {
			in.IDType = string(idnum.ResidentID)
		}
		if p, err = s.persons.FindByIDNumber(ctx, in.IDType, in.IDNumber); err != nil {
			if errors.Is(err, person.ErrNotFound) {
				return nil, person.ErrNotFound.Withf("nobody is registered with this identity number; register the person first (POST /admin/persons)")
			}
			return nil, err
		}
		method = "id_number"
	default:
		return nil, ErrSampleIdentity
	}

	smp := &Sample{ID: ids.New(), Barcode: b, Method: method, PersonID: p.ID, MaskedName: idnum.MaskName(p.Name)}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		now := s.clock()
		// The increment is the capacity check: it cannot overfill a tube
		// however many samplers scan into it at once.
		scope, args := db.Scope("region_code", lo(by), hi(by), []any{b})
		var region string
		err := tx.QueryRowContext(ctx, `UPDATE nat_tubes SET samples = samples + 1
			WHERE barcode = $1 AND sealed_at IS NULL AND samples < capacity AND `+scope+`
			RETURNING samples, capacity, region_code`, args...).Scan(&smp.Position, &smp.Capacity, &region)
		if errors.Is(err, sql.ErrNoRows) {
			return s.whyNotFillable(ctx, tx, by, b)
		}
		if err != nil {
			return fmt.Errorf("nat: fill tube: %w", err)
		}
		smp.SampledAt, smp.Full = now, smp.Position == smp.Capacity
		_, err = tx.ExecContext(ctx, `INSERT INTO nat_samples (id, barcode, person_num, position, sampled_at, method, bound_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, smp.ID, b, p.Num, smp.Position, now.UnixMilli(), method, by.Actor())
		if db.IsUniqueViolation(err) {
			return ErrSampleDuplicate.Withf("%s is already in tube %s", smp.MaskedName, b)
		}
		if err != nil {
			return fmt.Errorf("nat: add sample: %w", err)
		}
		if err := noteSampled(ctx, tx, p.Num, p.Region, now.UnixMilli()); err != nil {
			return err
		}
		if err := addSwabs(ctx, tx, map[swabKey]int64{{region, s.day(now), ""}: 1}); err != nil {
			return err
		}
		// A new swab is what a resample task asks for; a retest task
		// needs a single tube.
		if _, err := tx.ExecContext(ctx, `UPDATE nat_tasks SET closed_at = $1, closed_reason = 'sampled', closed_sample = $2
			WHERE person_num = $3 AND closed_at IS NULL AND (kind = 'resample' OR $4 = 1)`,
			now.UnixMilli(), smp.ID, p.Num, smp.Capacity); err != nil {
			return fmt.Errorf("nat: close tasks: %w", err)
		}
		if method == "id_number" {
			_, err = audit.Append(ctx, tx, audit.Entry{At: now, Actor: by.Actor(), Action: "nat.sample.id_number",
				Subject: "person:" + p.ID, Region: p.Region, Detail: map[string]any{"tube": b}})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	s.metrics.samples.Inc()
	return smp, nil
}

func lo(by *auth.Principal) string { l, _ := by.Bounds(); return l }
func hi(by *auth.Principal) string { _, h := by.Bounds(); return h }

// whyNotFillable names what kept a sample out of a tube.
func (s *Service) whyNotFillable(ctx context.Context, q db.Querier, by *auth.Principal, b string) error {
	t, err := s.tube(ctx, q, b)
	if err != nil {
		return err
	}
	switch {
	case !by.InScope(t.Region):
		return ErrTubeNotFound
	case t.SealedAt != nil:
		return ErrTubeSealed.Withf("tube %s is sealed; open a new tube", b)
	case t.Samples >= t.Capacity:
		return ErrTubeFull.Withf("tube %s already holds %d swabs; seal it and open a new tube", b, t.Capacity)
	}
	return fmt.Errorf("nat: tube %s refused a sample for no known reason", b)
}

// Seal closes a tube: nothing more goes in, and it can go to a lab.
func (s *Service) Seal(ctx context.Context, by *auth.Principal, barcode string) (*Tube, error) {
	if err := by.Require(auth.TubeWrite); err != nil {
		return nil, err
	}
	b, err := ParseBarcode(barcode)
	if err != nil {
		return nil, err
	}
	var t *Tube
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		scope, args := db.Scope("region_code", lo(by), hi(by), []any{s.clock().UnixMilli(), by.Actor(), b})
		res, err := tx.ExecContext(ctx, `UPDATE nat_tubes SET sealed_at = $1, sealed_by = $2
			WHERE barcode = $3 AND sealed_at IS NULL AND samples > 0 AND `+scope, args...)
		if err != nil {
			return fmt.Errorf("nat: seal tube: %w", err)
		}
		if t, err = s.tube(ctx, tx, b); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		switch {
		case !by.InScope(t.Region):
			return ErrTubeNotFound
		case t.SealedAt != nil:
			return ErrTubeSealed.Withf("tube %s is already sealed", b)
		case t.Samples == 0:
			return ErrTubeEmpty.Withf("tube %s is empty; an empty tube is not sealed, just not used", b)
		}
		return fmt.Errorf("nat: tube %s was not sealed for no known reason", b)
	})
	return t, err
}

// Transfer is a batch of sealed tubes handed to a lab.
type Transfer struct {
	ID        string
	Lab       string
	Region    string
	Barcodes  []string
	CreatedAt time.Time
	CreatedBy string
}

// MaxTransfer bounds the tubes of one hand-over (a cool box holds a few
// hundred).
const MaxTransfer = 2000

// CreateTransfer hands sealed tubes to a lab in one batch. It is all or
// nothing: a tube that is unknown, not sealed or already handed over
// refuses the whole batch, with every such tube named, so the box and the
// record never disagree.
func (s *Service) CreateTransfer(ctx context.Context, by *auth.Principal, barcodes []string, lab string) (*Transfer, error) {
	if err := by.Require(auth.TubeWrite); err != nil {
		return nil, err
	}
	lab, err := labName(lab)
	if err != nil {
		return nil, err
	}
	if len(barcodes) == 0 || len(barcodes) > MaxTransfer {
		return nil, ErrBarcodesInvalid.Withf("a transfer holds 1-%d tubes", MaxTransfer)
	}
	tr := &Transfer{ID: ids.New(), Lab: lab, Region: by.Region, CreatedBy: by.Actor()}
	seen := map[string]bool{}
	for _, v := range barcodes {
		b, err := ParseBarcode(v)
		if err != nil {
			return nil, err
		}
		if seen[b] {
			return nil, ErrBarcodeDuplicate.Withf("tube %s is listed twice", b)
		}
		seen[b] = true
		tr.Barcodes = append(tr.Barcodes, b)
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		tubes, err := s.tubesByBarcode(ctx, tx, tr.Barcodes)
		if err != nil {
			return err
		}
		var problems []string
		for _, b := range tr.Barcodes {
			t := tubes[b]
			switch {
			case t == nil || !by.InScope(t.Region):
				problems = append(problems, b+": unknown tube")
			case t.SealedAt == nil:
				problems = append(problems, b+": not sealed")
			case t.TransferID != "":
				problems = append(problems, b+": already handed to "+t.Lab)
			}
		}
		if len(problems) > 0 {
			more := ""
			if len(problems) > 20 {
				more = fmt.Sprintf(" (and %d more)", len(problems)-20)
				problems = problems[:20]
			}
			return ErrTransferRefused.Withf("no tube was handed over: %s%s", strings.Join(problems, "; "), more)
		}
		tr.CreatedAt = s.clock()
		if _, err := tx.ExecContext(ctx, `INSERT INTO nat_transfers (id, lab, region_code, tubes, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6)`, tr.ID, tr.Lab, tr.Region, len(tr.Barcodes), tr.CreatedAt.UnixMilli(), tr.CreatedBy); err != nil {
			return fmt.Errorf("nat: insert transfer: %w", err)
		}
		if _, err := db.ExecIn(ctx, tx, s.db.Engine(), `UPDATE nat_tubes SET transfer_id = $1 WHERE transfer_id IS NULL AND barcode IN `,
			[]any{tr.ID}, tr.Barcodes, ``); err != nil {
			return fmt.Errorf("nat: transfer tubes: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// GetTransfer returns a transfer made in the operator's scope.
func (s *Service) GetTransfer(ctx context.Context, by *auth.Principal, id string) (*Transfer, error) {
	tr := &Transfer{ID: id}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT lab, region_code, created_at, created_by FROM nat_transfers WHERE id = $1`, id).
		Scan(&tr.Lab, &tr.Region, &at, &tr.CreatedBy)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (by.Kind != auth.Operator || !by.InScope(tr.Region))) {
		return nil, ErrTransferNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("nat: read transfer: %w", err)
	}
	tr.CreatedAt = db.Time(at)
	if tr.Barcodes, err = db.Collect(ctx, s.db, `SELECT barcode FROM nat_tubes WHERE transfer_id = $1 ORDER BY barcode`, []any{id},
		func(sc db.Scanner) (string, error) {
			var b string
			err := sc.Scan(&b)
			return b, err
		}); err != nil {
		return nil, fmt.Errorf("nat: read transfer: %w", err)
	}
	return tr, nil
}

func labName(v string) (string, error) {
	lab, err := textField(ErrLabInvalid, "lab", v, 1, 128)
	if err != nil {
		return "", ErrLabInvalid
	}
	return lab, nil
}

// tubesByBarcode reads the tubes with these barcodes (at most a few
// thousand; the caller chunks).
func (s *Service) tubesByBarcode(ctx context.Context, q db.Querier, barcodes []string) (map[string]*Tube, error) {
	out := make(map[string]*Tube, len(barcodes))
	err := db.QueryIn(ctx, q, s.db.Engine(), `SELECT `+tubeCols+tubeFrom+` WHERE t.barcode IN `, nil, barcodes, ``, func(sc db.Scanner) error {
		t, err := scanTube(sc)
		if err != nil {
			return err
		}
		out[t.Barcode] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("nat: read tubes: %w", err)
	}
	return out, nil
}

// TubeSample is one swab in a tube as its page lists it: the person
// masked.
type TubeSample struct {
	Position  int
	SampledAt time.Time
	Method    string
	Person    PersonRef
}

// TubeSamples lists who is in a tube of the operator's scope, in the
// order swabbed, masked, for a reader with person.read; the read is
// audited like any list of persons.
func (s *Service) TubeSamples(ctx context.Context, by *auth.Principal, barcode string) ([]TubeSample, error) {
	if err := by.Require(auth.PersonRead); err != nil {
		return nil, err
	}
	t, err := s.Tube(ctx, by, barcode)
	if err != nil {
		return nil, err
	}
	type row struct {
		num      int64
		position int
		at       int64
		method   string
	}
	rows, err := db.Collect(ctx, s.db, `SELECT person_num, position, sampled_at, method FROM nat_samples WHERE barcode = $1 ORDER BY position`,
		[]any{t.Barcode}, func(sc db.Scanner) (row, error) {
			var r row
			err := sc.Scan(&r.num, &r.position, &r.at, &r.method)
			return r, err
		})
	if err != nil {
		return nil, fmt.Errorf("nat: read the tube's samples: %w", err)
	}
	out := make([]TubeSample, 0, len(rows))
	listed := make([]string, 0, len(rows))
	for _, r := range rows {
		p, err := s.persons.Get(ctx, r.num)
		if err != nil {
			return nil, err
		}
		out = append(out, TubeSample{Position: r.position, SampledAt: db.Time(r.at), Method: r.method, Person: s.personRef(p)})
		listed = append(listed, p.ID)
	}
	if len(listed) > 0 {
		err = audit.Record(ctx, s.db, audit.Entry{At: s.clock(), Actor: by.Actor(), Action: "nat.tube.read",
			Subject: "tube:" + t.Barcode, Region: t.Region, Detail: map[string]any{"results": listed}})
	}
	return out, err
}
