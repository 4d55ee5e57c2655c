// Package pharmacy is the gateway's pharmacy scenario (一码购药): a
// pharmacy scans the buyer's code, registers the purchase of a watched drug
// (the drug classes are data the health authority edits), and the purchase
// becomes the fact pharmacy.purchase, which the default rules turn yellow
// until a negative test. Each pharmacy sees its own day (list, counts, CSV);
// the authority sees purchases per town.
package pharmacy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/status"
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

// Persons reads a person by number (the person service).
type Persons interface {
	Get(ctx context.Context, num int64) (*person.Person, error)
}

// FactRecorder records facts and recomputes colours (the status service).
type FactRecorder interface {
	Record(ctx context.Context, facts ...status.NewFact) (int, error)
}

// Colors is the status cache.
type Colors interface {
	Color(num int64) (rules.Color, uint64)
}

// Config tunes the service.
type Config struct {
	Region   string         // the deployment's region: drug classes are edited for all of it
	Location *time.Location // "days" of reports (Asia/Shanghai by default)
	// PendingAfter is how old a purchase whose fact is not recorded must be
	// before the worker records it (default 1 minute: the request that
	// stored it is done by then).
	PendingAfter time.Duration
}

// Service registers purchases and reports them. It is safe for concurrent use.
type Service struct {
	db       *db.DB
	orgs     Orgs
	subjects Subjects
	persons  Persons
	facts    FactRecorder
	colors   Colors
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
}

// Deps are the services the pharmacy scenario uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Subjects Subjects
	Persons  Persons
	Facts    FactRecorder
	Colors   Colors
	Log      *slog.Logger
}

// New returns the service.
func New(d Deps, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.PendingAfter <= 0 {
		cfg.PendingAfter = time.Minute
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{db: d.DB, orgs: d.Orgs, subjects: d.Subjects, persons: d.Persons, facts: d.Facts, colors: d.Colors,
		cfg: cfg, log: d.Log, now: time.Now}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Item is one product of a purchase.
type Item struct {
	Name     string
	Quantity int64
}

// PurchaseInput is a purchase at the till, after the scan.
type PurchaseInput struct {
	Subject   string // the reference the scan answered
	DrugClass string
	Items     []Item // optional
}

// Purchase is a registered purchase, as the pharmacy sees it.
type Purchase struct {
	ID         string
	Org        string
	DrugClass  string
	Items      []Item
	At         time.Time
	MaskedName string
	// Color is the buyer's colour once the purchase is recorded (at
	// registration only; lists leave it empty).
	Color rules.Color
}

const maxItems = 20

func checkItems(in []Item) ([]Item, error) {
	if len(in) > maxItems {
		return nil, ErrItemsInvalid
	}
	out := make([]Item, 0, len(in))
	for _, it := range in {
		it.Name = strings.TrimSpace(it.Name)
		if it.Quantity == 0 {
			it.Quantity = 1
		}
		if n := utf8.RuneCountInString(it.Name); n == 0 || n > 100 || it.Quantity < 1 || it.Quantity > 999 {
			return nil, ErrItemsInvalid
		}
		out = append(out, it)
	}
	return out, nil
}

// Register records a purchase of a watched drug by the person a scan
// referred to, for a pharmacy's key (scope pharmacy.purchase) or account.
// The purchase is stored, then recorded as the fact pharmacy.purchase,
// which recomputes the buyer's colour before the answer. Refused input
// writes nothing.
func (s *Service) Register(ctx context.Context, by *auth.Principal, in PurchaseInput) (*Purchase, error) {
	o, err := s.orgs.Authorize(ctx, by, org.ScopePharmacyPurchase)
	if err != nil {
		return nil, err
	}
	if o.Kind != org.Pharmacy {
		return nil, ErrNotPharmacy
	}
	sub, err := s.subjects.Resolve(o, in.Subject)
	if err != nil {
		return nil, err
	}
	items, err := checkItems(in.Items)
	if err != nil {
		return nil, err
	}
	c, err := s.class(ctx, s.db, in.DrugClass)
	if err != nil {
		return nil, err
	}
	if c == nil || !c.Active {
		return nil, ErrDrugClassUnknown.Withf("no drug class %q in use (GET /gateway/v1/pharmacy/drug-classes lists them)", in.DrugClass)
	}
	p, err := s.persons.Get(ctx, sub.Person)
	if err != nil {
		return nil, err
	}
	pu := &Purchase{ID: ids.New(), Org: o.ID, DrugClass: c.Code, Items: items, At: s.now().UTC().Truncate(time.Millisecond),
		MaskedName: idnum.MaskName(p.Name)}
	itemsJSON, err := json.Marshal(itemsOut(items))
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pharmacy_purchases (id, org_id, org_region, person_num, person_region, masked_name,
				drug_class, items, at, recorded_by, fact_recorded)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE)`,
			pu.ID, o.ID, o.Region, p.Num, p.Region, pu.MaskedName, c.Code, string(itemsJSON), pu.At.UnixMilli(), by.Actor())
		if err != nil {
			return fmt.Errorf("pharmacy: store purchase: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.recordFact(ctx, pending{id: pu.ID, org: o.ID, person: p.Num, class: c.Code, items: items, at: pu.At, by: by.Actor()}); err != nil {
		// The purchase is stored; RecordPending records its fact later.
		return nil, err
	}
	pu.Color, _ = s.colors.Color(p.Num)
	if !pu.Color.Valid() {
		pu.Color = rules.Green
	}
	return pu, nil
}

type itemJSON struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
}

func itemsOut(in []Item) []itemJSON {
	out := make([]itemJSON, len(in))
	for i, it := range in {
		out[i] = itemJSON(it)
	}
	return out
}

// pending is a stored purchase whose fact is to be recorded.
type pending struct {
	id, org, class, by string
	person             int64
	items              []Item
	at                 time.Time
}

// recordFact records the purchase's fact (idempotent by the purchase's id)
// and marks the purchase recorded.
func (s *Service) recordFact(ctx context.Context, p pending) error {
	attrs := map[string]any{"drug_class": p.class, "pharmacy": p.org}
	if len(p.items) > 0 {
		names := make([]string, len(p.items))
		for i, it := range p.items {
			names[i] = it.Name
		}
		drug := strings.Join(names, "、")
		if r := []rune(drug); len(r) > 128 {
			drug = string(r[:127]) + "…"
		}
		attrs["drug"] = drug
	}
	_, err := s.facts.Record(ctx, status.NewFact{Person: p.person, RecordedBy: p.by, Key: "pharmacy.purchase:" + p.id,
		Fact: fact.Fact{Kind: fact.PharmacyPurchase, At: p.at, Source: "pharmacy:" + p.org, Attrs: attrs}})
	if err != nil {
		return fmt.Errorf("pharmacy: record fact of purchase %s: %w", p.id, err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE pharmacy_purchases SET fact_recorded = TRUE WHERE id = $1`, p.id); err != nil {
		return fmt.Errorf("pharmacy: mark purchase %s recorded: %w", p.id, err)
	}
	return nil
}

// RecordPending records the facts of purchases a failure left behind (the
// status engine was unreachable, the node stopped between the two steps);
// the server runs it every minute.
func (s *Service) RecordPending(ctx context.Context) error {
	cutoff := s.now().Add(-s.cfg.PendingAfter).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT id, org_id, person_num, drug_class, items, at, recorded_by FROM pharmacy_purchases
		WHERE fact_recorded = FALSE AND at < $1 ORDER BY at LIMIT 500`, cutoff)
	if err != nil {
		return fmt.Errorf("pharmacy: read pending purchases: %w", err)
	}
	var todo []pending
	for rows.Next() {
		var p pending
		var items string
		var at int64
		if err := rows.Scan(&p.id, &p.org, &p.person, &p.class, &items, &at, &p.by); err != nil {
			rows.Close()
			return fmt.Errorf("pharmacy: read pending purchases: %w", err)
		}
		p.at, p.items = db.Time(at), parseItems(items)
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range todo {
		if err := s.recordFact(ctx, p); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		s.log.Info("pharmacy: recorded facts of purchases left pending", "purchases", len(todo))
	}
	return nil
}

func parseItems(s string) []Item {
	var in []itemJSON
	if json.Unmarshal([]byte(s), &in) != nil {
		return nil
	}
	out := make([]Item, len(in))
	for i, it := range in {
		out[i] = Item(it)
	}
	return out
}
