package org

import (
	"net/http"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
)

// The cases a caller can fix. Each is one sentinel: return it, or
// ErrX.Withf(...) for a more precise message; match with errors.Is.
var (
	ErrNotFound       = apierr.NotFound("org_not_found", "no such organisation")
	ErrExists         = apierr.Conflict("org_exists", "this organisation is already registered with this kind")
	ErrKindInvalid    = apierr.BadRequest("org_kind_invalid", "unknown organisation kind")
	ErrNameInvalid    = apierr.BadRequest("org_name_invalid", "name must be 1-100 characters")
	ErrAddressTooLong = apierr.BadRequest("org_address_too_long", "address must be at most 200 characters")
	ErrForbidden      = apierr.Forbidden("forbidden", "you may not do this")
	ErrOutOfScope     = apierr.Forbidden("out_of_scope", "the region is outside your scope")
	ErrOrgOnly        = apierr.Forbidden("org_only", "this is for an organisation's API key or unit account")

	ErrKeyNotFound     = apierr.NotFound("api_key_not_found", "no such API key of this organisation")
	ErrKeyNameInvalid  = apierr.BadRequest("key_name_invalid", "a key's name must be 1-100 characters")
	ErrScopesMissing   = apierr.BadRequest("scopes_missing", "a key needs at least one scope")
	ErrScopeUnknown    = apierr.BadRequest("scope_unknown", "unknown scope")
	ErrScopeNotForKind = apierr.BadRequest("scope_not_for_kind", "this kind of organisation may not hold this scope")
	ErrLimitInvalid    = apierr.BadRequest("limit_invalid", "limits are whole numbers within range")
	ErrScopeMissing    = apierr.Forbidden("scope_missing", "this key or account lacks the scope")

	ErrAccountNotFound = apierr.NotFound("unit_account_not_found", "no such unit account of this organisation")
	ErrFilterInvalid   = apierr.BadRequest("invalid_parameter", "a filter is invalid")

	// Over a key's limits: 429 with Retry-After.
	ErrQuotaExceeded = apierr.TooMany("quota_exceeded", "this API key has used its daily quota")
	ErrRateLimited   = apierr.TooMany("rate_limited", "too many requests with this API key")
)

// LimitError is a refusal for a limit, with how long to wait; the API
// sends it as Retry-After. errors.Is matches the sentinel it carries.
type LimitError struct {
	Err   *apierr.Error
	After time.Duration
}

func (e *LimitError) Error() string { return e.Err.Error() }

// Unwrap gives the *apierr.Error, so the API answers with its status and code.
func (e *LimitError) Unwrap() error { return e.Err }

// RetryAfter is how long the caller should wait, at least a second.
func (e *LimitError) RetryAfter() time.Duration { return max(e.After, time.Second) }

// Limited wraps a 429 with how long to wait.
func Limited(e *apierr.Error, after time.Duration) error {
	if e.Status != http.StatusTooManyRequests {
		panic("org: Limited needs a 429")
	}
	return &LimitError{Err: e, After: after}
}
