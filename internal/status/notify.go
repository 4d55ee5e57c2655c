package status

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/sms"
)

// Notification retry policy: the first retry after 10 s, doubling up to an
// hour, and after 12 failed attempts (about 5 hours) the message is marked
// failed and left for operators to see. A node claims 50 messages for two
// minutes: enough for a gateway that takes two seconds a message before
// another node may take them over.
const (
	notifyFirstRetry  = 10 * time.Second
	notifyMaxBackoff  = time.Hour
	notifyMaxAttempts = 12
	notifyBatch       = 50
	notifyLease       = 2 * time.Minute
	// notifyRunSlice is how many changes of a queued run (a risk area over
	// a city) become notifications at a time: a few minutes of a gateway's
	// sending, in a transaction of a few milliseconds.
	notifyRunSlice = 1000
)

// Notification states.
const (
	NotePending     = "pending"
	NoteSent        = "sent"
	NoteFailed      = "failed"
	NoteNoRecipient = "no_recipient" // nobody has a phone for this person
)

func backoff(attempts int64) time.Duration {
	d := notifyFirstRetry
	for i := int64(1); i < attempts && d < notifyMaxBackoff; i++ {
		d *= 2
	}
	return min(d, notifyMaxBackoff)
}

type note struct {
	seq       int64
	num       int64
	region    string
	old, new  rules.Color
	reason    string
	advice    string
	attempts  int64
	delivered string
}

// SendNotifications texts every colour change that is due: the person's
// phones and those of the accounts managing them, through the SMS sender.
// The queue row was written in the transaction of the change, so a change
// is never lost and never notified without having happened; sending happens
// here, apart from evaluation, so a slow or failing provider never holds up
// a colour. A failure is retried with backoff; phones already reached are
// remembered (as keyed hashes), so a retry does not text them twice. Nodes
// claim rows by pushing next_at a lease ahead (with SKIP LOCKED on
// PostgreSQL), so two nodes do not send the same message. A run of changes
// queued as one (notification_runs) becomes notifications a slice at a time
// when the queue runs short.
func (s *Service) SendNotifications(ctx context.Context) error {
	for ctx.Err() == nil {
		batch, err := s.claimNotes(ctx)
		if err != nil {
			return err
		}
		for i := range batch {
			if err := s.deliver(ctx, &batch[i]); err != nil {
				return err
			}
		}
		if len(batch) < notifyBatch {
			n, err := s.expandRun(ctx)
			if err != nil || n == 0 {
				return err
			}
		}
	}
	return ctx.Err()
}

// expandRun turns the next slice of the oldest queued run into
// notifications, copied from the change log, and returns how many changes
// it took (0: no run is queued). The run's row is locked for the while
// (skipped by other nodes on PostgreSQL), so no change is queued twice.
// The notifications are due from when the run was queued, so they go out
// before changes queued since.
func (s *Service) expandRun(ctx context.Context) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		var first, last, next, created int64
		var reason, advice string
		err := tx.QueryRowContext(ctx, `SELECT first_seq, last_seq, next_seq, reason_zh, advice_zh, created_at FROM notification_runs
			ORDER BY first_seq LIMIT 1`+s.forUpdate(true)).Scan(&first, &last, &next, &reason, &advice, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		upto := min(last, next+notifyRunSlice-1)
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (seq, person_num, region_code, old_color, new_color, reason_zh, advice_zh,
			state, attempts, next_at, delivered, last_error, created_at)
			SELECT seq, person_num, region_code, old_color, new_color, CAST($1 AS TEXT), CAST($2 AS TEXT), 'pending', 0, CAST($3 AS BIGINT), '', '',
			CAST($3 AS BIGINT) FROM status_changes WHERE seq >= $4 AND seq <= $5`, reason, advice, created, next, upto); err != nil {
			return err
		}
		if upto == last {
			_, err = tx.ExecContext(ctx, `DELETE FROM notification_runs WHERE first_seq = $1`, first)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE notification_runs SET next_seq = $1 WHERE first_seq = $2`, upto+1, first)
		}
		n = int(upto - next + 1)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("status: queue a run's notifications: %w", err)
	}
	return n, nil
}

func (s *Service) claimNotes(ctx context.Context) ([]note, error) {
	now := s.now().UnixMilli()
	var out []note
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		err := db.Each(ctx, tx, `UPDATE notifications SET next_at = $1
			WHERE seq IN (SELECT seq FROM notifications WHERE state = 'pending' AND next_at <= $2 ORDER BY next_at LIMIT $3`+s.forUpdate(true)+`)
			AND state = 'pending' AND next_at <= $2
			RETURNING seq, person_num, region_code, old_color, new_color, reason_zh, advice_zh, attempts, delivered`,
			[]any{now + notifyLease.Milliseconds(), now, notifyBatch}, func(sc db.Scanner) error {
				var n note
				var o, c int64
				if err := sc.Scan(&n.seq, &n.num, &n.region, &o, &c, &n.reason, &n.advice, &n.attempts, &n.delivered); err != nil {
					return err
				}
				n.old, n.new = rules.Color(o), rules.Color(c)
				out = append(out, n)
				return nil
			})
		if err != nil {
			return fmt.Errorf("status: claim notifications: %w", err)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b note) int { return int(a.seq - b.seq) })
	return out, err
}

// noteMessage is the text of a colour change, in the deployment's SMS
// language: whose code, from which colour to which, why, and what to do.
func noteMessage(phone, name string, n *note) sms.Message {
	return sms.Message{To: phone, Purpose: sms.KindColourChange, Region: n.region, Vars: map[string]string{
		"name": name, "old": n.old.String(), "new": n.new.String(), "reason": n.reason, "advice": n.advice}}
}

func (s *Service) deliver(ctx context.Context, n *note) error {
	now := s.now()
	phones, err := s.people.Phones(ctx, n.num)
	if err != nil {
		return err
	}
	if len(phones) == 0 {
		return s.finishNote(ctx, n, NoteNoRecipient, "", now)
	}
	p, err := s.people.Get(ctx, n.num)
	if err != nil {
		if errors.Is(err, person.ErrNotFound) {
			return s.finishNote(ctx, n, NoteNoRecipient, "", now)
		}
		return err
	}
	name := idnum.MaskName(p.Name)
	done := strings.Fields(n.delivered)
	var failure error
	for _, phone := range phones {
		h := hex.EncodeToString(s.hasher.BlindIndex("notify", phone))
		if slices.Contains(done, h) {
			continue
		}
		if err := s.sms.Send(ctx, noteMessage(phone, name, n)); err != nil {
			failure = err
			continue
		}
		done = append(done, h)
	}
	n.delivered = strings.Join(done, " ")
	if failure == nil {
		return s.finishNote(ctx, n, NoteSent, "", now)
	}
	n.attempts++
	if n.attempts >= notifyMaxAttempts {
		s.log.Error("status notification failed for good", "seq", n.seq, "attempts", n.attempts, "err", failure)
		return s.finishNote(ctx, n, NoteFailed, failure.Error(), now)
	}
	s.log.Warn("status notification failed; will retry", "seq", n.seq, "attempts", n.attempts, "err", failure)
	_, err = s.db.ExecContext(ctx, `UPDATE notifications SET attempts = $1, next_at = $2, delivered = $3, last_error = $4 WHERE seq = $5`,
		n.attempts, now.Add(backoff(n.attempts)).UnixMilli(), n.delivered, truncate(failure.Error(), 500), n.seq)
	if err != nil {
		return fmt.Errorf("status: reschedule notification: %w", err)
	}
	s.metrics.notesHandled[noteRetry].Inc()
	return nil
}

func (s *Service) finishNote(ctx context.Context, n *note, state, lastErr string, now time.Time) error {
	attempts := n.attempts
	if state != NoteFailed {
		attempts++
	}
	_, err := s.db.ExecContext(ctx, `UPDATE notifications SET state = $1, attempts = $2, delivered = $3, last_error = $4, sent_at = $5 WHERE seq = $6`,
		state, attempts, n.delivered, truncate(lastErr, 500), now.UnixMilli(), n.seq)
	if err != nil {
		return fmt.Errorf("status: finish notification: %w", err)
	}
	s.metrics.notesHandled[state].Inc()
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Notification is a queued colour-change text, for operators and tests.
type Notification struct {
	Seq       int64       `json:"seq"`
	Person    int64       `json:"-"`
	Old       rules.Color `json:"old_color"`
	New       rules.Color `json:"new_color"`
	State     string      `json:"state"`
	Attempts  int64       `json:"attempts"`
	NextAt    time.Time   `json:"next_at"`
	LastError string      `json:"last_error,omitempty"`
	SentAt    time.Time   `json:"sent_at,omitzero"`
}

// Notifications lists a person's queued and sent texts, oldest first: also
// those of a queued run not yet turned into notifications (pending, due
// since the run was queued).
func (s *Service) Notifications(ctx context.Context, num int64) ([]Notification, error) {
	out, err := db.Collect(ctx, s.db, `SELECT seq, person_num, old_color, new_color, state, attempts, next_at, last_error,
		COALESCE(sent_at, 0) FROM notifications WHERE person_num = $1
		UNION ALL
		SELECT c.seq, c.person_num, c.old_color, c.new_color, 'pending', 0, r.created_at, '', 0
		FROM status_changes c JOIN notification_runs r ON c.seq >= r.next_seq AND c.seq <= r.last_seq WHERE c.person_num = $1
		ORDER BY 1`, []any{num}, func(sc db.Scanner) (Notification, error) {
		var n Notification
		var o, c, next, sent int64
		err := sc.Scan(&n.Seq, &n.Person, &o, &c, &n.State, &n.Attempts, &next, &n.LastError, &sent)
		n.Old, n.New, n.NextAt, n.SentAt = rules.Color(o), rules.Color(c), db.Time(next), db.Time(sent)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("status: list notifications: %w", err)
	}
	return out, nil
}
