// Package coldchain is cold-chain food traceability (冷链食品追溯): an
// importer registers a batch of imported frozen food (origin, product, port,
// customs declaration, quantity) and prints its batch code on the goods;
// holders pass it on by scanning the code (so every batch has a chain),
// scan their workers' health codes with it (the handlers), and sample it;
// a positive sample finds, in one run, every holder downstream of where it
// was sampled with what it still holds or sold and every handler at those
// holders, records cold_chain.exposure for the handlers (the rules act on
// it) and opens tasks for those holders (seal the stock, disinfect); the
// holders upstream are listed for information only. Consumers read a batch's origin, inspections and
// chain by its code, without any personal data.
package coldchain

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/ids"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/prometheus/client_golang/prometheus"
)

// Orgs authorises gateway callers and reads organisations (the
// organisation service).
type Orgs interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*org.Org, error)
	Public(ctx context.Context, id string) (*org.Org, error)
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

// Deps are the services the cold chain uses.
type Deps struct {
	DB       *db.DB
	Orgs     Orgs
	Subjects Subjects
	Persons  Persons
	Facts    FactRecorder
	Log      *slog.Logger
	Location *time.Location        // times in reports (Asia/Shanghai by default)
	Metrics  prometheus.Registerer // nil: not registered
}

// Service keeps batches, their chains, handlers and inspections. It is safe
// for concurrent use.
type Service struct {
	db       *db.DB
	orgs     Orgs
	subjects Subjects
	persons  Persons
	facts    FactRecorder
	log      *slog.Logger
	loc      *time.Location
	now      func() time.Time
	m        *metrics
}

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Location == nil {
		d.Location = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: d.DB, orgs: d.Orgs, subjects: d.Subjects, persons: d.Persons, facts: d.Facts, log: d.Log, loc: d.Location,
		now: time.Now, m: newMetrics(d.Metrics)}
}

// SetClock replaces the clock, for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Kinds of moves in a batch's chain.
const (
	MoveImport   = "import"   // the importer registered the batch
	MoveTransfer = "transfer" // a holder passed some on to another
	MoveSale     = "sale"     // a holder sold some to consumers
)

// Kinds of inspections and results.
const (
	Goods        = "goods"        // nucleic-acid sample of the food
	Packaging    = "packaging"    // nucleic-acid sample of the packaging
	Disinfection = "disinfection" // a disinfection, with its certificate
)

// InspectionKinds lists them in the order forms show them.
var InspectionKinds = []string{Goods, Packaging, Disinfection}

// Kinds of tasks a positive inspection opens.
const (
	TaskSeal      = "seal"      // seal the stock still held
	TaskDisinfect = "disinfect" // disinfect the premises where the batch was
)

// Batch is a batch of imported cold-chain food.
type Batch struct {
	ID, Code      string
	Importer      string // organisation id
	ImporterName  string
	Region        string // the importer's
	Product       string
	OriginCountry string // ISO 3166 alpha-2
	Port          string
	Declaration   string // customs declaration number (报关单号)
	Quantity      int64  // cases
	CreatedAt     time.Time
	PositiveAt    time.Time // zero until a positive inspection
}

// Positive reports whether an inspection of the batch was positive.
func (b *Batch) Positive() bool { return !b.PositiveAt.IsZero() }

// BatchInput registers a batch.
type BatchInput struct {
	Product, OriginCountry, Port, Declaration string
	Quantity                                  int64
}

const (
	maxQuantity = 10_000_000
	maxProduct  = 100
	maxPort     = 50
	maxCert     = 50
)

var (
	countryRE     = regexp.MustCompile(`^[A-Z]{2}$`)
	declarationRE = regexp.MustCompile(`^[0-9]{18}$`)
	codeRE        = regexp.MustCompile(`^CC[0-9A-HJKMNP-TV-Z]{14}$`)
)

// codeAlphabet is Crockford's base32: no I, L, O, U, so a code typed from
// the label is not misread.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func newCode() string {
	b := make([]byte, 14)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = codeAlphabet[b[i]&31]
	}
	return "CC" + string(b)
}

// ParseCode reads a batch code from what a scanner typed: the code itself
// or the public page's address the label's QR holds (…/cc/CODE); case and
// surrounding space do not matter.
func ParseCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToUpper(s)
	if !codeRE.MatchString(s) {
		return "", ErrCodeInvalid
	}
	return s, nil
}

func checkBatch(in BatchInput) (BatchInput, error) {
	in.Product, in.Port = strings.TrimSpace(in.Product), strings.TrimSpace(in.Port)
	in.OriginCountry = strings.ToUpper(strings.TrimSpace(in.OriginCountry))
	in.Declaration = strings.TrimSpace(in.Declaration)
	if n := utf8.RuneCountInString(in.Product); n == 0 || n > maxProduct {
		return in, ErrProductInvalid
	}
	if !countryRE.MatchString(in.OriginCountry) {
		return in, ErrCountryInvalid
	}
	if n := utf8.RuneCountInString(in.Port); n == 0 || n > maxPort {
		return in, ErrPortInvalid
	}
	if !declarationRE.MatchString(in.Declaration) {
		return in, ErrDeclarationInvalid
	}
	if err := checkQuantity(in.Quantity); err != nil {
		return in, err
	}
	return in, nil
}

func checkQuantity(q int64) error {
	if q < 1 || q > maxQuantity {
		return ErrQuantityInvalid
	}
	return nil
}

// holder authorises a holder's key (scope) or account.
func (s *Service) holder(ctx context.Context, by *auth.Principal, scope string) (*org.Org, error) {
	o, err := s.orgs.Authorize(ctx, by, scope)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(org.ColdChainHolders, o.Kind) {
		return nil, ErrNotHolder
	}
	return o, nil
}

// Register records an imported batch for an importer's key (scope
// coldchain.batch) or account: the importer holds all of it, and the batch
// gets the code printed on its goods.
func (s *Service) Register(ctx context.Context, by *auth.Principal, in BatchInput) (*Batch, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainBatch)
	if err != nil {
		return nil, err
	}
	if in, err = checkBatch(in); err != nil {
		return nil, err
	}
	b := &Batch{ID: ids.New(), Code: newCode(), Importer: o.ID, ImporterName: o.Name, Region: o.Region, Product: in.Product,
		OriginCountry: in.OriginCountry, Port: in.Port, Declaration: in.Declaration, Quantity: in.Quantity, CreatedAt: s.clock()}
	at := b.CreatedAt.UnixMilli()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cc_batches (id, code, importer_id, region, product, origin_country, port,
				declaration, quantity, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			b.ID, b.Code, o.ID, o.Region, b.Product, b.OriginCountry, b.Port, b.Declaration, b.Quantity, at, by.Actor()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cc_stock (batch_id, org_id, org_region, received, held, sold, received_at)
				VALUES ($1, $2, $3, $4, $4, 0, $5)`, b.ID, o.ID, o.Region, b.Quantity, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cc_moves (id, batch_id, kind, from_org, to_org, quantity, at, by_actor)
				VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)`, ids.New(), b.ID, MoveImport, o.ID, b.Quantity, at, by.Actor())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("coldchain: register batch: %w", err)
	}
	return b, nil
}

const batchCols = `b.id, b.code, b.importer_id, o.name, b.region, b.product, b.origin_country, b.port, b.declaration, b.quantity,
	b.created_at, b.positive_at`

const batchFrom = ` FROM cc_batches b JOIN orgs o ON o.id = b.importer_id`

func scanBatch(sc db.Scanner) (*Batch, error) {
	var b Batch
	var at int64
	var pos sql.NullInt64
	if err := sc.Scan(&b.ID, &b.Code, &b.Importer, &b.ImporterName, &b.Region, &b.Product, &b.OriginCountry, &b.Port,
		&b.Declaration, &b.Quantity, &at, &pos); err != nil {
		return nil, err
	}
	b.CreatedAt = db.Time(at)
	if pos.Valid {
		b.PositiveAt = db.Time(pos.Int64)
	}
	return &b, nil
}

// byCode reads a batch by what was scanned.
func (s *Service) byCode(ctx context.Context, q db.Querier, scanned string) (*Batch, error) {
	code, err := ParseCode(scanned)
	if err != nil {
		return nil, err
	}
	b, err := scanBatch(q.QueryRowContext(ctx, `SELECT `+batchCols+batchFrom+` WHERE b.code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBatchNotFound.Withf("no batch has the code %s", code)
	}
	if err != nil {
		return nil, fmt.Errorf("coldchain: read batch: %w", err)
	}
	return b, nil
}

func (s *Service) byID(ctx context.Context, id string) (*Batch, error) {
	b, err := scanBatch(s.db.QueryRowContext(ctx, `SELECT `+batchCols+batchFrom+` WHERE b.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBatchNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("coldchain: read batch: %w", err)
	}
	return b, nil
}

// held is what org holds of a batch now (0 if it never held any).
func held(ctx context.Context, q db.Querier, batch, orgID string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT held FROM cc_stock WHERE batch_id = $1 AND org_id = $2`, batch, orgID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// MoveInput passes on or sells part of a batch, by its scanned code.
type MoveInput struct {
	Code     string // what the scanner read
	To       string // the receiving holder's id (a transfer); empty for a sale
	Quantity int64
}

// Move is a step of a batch's chain.
type Move struct {
	ID, Batch, Kind  string
	From, To         string // organisation ids ("" for the import's from, a sale's to)
	FromName, ToName string
	Quantity         int64
	At               time.Time
}

// Transfer passes part of a batch the caller's organisation holds on to
// another holder, for a holder's key (scope coldchain.move) or account:
// the code scanned from the goods, the recipient, the quantity. More than
// held, a batch not held, an unknown recipient: refused, nothing written.
func (s *Service) Transfer(ctx context.Context, by *auth.Principal, in MoveInput) (*Move, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainMove)
	if err != nil {
		return nil, err
	}
	if in.To == "" || in.To == o.ID {
		return nil, ErrRecipientInvalid
	}
	to, err := s.orgs.Public(ctx, in.To)
	if errors.Is(err, org.ErrNotFound) {
		return nil, ErrRecipientInvalid.Withf("no organisation %q", in.To)
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(org.ColdChainHolders, to.Kind) {
		return nil, ErrRecipientInvalid.Withf("%s is not a cold-chain holder", to.Name)
	}
	return s.move(ctx, by, o, to, in)
}

// Sell records part of a batch sold to consumers, as Transfer does.
func (s *Service) Sell(ctx context.Context, by *auth.Principal, in MoveInput) (*Move, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainMove)
	if err != nil {
		return nil, err
	}
	in.To = ""
	return s.move(ctx, by, o, nil, in)
}

func (s *Service) move(ctx context.Context, by *auth.Principal, from, to *org.Org, in MoveInput) (*Move, error) {
	if err := checkQuantity(in.Quantity); err != nil {
		return nil, err
	}
	b, err := s.byCode(ctx, s.db, in.Code)
	if err != nil {
		return nil, err
	}
	m := &Move{ID: ids.New(), Batch: b.ID, Kind: MoveSale, From: from.ID, FromName: from.Name, Quantity: in.Quantity, At: s.clock()}
	if to != nil {
		m.Kind, m.To, m.ToName = MoveTransfer, to.ID, to.Name
	}
	at := m.At.UnixMilli()
	err = s.db.InTx(ctx, func(tx db.Tx) error {
		// The giver's and the receiver's rows are locked first, in the holders'
		// order: taken giver first, two moves between the same holders in
		// opposite directions each held the row the other waited for.
		if to != nil {
			if err := db.LockRows(ctx, tx, s.db.Engine(), `SELECT org_id FROM cc_stock WHERE batch_id = $1 AND org_id IN ($2, $3)
				ORDER BY org_id FOR UPDATE`, b.ID, from.ID, to.ID); err != nil {
				return err
			}
		}
		have, err := held(ctx, tx, b.ID, from.ID)
		if err != nil {
			return err
		}
		if have == 0 {
			return ErrNotHeld.Withf("%s holds none of batch %s", from.Name, b.Code)
		}
		if in.Quantity > have {
			return ErrQuantityExceeds.Withf("%s holds %d of batch %s, not %d", from.Name, have, b.Code, in.Quantity)
		}
		sold := int64(0)
		if to == nil {
			sold = in.Quantity
		}
		// The condition keeps two concurrent moves from taking the same stock.
		res, err := tx.ExecContext(ctx, `UPDATE cc_stock SET held = held - $1, sold = sold + $2
			WHERE batch_id = $3 AND org_id = $4 AND held >= $1`, in.Quantity, sold, b.ID, from.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrQuantityExceeds.Withf("the stock of batch %s changed meanwhile", b.Code)
		}
		var toID any
		if to != nil {
			toID = to.ID
			if _, err := tx.ExecContext(ctx, `INSERT INTO cc_stock (batch_id, org_id, org_region, received, held, sold, received_at)
					VALUES ($1, $2, $3, $4, $4, 0, $5)
					ON CONFLICT (batch_id, org_id) DO UPDATE SET received = cc_stock.received + $4, held = cc_stock.held + $4`,
				b.ID, to.ID, to.Region, in.Quantity, at); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO cc_moves (id, batch_id, kind, from_org, to_org, quantity, at, by_actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.ID, b.ID, m.Kind, from.ID, toID, m.Quantity, at, by.Actor())
		return err
	})
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("coldchain: move: %w", err)
	}
	if to != nil {
		s.m.transfers.Inc()
	} else {
		s.m.sales.Inc()
	}
	return m, nil
}

// Handling is a worker's health code scanned with a batch's code.
type Handling struct {
	ID, Batch, Org string
	OrgName        string
	MaskedName     string
	At             time.Time
}

// Handle records that the person a scan referred to handles a batch the
// caller's organisation holds, for a holder's key (scope
// coldchain.handler) or account: the worker's health code is scanned
// first (POST /gateway/v1/scan), then the batch code with the reference.
func (s *Service) Handle(ctx context.Context, by *auth.Principal, subject, code string) (*Handling, error) {
	o, err := s.holder(ctx, by, org.ScopeColdChainHandler)
	if err != nil {
		return nil, err
	}
	sub, err := s.subjects.Resolve(o, subject)
	if err != nil {
		return nil, err
	}
	b, err := s.byCode(ctx, s.db, code)
	if err != nil {
		return nil, err
	}
	have, err := held(ctx, s.db, b.ID, o.ID)
	if err != nil {
		return nil, fmt.Errorf("coldchain: read stock: %w", err)
	}
	if have == 0 {
		return nil, ErrNotHeld.Withf("%s holds none of batch %s", o.Name, b.Code)
	}
	p, err := s.persons.Get(ctx, sub.Person)
	if err != nil {
		return nil, err
	}
	h := &Handling{ID: ids.New(), Batch: b.ID, Org: o.ID, OrgName: o.Name, MaskedName: idnum.MaskName(p.Name), At: s.clock()}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO cc_handlings (id, batch_id, org_id, person_num, masked_name, at, by_actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, h.ID, b.ID, o.ID, p.Num, h.MaskedName, h.At.UnixMilli(), by.Actor()); err != nil {
		return nil, fmt.Errorf("coldchain: store handling: %w", err)
	}
	s.m.handlings.Inc()
	return h, nil
}
