package gateway

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/apierr"
)

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrScanInput = apierr.BadRequest("scan_input", `send the scanned "code", or "id_type" and "id_number", not both`)

	// A scanned code that is not valid: 422 with the verifier's reasons in
	// the message. The scan is recorded all the same.
	ErrCodeUnreadable = apierr.Unprocessable("code_unreadable", "this is not a health code, or it is damaged")
	ErrCodeForged     = apierr.Unprocessable("code_forged", "the code's signature does not verify: it was altered or is not from a trusted issuer")
	ErrCodeExpired    = apierr.Unprocessable("code_expired", "the code has expired (or is not valid yet); ask for a fresh one")
	ErrCodeRevoked    = apierr.Unprocessable("code_revoked", "this care code was revoked")
	ErrCodeInvalid    = apierr.Unprocessable("code_invalid", "the code is not valid here")
	ErrIssuerUnknown  = apierr.Unprocessable("code_issuer_unknown",
		"the code was not issued here and does not verify through the federation (its region is not federated with this one, or it is forged): serve the person by a paper test certificate or their ID number")

	// Subject references.
	ErrSubjectMissing = apierr.BadRequest("subject_missing", `send the "subject" a scan answered`)
	ErrSubjectInvalid = apierr.BadRequest("subject_invalid", "this is not a subject reference of this platform, or it was altered")
	ErrSubjectExpired = &apierr.Error{Status: http.StatusGone, Code: "subject_expired",
		Message: "the subject reference has expired; scan the person's code again"}
	ErrSubjectForeign = apierr.Forbidden("subject_foreign", "this subject reference was issued to another organisation")

	// ID-number lookups at a desk: a few a minute per key or account.
	ErrIDRateLimited = apierr.TooMany("rate_limited", "too many identity-number lookups; wait a moment")
)
