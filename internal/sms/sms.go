// Package sms sends text messages to residents: one-time codes and colour
// change notices. Every message is first stored in the outbox (a table, the
// phone sealed) and then handed by a background worker to the provider: a
// real gateway (Kannel, which speaks SMPP and the carriers' other
// protocols) or the outbox itself, the default for demos and tests, which
// sends nothing and keeps the messages for operators to read
// (GET /admin/outbox). A gateway that is down or slow loses nothing: the
// message waits, is retried with backoff, and shows its state (queued,
// sent, delivered, failed) to operators.
package sms

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/secret"
)

// Message is one text message.
type Message struct {
	To string // normalised mainland mobile number
	// Body is the text; when empty it is the template of Purpose in Lang
	// filled with Vars (see Render).
	Body    string
	Purpose string // the kind: KindLoginCode, KindColourChange, ...
	Lang    string // "zh-CN" or "en"; "" is the outbox's default language
	Vars    map[string]string
	Region  string // region of the recipient, for the scoped outbox view
	// TTL is how long the message is worth sending (a login code: as long
	// as the code is valid); 0 is the outbox's Expiry.
	TTL time.Duration
}

// Sender delivers messages. Send must be safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message states.
const (
	StateQueued    = "queued"    // waiting for the gateway
	StateSent      = "sent"      // the gateway took it
	StateDelivered = "delivered" // it reached the phone (or the outbox, which is where demo residents read it)
	StateFailed    = "failed"    // refused by the carrier, or expired before the gateway took it
)

// Config is how the outbox sends.
type Config struct {
	// Provider carries the messages; nil is the outbox itself (Hold).
	Provider Provider
	// Lang is the language of messages whose sender does not choose one
	// (default zh-CN).
	Lang string
	// Rate bounds what all nodes together hand to the provider (default
	// 20 a second); PhoneRate bounds what one phone receives (default 20
	// in 10 minutes). A message over either waits; none is dropped.
	Rate, PhoneRate Rate
	// Expiry is how long a message without a TTL of its own is retried
	// before it is marked failed (default a day).
	Expiry time.Duration
	// RetryMin and RetryMax bound the backoff between attempts to hand a
	// message to a gateway that failed (defaults 5 s and 10 minutes).
	RetryMin, RetryMax time.Duration
	// ReportURL is where the gateway reports delivery (the API's
	// /sms/dlr), and ReportSecret the key of the token each message's
	// report URL carries. Without them no reports are asked for.
	ReportURL    string
	ReportSecret []byte
	Log          *slog.Logger
}

// Defaults.
var (
	DefaultRate      = Rate{N: 20, Per: time.Second}
	DefaultPhoneRate = Rate{N: 20, Per: 10 * time.Minute}
)

const (
	DefaultExpiry   = 24 * time.Hour
	defaultRetryMin = 5 * time.Second
	defaultRetryMax = 10 * time.Minute
)

func (c *Config) defaults() {
	if c.Provider == nil {
		c.Provider = Hold{}
	}
	if c.Lang == "" {
		c.Lang = LangZH
	}
	if c.Rate == (Rate{}) {
		c.Rate = DefaultRate
	}
	if c.PhoneRate == (Rate{}) {
		c.PhoneRate = DefaultPhoneRate
	}
	if c.Expiry <= 0 {
		c.Expiry = DefaultExpiry
	}
	if c.RetryMin <= 0 {
		c.RetryMin = defaultRetryMin
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(defaultRetryMax, c.RetryMin)
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Outbox stores messages and sends them through its provider. It is the
// Sender of the platform.
type Outbox struct {
	db   *db.DB
	keys *secret.Keyring
	cfg  Config
	now  func() time.Time
	wake chan struct{}
}

// NewOutbox returns an outbox that keeps messages for operators to read
// and sends nothing: the default provider.
func NewOutbox(d *db.DB, keys *secret.Keyring) *Outbox { return New(d, keys, Config{}) }

// New returns an outbox sending through cfg.Provider.
func New(d *db.DB, keys *secret.Keyring, cfg Config) *Outbox {
	cfg.defaults()
	return &Outbox{db: d, keys: keys, cfg: cfg, now: time.Now, wake: make(chan struct{}, 1)}
}

// SetClock replaces the clock, for tests.
func (o *Outbox) SetClock(now func() time.Time) { o.now = now }

// Provider is the name of the provider messages go through.
func (o *Outbox) Provider() string { return o.cfg.Provider.Name() }

// Send queues m; the worker (Run) hands it to the provider.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	err := o.db.InTx(ctx, func(tx db.Tx) error { return o.SendTx(ctx, tx, m) })
	if err == nil {
		o.poke()
	}
	return err
}

// SendTx queues m in the caller's transaction, so a message is queued if
// and only if the change that caused it commits.
func (o *Outbox) SendTx(ctx context.Context, tx db.Tx, m Message) error {
	body := m.Body
	if body == "" {
		var err error
		if body, err = Render(m.Purpose, o.lang(m.Lang), m.Vars); err != nil {
			return err
		}
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = o.cfg.Expiry
	}
	id, err := db.NextVal(ctx, tx, "sms_outbox", 1)
	if err != nil {
		return err
	}
	now := o.now().UnixMilli()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO sms_outbox (id, to_hash, to_enc, region_code, purpose, body, created_at, state, provider, next_at, expires_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		id, o.keys.BlindIndex("phone", m.To), o.keys.SealString(m.To, fmt.Sprintf("sms_outbox.to:%d", id)),
		m.Region, m.Purpose, body, now, StateQueued, o.cfg.Provider.Name(), now, now+ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("sms: store message: %w", err)
	}
	return nil
}

func (o *Outbox) lang(l string) string {
	if l == "" {
		return o.cfg.Lang
	}
	return l
}

// Wake wakes the worker after a caller's transaction queued a message
// with SendTx, so that a login code does not wait for its tick.
func (o *Outbox) Wake() { o.poke() }

// poke wakes the worker so that a login code does not wait for its tick.
func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Item is a stored message.
type Item struct {
	ID        int64
	To        string
	Region    string
	Purpose   string
	Body      string
	At        time.Time
	Provider  string
	State     string
	Attempts  int64
	SentAt    time.Time
	DoneAt    time.Time // delivered or failed
	Report    int64     // the last delivery report's type
	LastError string
}

// Filter selects messages; Lo/Hi are the reader's region bounds.
type Filter struct {
	To     string // normalised phone, "" for all
	State  string // one of the states, "" for all
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
	Actor() string           // who reads, for the audit log
}

// Open reports whether operators may read the outbox: only while it is the
// provider (demos, tests, load generation), where it stands in for the
// residents' phones. With a real gateway the messages are the residents'.
func (o *Outbox) Open() bool { return o.cfg.Provider.Name() == holdName }

// codeDigits is how a login code shows in a message.
var codeDigits = regexp.MustCompile(`\d{4,}`)

// ListFor returns the messages a reader may see, newest first: none
// unless their role reads the outbox, and only those to persons of their
// scope, whatever bounds f asks for. Its login codes let whoever reads them
// log in as the resident, so every read is audited (outbox.read, with the
// messages shown), and the outbox is closed while a real gateway carries
// the messages (ErrOutboxOff). Codes of messages that went to a gateway
// before the deployment switched back to the outbox stay masked.
func (o *Outbox) ListFor(ctx context.Context, by Reader, f Filter) ([]Item, error) {
	if err := by.MayReadOutbox(); err != nil {
		return nil, err
	}
	if !o.Open() {
		return nil, ErrOutboxOff.Withf("the outbox is off: text messages go to the residents' phones through the SMS gateway (%s)", o.Provider())
	}
	f.Lo, f.Hi = by.Bounds()
	items, err := o.List(ctx, f)
	if err != nil {
		return nil, err
	}
	ids, codes := make([]int64, len(items)), 0
	for i := range items {
		ids[i] = items[i].ID
		if items[i].Purpose != KindLoginCode {
			continue
		}
		if items[i].Provider != holdName {
			items[i].Body = codeDigits.ReplaceAllStringFunc(items[i].Body, func(s string) string { return "******"[:min(len(s), 6)] })
		} else {
			codes++
		}
	}
	detail := map[string]any{"messages": ids, "login_codes": codes}
	if f.To != "" {
		detail["to"] = idnum.MaskPhone(f.To)
	}
	if f.State != "" {
		detail["state"] = f.State
	}
	err = o.db.InTx(ctx, func(tx db.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: o.now(), Actor: by.Actor(), Action: "outbox.read", Subject: "outbox",
			Region: f.Lo, Detail: detail})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sms: audit the outbox read: %w", err)
	}
	return items, nil
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
	if f.State != "" && !validState(f.State) {
		return nil, ErrStateUnknown.Withf("unknown state %q: use queued, sent, delivered or failed", f.State)
	}
	var toHash []byte
	if f.To != "" {
		toHash = o.keys.BlindIndex("phone", f.To)
	}
	scan := func(sc db.Scanner) (Item, error) {
		var it Item
		var enc []byte
		var at, sent, done int64
		if err := sc.Scan(&it.ID, &enc, &it.Region, &it.Purpose, &it.Body, &at, &it.Provider, &it.State, &it.Attempts,
			&sent, &done, &it.Report, &it.LastError); err != nil {
			return it, err
		}
		var err error
		if it.To, err = o.keys.OpenString(enc, fmt.Sprintf("sms_outbox.to:%d", it.ID)); err != nil {
			return it, fmt.Errorf("message %d: %w", it.ID, err)
		}
		it.At, it.SentAt, it.DoneAt = db.Time(at), db.Time(sent), db.Time(done)
		return it, nil
	}
	var out []Item
	var err error
	if toHash != nil {
		query, args := listQuery(f, toHash)
		out, err = db.Collect(ctx, o.db, query, args, scan)
	} else {
		var w db.Where
		w.Scope("region_code", f.Lo, f.Hi)
		if f.State != "" {
			w.Add("state = ?", f.State)
			if f.State == StateFailed || f.State == StateQueued {
				// Few messages fail or wait: a window of the newest
				// holds few of them (sms_outbox_state).
				w.Narrow()
			}
		}
		out, err = db.Page(ctx, o.db, browseOutbox, w, f.Before, f.Limit, scan)
	}
	if err != nil {
		return nil, fmt.Errorf("sms: list outbox: %w", err)
	}
	return out, nil
}

// outboxCols are the columns List reads.
const outboxCols = `id, to_enc, region_code, purpose, body, created_at, provider, state, attempts,
		sent_at, done_at, report, last_error`

// browseOutbox is the outbox newest first, a page of a scope at a time
// (db.Browse).
var browseOutbox = db.Browse{Table: "sms_outbox", Alias: "m", Key: "id", Desc: true, Cols: outboxCols}

// listQuery reads one phone's messages with the filters f has (a phone's messages
// through the index on to_hash, never a scan of the whole outbox).
func listQuery(f Filter, toHash []byte) (string, []any) {
	var w db.Where
	w.Add("id < ?", f.Before)
	w.Scope("region_code", f.Lo, f.Hi)
	if toHash != nil {
		w.Add("to_hash = ?", toHash)
	}
	if f.State != "" {
		w.Add("state = ?", f.State)
	}
	return `SELECT ` + outboxCols + ` FROM sms_outbox WHERE ` + w.SQL() + ` ORDER BY id DESC LIMIT ` + w.Next(f.Limit), w.Args
}

func validState(s string) bool {
	switch s {
	case StateQueued, StateSent, StateDelivered, StateFailed:
		return true
	}
	return false
}

// delayedAfter is how long a message may wait for the gateway before the
// login page warns that codes are slow.
const delayedAfter = 30 * time.Second

// Delayed reports whether messages are held up on their way to the
// gateway right now: one waits to be retried after a failed attempt, or
// has waited longer than half a minute. The login page then tells the
// resident that the code may be late. The outbox provider is never late:
// a message is in the outbox as soon as it is queued.
func (o *Outbox) Delayed(ctx context.Context) (bool, error) {
	if o.cfg.Provider.Name() == holdName {
		return false, nil
	}
	now := o.now().UnixMilli()
	var n int
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM sms_outbox WHERE state = 'queued' AND expires_at > $1
		AND (attempts > 0 OR created_at < $2) LIMIT 1) AS late`, now, now-delayedAfter.Milliseconds()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sms: read the queue: %w", err)
	}
	return n > 0, nil
}
