package sms

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// The worker claims up to batchSize messages at a time for lease: other
// nodes leave them alone meanwhile. A node that has spent half the lease on
// a batch (a slow gateway) hands the rest back rather than risk another
// node sending them too.
const (
	batchSize = 50
	lease     = 2 * time.Minute
	// tick is how often the worker looks for due messages when nothing
	// wakes it.
	tick = time.Second
	// rateCounter is the row of the counters table that holds the global
	// rate's schedule (the generic cell rate algorithm's theoretical
	// arrival time, in unix microseconds), shared by all nodes.
	rateCounter = "sms_rate_tat"
)

// Run sends queued messages until ctx ends: at once when a message is
// queued on this node, otherwise every second, and as fast as the rates
// allow.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-t.C:
		}
		wait, err := o.deliver(ctx)
		if err != nil && ctx.Err() == nil {
			o.cfg.Log.Error("sms: sending queued messages failed", "err", err)
		}
		if wait <= 0 || wait > tick {
			wait = tick
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Deliver hands every due message to the provider, within the rates, and
// returns when none is left that the rates allow now.
func (o *Outbox) Deliver(ctx context.Context) error {
	_, err := o.deliver(ctx)
	return err
}

// deliver is Deliver that also says how long the global rate holds back
// the next message (0: nothing is held back).
func (o *Outbox) deliver(ctx context.Context) (time.Duration, error) {
	for ctx.Err() == nil {
		batch, wait, err := o.claim(ctx)
		if err != nil || wait > 0 {
			return wait, err
		}
		claimed := o.now()
		for i, m := range batch {
			if o.now().Sub(claimed) > lease/2 {
				return 0, o.release(ctx, batch[i:])
			}
			if err := o.sendOne(ctx, m); err != nil {
				return 0, err
			}
		}
		if len(batch) < batchSize {
			return 0, nil
		}
	}
	return 0, ctx.Err()
}

type queued struct {
	id        int64
	toHash    []byte
	toEnc     []byte
	body      string
	purpose   string
	attempts  int64
	expiresAt int64
}

// claim takes the due messages the global rate allows now, pushing their
// next_at a lease ahead; with SKIP LOCKED on PostgreSQL nodes do not wait
// for each other's claims. wait > 0 is how long the rate holds back the
// next message.
func (o *Outbox) claim(ctx context.Context) (batch []queued, wait time.Duration, err error) {
	now := o.now()
	rate := o.cfg.Rate
	err = o.db.InTx(ctx, func(tx db.Tx) error {
		limit := int64(batchSize)
		var start, step int64
		if !rate.Unlimited() {
			var tat int64
			// Taking the row's lock first makes claims of all nodes
			// share the rate one after another.
			err := tx.QueryRowContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 0)
				ON CONFLICT (name) DO UPDATE SET value = counters.value RETURNING value`, rateCounter).Scan(&tat)
			if err != nil {
				return fmt.Errorf("sms: read the send rate: %w", err)
			}
			nowUs := now.UnixMicro()
			step = max(rate.interval().Microseconds(), 1)
			burst := rate.Per.Microseconds()
			start = max(tat, nowUs)
			if start > nowUs+burst {
				// Set by a slower rate before a restart with this one.
				start = nowUs + burst
				if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`, start, rateCounter); err != nil {
					return fmt.Errorf("sms: reset the send rate: %w", err)
				}
			}
			allowed := (nowUs + burst - start) / step
			if allowed <= 0 {
				wait = time.Duration(start-burst+step-nowUs) * time.Microsecond
				return nil
			}
			limit = min(limit, allowed)
		}
		ms := now.UnixMilli()
		// The due rows are chosen once (MATERIALIZED): PostgreSQL may run
		// a LIMIT subquery of an UPDATE's WHERE more than once and take
		// more rows than the rate allows.
		err := db.Each(ctx, tx, `WITH due AS MATERIALIZED (SELECT id FROM sms_outbox WHERE state = 'queued' AND next_at <= $2
			ORDER BY next_at, id LIMIT $3`+o.skipLocked()+`)
			UPDATE sms_outbox SET next_at = $1 WHERE id IN (SELECT id FROM due)
			RETURNING id, to_hash, to_enc, body, purpose, attempts, expires_at`,
			[]any{ms + lease.Milliseconds(), ms, limit}, func(sc db.Scanner) error {
				var q queued
				if err := sc.Scan(&q.id, &q.toHash, &q.toEnc, &q.body, &q.purpose, &q.attempts, &q.expiresAt); err != nil {
					return err
				}
				batch = append(batch, q)
				return nil
			})
		if err != nil {
			return fmt.Errorf("sms: claim messages: %w", err)
		}
		if !rate.Unlimited() && len(batch) > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = $1 WHERE name = $2`,
				start+int64(len(batch))*step, rateCounter); err != nil {
				return fmt.Errorf("sms: spend the send rate: %w", err)
			}
		}
		return nil
	})
	slices.SortFunc(batch, func(a, b queued) int { return int(a.id - b.id) })
	return batch, wait, err
}

func (o *Outbox) skipLocked() string {
	if o.db.Engine() == db.Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// release hands claimed messages back to the queue, due now.
func (o *Outbox) release(ctx context.Context, batch []queued) error {
	for _, m := range batch {
		if _, err := o.db.ExecContext(context.WithoutCancel(ctx), `UPDATE sms_outbox SET next_at = $1 WHERE id = $2 AND state = 'queued'`,
			o.now().UnixMilli(), m.id); err != nil {
			return fmt.Errorf("sms: release message %d: %w", m.id, err)
		}
	}
	return nil
}

// sendOne hands one claimed message to the provider and records what
// became of it. What it writes after the provider answered is written
// even when ctx ends meanwhile: a message the gateway took must not be
// sent again.
func (o *Outbox) sendOne(ctx context.Context, m queued) error {
	now := o.now()
	if m.expiresAt <= now.UnixMilli() {
		o.cfg.Log.Warn("sms: a message expired before the gateway took it", "id", m.id, "attempts", m.attempts)
		return o.fail(ctx, m, now, m.attempts, "expired before the gateway took it")
	}
	if held, until, err := o.overPhoneRate(ctx, m, now); err != nil || held {
		if err != nil {
			return err
		}
		_, err = o.db.ExecContext(ctx, `UPDATE sms_outbox SET next_at = $1, last_error = $2 WHERE id = $3 AND state = 'queued'`,
			until.UnixMilli(), fmt.Sprintf("held back: this phone had %d messages in %s", o.cfg.PhoneRate.N, o.cfg.PhoneRate.Per), m.id)
		if err != nil {
			return fmt.Errorf("sms: hold message %d back: %w", m.id, err)
		}
		return nil
	}
	to, err := o.keys.OpenString(m.toEnc, fmt.Sprintf("sms_outbox.to:%d", m.id))
	if err != nil {
		return fmt.Errorf("sms: message %d: %w", m.id, err)
	}
	receipt, serr := o.cfg.Provider.Submit(ctx, Outgoing{ID: m.id, To: to, Body: m.body, Purpose: m.purpose, ReportURL: o.reportURL(m.id)})
	wctx := context.WithoutCancel(ctx)
	attempts := m.attempts + 1
	if serr != nil {
		retry := o.backoff(attempts)
		if now.Add(retry).UnixMilli() >= m.expiresAt {
			o.cfg.Log.Warn("sms: the gateway did not take a message before it expired", "id", m.id, "attempts", attempts, "err", serr)
			return o.fail(wctx, m, now, attempts, serr.Error())
		}
		o.cfg.Log.Warn("sms: the gateway did not take a message; will retry", "id", m.id, "attempts", attempts, "retry_in", retry, "err", serr)
		_, err := o.db.ExecContext(wctx, `UPDATE sms_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4 AND state = 'queued'`,
			attempts, now.Add(retry).UnixMilli(), truncate(serr.Error(), 500), m.id)
		if err != nil {
			return fmt.Errorf("sms: reschedule message %d: %w", m.id, err)
		}
		return nil
	}
	state, done := StateSent, int64(0)
	if receipt.Delivered {
		state, done = StateDelivered, now.UnixMilli()
	}
	// A delivery report may have come in first (Kannel reports the
	// carrier's acceptance as soon as it has it): a state it set stays.
	_, err = o.db.ExecContext(wctx, `UPDATE sms_outbox SET attempts = $1, last_error = '',
		sent_at = CASE WHEN sent_at = 0 THEN $2 ELSE sent_at END,
		done_at = CASE WHEN state = 'queued' THEN $3 ELSE done_at END,
		state = CASE WHEN state = 'queued' THEN $4 ELSE state END
		WHERE id = $5`, attempts, now.UnixMilli(), done, state, m.id)
	if err != nil {
		return fmt.Errorf("sms: record message %d as %s: %w", m.id, state, err)
	}
	return nil
}

func (o *Outbox) fail(ctx context.Context, m queued, now time.Time, attempts int64, reason string) error {
	_, err := o.db.ExecContext(ctx, `UPDATE sms_outbox SET state = 'failed', attempts = $1, done_at = $2, last_error = $3
		WHERE id = $4 AND state = 'queued'`, attempts, now.UnixMilli(), truncate(reason, 500), m.id)
	if err != nil {
		return fmt.Errorf("sms: record message %d as failed: %w", m.id, err)
	}
	return nil
}

// overPhoneRate reports whether the phone of m has had its share of
// messages, and until when it must wait.
func (o *Outbox) overPhoneRate(ctx context.Context, m queued, now time.Time) (bool, time.Time, error) {
	r := o.cfg.PhoneRate
	if r.Unlimited() {
		return false, time.Time{}, nil
	}
	var n, oldest int64
	err := o.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(sent_at), 0) FROM sms_outbox WHERE to_hash = $1 AND sent_at > $2`,
		m.toHash, now.Add(-r.Per).UnixMilli()).Scan(&n, &oldest)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sms: count a phone's messages: %w", err)
	}
	if n < int64(r.N) {
		return false, time.Time{}, nil
	}
	return true, time.UnixMilli(oldest).Add(r.Per + time.Millisecond), nil
}

// backoff is the wait after the given number of failed attempts.
func (o *Outbox) backoff(attempts int64) time.Duration {
	d := o.cfg.RetryMin
	for i := int64(1); i < attempts && d < o.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, o.cfg.RetryMax)
}

// reportURL is where the gateway reports the delivery of message id: the
// report endpoint with the message's id and token.
func (o *Outbox) reportURL(id int64) string {
	if o.cfg.ReportURL == "" || len(o.cfg.ReportSecret) == 0 {
		return ""
	}
	sep := "?"
	if u, err := url.Parse(o.cfg.ReportURL); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return o.cfg.ReportURL + sep + "id=" + strconv.FormatInt(id, 10) + "&t=" + o.reportToken(id)
}

// truncate cuts s to at most n bytes of valid UTF-8 without NULs, which
// PostgreSQL cannot store (a gateway's answer may hold anything).
func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
