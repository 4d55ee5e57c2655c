// Package sms sends text messages to residents: one-time codes and colour
// change notices. Production deployments plug in their carrier gateway as a
// Sender; the default Sender is the outbox, a table operators can read
// (GET /admin/outbox), which is also how tests and the load generator
// receive one-time codes.
package sms

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/secret"
)

// Message is one text message.
type Message struct {
	To      string // normalised mainland mobile number
	Body    string
	Purpose string // "otp", "status", ...
	Region  string // region of the recipient, for the scoped outbox view
}

// Sender delivers messages. Send must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox is the default Sender: it stores messages with the phone sealed.
type Outbox struct {
	db   *db.DB
	keys *secret.Keyring
	now  func() time.Time
}

// NewOutbox returns the outbox provider.
func NewOutbox(d *db.DB, keys *secret.Keyring) *Outbox {
	return &Outbox{db: d, keys: keys, now: time.Now}
}

// Send stores m.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	return o.db.InTx(ctx, func(tx db.Tx) error { return o.SendTx(ctx, tx, m) })
}

// SendTx stores m in the caller's transaction, so a message is queued if and
// only if the change that caused it commits.
func (o *Outbox) SendTx(ctx context.Context, tx db.Tx, m Message) error {
	id, err := db.NextVal(ctx, tx, "sms_outbox", 1)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO sms_outbox (id, to_hash, to_enc, region_code, purpose, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, o.keys.BlindIndex("phone", m.To), o.keys.SealString(m.To, fmt.Sprintf("sms_outbox.to:%d", id)),
		m.Region, m.Purpose, m.Body, o.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("sms: store message: %w", err)
	}
	return nil
}

// Item is a stored message.
type Item struct {
	ID      int64
	To      string
	Region  string
	Purpose string
	Body    string
	At      time.Time
}

// Filter selects messages; Lo/Hi are the reader's region bounds.
type Filter struct {
	To     string // normalised phone, "" for all
	Lo, Hi string
	Before int64
	Limit  int
}

// Reader is an operator reading the outbox (an *auth.Principal). sms sits
// below auth, which sends through it, so the reader answers for its own
// role and scope.
type Reader interface {
	MayReadOutbox() error    // nil when the reader's role reads the outbox
	Bounds() (lo, hi string) // the reader's scope
}

// ListFor returns the messages a reader may see, newest first: none
// unless their role reads the outbox, and only those to persons of their
// scope, whatever bounds f asks for.
func (o *Outbox) ListFor(ctx context.Context, by Reader, f Filter) ([]Item, error) {
	if err := by.MayReadOutbox(); err != nil {
		return nil, err
	}
	f.Lo, f.Hi = by.Bounds()
	return o.List(ctx, f)
}

// List returns messages newest first within the region bounds of f, for
// the platform itself (tests read one-time codes here): operators read
// through ListFor.
func (o *Outbox) List(ctx context.Context, f Filter) ([]Item, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	if f.Before <= 0 {
		f.Before = 1 << 62
	}
	var toHash []byte
	if f.To != "" {
		toHash = o.keys.BlindIndex("phone", f.To)
	}
	scope, args := db.Scope("region_code", f.Lo, f.Hi, []any{f.Before})
	out, err := db.Collect(ctx, o.db, `SELECT id, to_enc, region_code, purpose, body, created_at FROM sms_outbox
		 WHERE id < $1 AND `+scope+` AND ($4 = FALSE OR to_hash = $5) ORDER BY id DESC LIMIT $6`,
		append(args, toHash != nil, toHash, f.Limit), func(sc db.Scanner) (Item, error) {
			var it Item
			var enc []byte
			var at int64
			if err := sc.Scan(&it.ID, &enc, &it.Region, &it.Purpose, &it.Body, &at); err != nil {
				return it, err
			}
			var err error
			if it.To, err = o.keys.OpenString(enc, fmt.Sprintf("sms_outbox.to:%d", it.ID)); err != nil {
				return it, fmt.Errorf("message %d: %w", it.ID, err)
			}
			it.At = db.Time(at)
			return it, nil
		})
	if err != nil {
		return nil, fmt.Errorf("sms: list outbox: %w", err)
	}
	return out, nil
}
