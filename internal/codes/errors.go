package codes

import "github.com/healthcode/healthcode/internal/apierr"

// Verifying a scanned code or a typed identity number.
var (
	ErrCodeMissing = apierr.BadRequest("code_missing", "send the scanned code in \"code\"")
	// ErrCodeInvalid is a code that parses but fails verification (a bad
	// signature, expired, revoked); the message names the reasons.
	ErrCodeInvalid           = apierr.Unprocessable("code_invalid", "the code is not valid")
	ErrTemperatureOutOfRange = apierr.BadRequest("temperature_out_of_range", "the temperature is outside what a thermometer reads on a person")
	ErrIDNotRegistered       = apierr.NotFound("id_not_registered", "nobody is registered with this identity number; a service desk can register the person")
)

// Care codes (printed codes for people without a phone).
var (
	ErrCareNotFound   = apierr.NotFound("care_code_not_found", "no such care code")
	ErrCareCodesLimit = apierr.Unprocessable("care_codes_limit", "this person already has the most valid care codes; revoke one (a lost paper, say) before issuing another")
	// ErrCareRevoked and ErrCareExpired refuse printing a care code that
	// no longer verifies (see CareCode.Printable).
	ErrCareRevoked = apierr.Unprocessable("care_code_revoked", "this care code is revoked; issue a new one")
	ErrCareExpired = apierr.Unprocessable("care_code_expired", "this care code is expired; issue a new one")

	// ErrRateLimited is an API key that looked up identity numbers faster than
	// a desk does.
	ErrRateLimited = apierr.TooMany("rate_limited", "too many identity-number lookups with this key")
)

// ErrEmergencyEnded refuses every new code once the emergency has ended
// (`healthcode wind-down`).
var ErrEmergencyEnded = apierr.Conflict("emergency_ended", "the emergency has ended: health codes are no longer issued")
