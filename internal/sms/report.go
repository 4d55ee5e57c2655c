package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/db"
)

// Report is a delivery report as the gateway sends it (Kannel calls the
// message's dlr-url): the message id and its token, the report's type and
// the carrier's answer.
type Report struct {
	ID, Token, Type, Answer string
}

// Kannel's delivery report types (dlr-mask bits).
const (
	reportDelivered   = 1
	reportUndelivered = 2
	reportBuffered    = 4
	reportAccepted    = 8
	reportRefused     = 16
)

// reportToken authenticates the reports of message id: a keyed hash only
// the platform can make, carried in the report URL handed to the gateway
// with the message, so a report cannot be forged for another message.
func (o *Outbox) reportToken(id int64) string {
	m := hmac.New(sha256.New, o.cfg.ReportSecret)
	m.Write([]byte("sms-dlr:" + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Record applies a delivery report and returns the message's state. A
// report never undoes a final state (delivered, failed): reports may come
// out of order, and the gateway may repeat them.
func (o *Outbox) Record(ctx context.Context, r Report) (string, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || id <= 0 || r.Token == "" {
		return "", ErrReportInvalid
	}
	if len(o.cfg.ReportSecret) == 0 || !hmac.Equal([]byte(r.Token), []byte(o.reportToken(id))) {
		return "", ErrReportForged
	}
	typ, err := strconv.Atoi(strings.TrimSpace(r.Type))
	if err != nil {
		return "", ErrReportInvalid.Withf("type %q is not a delivery report type (1, 2, 4, 8 or 16)", r.Type)
	}
	now := o.now().UnixMilli()
	var state string
	err = o.db.InTx(ctx, func(tx db.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT state FROM sms_outbox WHERE id = $1`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrReportUnknown.Withf("no message %d", id)
		}
		if err != nil {
			return fmt.Errorf("sms: read message %d: %w", id, err)
		}
		if state != StateQueued && state != StateSent {
			return nil
		}
		var next, lastErr string
		switch typ {
		case reportDelivered:
			next = StateDelivered
		case reportUndelivered:
			next, lastErr = StateFailed, "the carrier reports it did not reach the phone"
		case reportRefused:
			next, lastErr = StateFailed, "the carrier refused it"
		case reportBuffered, reportAccepted:
			// The gateway has it (it may report before the worker has
			// recorded the hand-over); the carrier is still at work.
			next = StateSent
		default:
			return ErrReportInvalid.Withf("type %d is not a delivery report type (1, 2, 4, 8 or 16)", typ)
		}
		if a := strings.TrimSpace(r.Answer); lastErr != "" && a != "" {
			lastErr += ": " + a
		}
		done := int64(0)
		if next == StateDelivered || next == StateFailed {
			done = now
		}
		_, err = tx.ExecContext(ctx, `UPDATE sms_outbox SET state = $1, report = $2, done_at = $3, last_error = $4,
			sent_at = CASE WHEN sent_at = 0 THEN $5 ELSE sent_at END WHERE id = $6`,
			next, typ, done, truncate(lastErr, 500), now, id)
		if err != nil {
			return fmt.Errorf("sms: record report of message %d: %w", id, err)
		}
		state = next
		return nil
	})
	return state, err
}
