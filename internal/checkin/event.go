// Package checkin records presence: venue check-ins and verification events
// at checkpoints, written with group commit, purged after the retention
// period, and read by tracing.
package checkin

import (
	"time"

	"github.com/healthcode/healthcode/internal/rules"
)

// Verification is one scan of a code (or an ID-number lookup) at a
// checkpoint. It counts as presence for tracing, and feeds the statistics.
// The codes feature records it through
// (*Service).RecordVerification(ctx, Verification) error, which returns once
// the event is durably committed (group commit).
type Verification struct {
	KeyID      string      // API key that verified (auth.Principal.ID)
	Checkpoint string      // checkpoint id, "" for an integrator key
	Person     int64       // person number, 0 when the code could not be attributed
	At         time.Time   //
	Valid      bool        //
	Reason     string      // first reason when not valid ("expired", "bad_signature", ...)
	Color      rules.Color // current colour answered (when valid)
	Kind       string      // "dynamic", "care" or "id" (the ID-number fallback)
}
