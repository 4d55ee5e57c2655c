package auth

import "github.com/healthcode/healthcode/internal/apierr"

// Refusals of who may do what. Every feature checks permission and region
// scope against a Principal and refuses with these, so that clients see one
// code per reason whichever feature refused.
var (
	// ErrForbidden is a caller whose role (or kind of credential) may not do
	// what they asked. Every service refuses with it (Principal.Require),
	// whichever door the call came through.
	ErrForbidden = apierr.Forbidden("forbidden", "your role may not do this")
	// ErrOutOfScope is a permitted role acting on a region outside the
	// operator's own. A read of something out of scope is a not-found of
	// that thing instead, so that ids cannot be probed.
	ErrOutOfScope = apierr.Forbidden("out_of_scope", "the region is outside your scope")
	// ErrOperatorOnly, ErrResidentOnly and ErrAPIKeyOnly are a valid
	// credential of the wrong kind for the endpoint.
	ErrOperatorOnly = apierr.Forbidden("operator_only", "this endpoint is for operators")
	ErrResidentOnly = apierr.Forbidden("resident_only", "this endpoint is for residents logged in by phone")
	ErrAPIKeyOnly   = apierr.Forbidden("api_key_only", "this endpoint needs a checkpoint or integrator API key")
	ErrScopeMissing = apierr.Forbidden("scope_missing", "this API key lacks the scope")
)

// Credentials.
var (
	ErrUnauthenticated = apierr.Unauthorized("unauthenticated", "missing Authorization: Bearer credential")
	ErrTokenInvalid    = apierr.Unauthorized("token_invalid", "the session has expired or was ended; log in again")
	ErrAPIKeyInvalid   = apierr.Unauthorized("api_key_invalid", "unknown API key")
	ErrAPIKeyRevoked   = apierr.Unauthorized("api_key_revoked", "this API key was revoked")
)

// Operator login. A wrong username and a wrong password are one case, so
// that usernames cannot be probed.
var (
	ErrLoginFailed      = apierr.Unauthorized("login_failed", "wrong username or password")
	ErrLoginLocked      = apierr.TooMany("login_locked", "too many failed logins for this user or from this address; try again later")
	ErrOperatorDisabled = apierr.Unauthorized("operator_disabled", "this operator account is disabled")
	// ErrTOTPRequired is a login without a code by an operator who has a
	// second factor (said whatever the password, so that it confirms none).
	// At login a wrong code is ErrLoginFailed like a wrong password;
	// ErrTOTPWrong is a wrong code when confirming a new secret.
	ErrTOTPRequired = apierr.Unauthorized("totp_required", "this operator has a second factor: send the authenticator app's current code (totp)")
	ErrTOTPWrong    = apierr.Unauthorized("totp_wrong", "the authenticator code does not match the new key")
	// ErrTOTPNotPending is a confirmation without a secret made to confirm.
	ErrTOTPNotPending = apierr.Conflict("totp_not_pending", "no new second factor is waiting to be confirmed; start again")
	// ErrTOTPEnrolRequired is an admin without a second factor where the
	// deployment requires one: they may only enrol one.
	ErrTOTPEnrolRequired = apierr.Forbidden("totp_enrol_required", "administrators need a second factor here: enrol one at /console/totp first")
)

// Resident login by one-time code.
var (
	ErrOTPTooSoon    = apierr.TooMany("otp_too_soon", "a code was sent moments ago; try again shortly")
	ErrOTPDailyLimit = apierr.TooMany("otp_daily_limit", "this phone has had too many codes today; try again tomorrow")
	// ErrOTPAddrLimit, ErrOTPBusy and ErrSMSBudget are the limits across
	// phones: codes from one client address, codes from all clients in a
	// minute, and the day's budget of messages.
	ErrOTPAddrLimit = apierr.TooMany("otp_address_limit", "too many codes were asked from your network address; try again later")
	ErrOTPBusy      = apierr.TooMany("otp_busy", "too many codes are being asked for right now; try again in a minute")
	ErrSMSBudget    = apierr.TooMany("otp_budget_spent", "the day's budget of text messages is spent; try again tomorrow")
	// ErrOTPInvalid is no code pending for the phone (never sent, or used).
	ErrOTPInvalid  = apierr.Unauthorized("otp_invalid", "no code is pending for this phone; request one")
	ErrOTPExpired  = apierr.Unauthorized("otp_expired", "the code has expired; request a new one")
	ErrOTPAttempts = apierr.TooMany("otp_attempts", "too many wrong codes; request a new one")
	ErrOTPWrong    = apierr.Unauthorized("otp_wrong", "the code is wrong")
)

// ErrLogoutAPIKey: an API key is not a session. Answering 204 while the key
// kept working would tell its holder it was revoked when it was not.
var ErrLogoutAPIKey = apierr.BadRequest("logout_api_key", "an API key is not a session and cannot log out; an administrator revokes it (or rotates it)")

// Managing operators and API keys.
var (
	ErrUsernameInvalid    = apierr.BadRequest("username_invalid", "username must be 3-32 characters of a-z, 0-9, '.', '_' or '-'")
	ErrUsernameTaken      = apierr.Conflict("username_taken", "the username is taken")
	ErrPasswordTooShort   = apierr.BadRequest("password_too_short", "password must be at least 10 characters")
	ErrPasswordTooLong    = apierr.BadRequest("password_too_long", "password is too long")
	ErrDisplayNameTooLong = apierr.BadRequest("display_name_too_long", "display_name must be at most 64 characters")
	ErrRoleUnknown        = apierr.BadRequest("role_unknown", "unknown role (want one of admin, health_officer, sampler, lab, viewer)")
	ErrOperatorNotFound   = apierr.NotFound("operator_not_found", "no such operator")
	ErrTOTPResetSelf      = apierr.Forbidden("totp_reset_self", "another administrator resets your second factor; you cannot reset your own")
	ErrTOTPNotOn          = apierr.Conflict("totp_not_on", "the operator has no second factor to reset")
	ErrScopesMissing      = apierr.BadRequest("scopes_missing", "an API key needs at least one scope")
	ErrScopeUnknown       = apierr.BadRequest("scope_unknown", "unknown scope (want verify, verify_id, status or facts:KIND)")
)

// Unit accounts of organisations.
var (
	ErrUnitDisabled    = apierr.Unauthorized("unit_account_disabled", "this unit account is disabled")
	ErrPasswordInvalid = apierr.BadRequest("password_invalid", "a password has 10 to 256 bytes")
	// ErrKeyNotFound is an API key that does not exist or is revoked, where
	// one that can still be used is needed.
	ErrKeyNotFound = apierr.NotFound("api_key_not_found", "no such API key in use")
)
