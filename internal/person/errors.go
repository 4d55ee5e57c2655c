package person

import "github.com/healthcode/healthcode/internal/apierr"

var (
	// ErrNotFound is also a person outside the operator's scope and a
	// malformed id, which must not be told apart from an unknown one.
	ErrNotFound = apierr.NotFound("person_not_found", "no such person")
	// ErrExists: one person per identity number. Registering a number that
	// an operator or a dependent entry created is a takeover, not this.
	ErrExists      = apierr.Conflict("person_exists", "a person with this identity number is already registered")
	ErrNameInvalid = apierr.BadRequest("name_invalid", "name must be 1-64 characters")
	// ErrAfterInvalid is a paging cursor that is not a person id.
	ErrAfterInvalid = apierr.BadRequest("after_invalid", "after must be a person id from the previous page")
	// Corrections of a person's record.
	ErrNothingToCorrect = apierr.BadRequest("correction_empty", "a correction changes the name or the identity number")
	ErrCorrectionReason = apierr.BadRequest("correction_reason_invalid", "say why the record is corrected, in 1-200 characters")
)

// A resident's account: the phone that logged in, its own person and the
// dependents it manages.
var (
	// ErrNotRegistered is a logged-in phone without a person yet.
	ErrNotRegistered     = apierr.NotFound("not_registered", "this phone has not registered a person yet; POST /api/v1/me/register first")
	ErrAlreadyRegistered = apierr.Conflict("already_registered", "this phone has already registered a person")
	ErrRelationInvalid   = apierr.BadRequest("relation_invalid", "relation must be one of the listed relations")
	ErrDependentsLimit   = apierr.Unprocessable("dependents_limit", "an account may manage only a few dependents")
	ErrDependentIsSelf   = apierr.Conflict("dependent_is_self", "you cannot add yourself as a dependent")
	ErrDependentExists   = apierr.Conflict("dependent_exists", "this person is already one of your dependents")
	// ErrManagerRequestPending: the account already asked to manage this
	// person and the managers have not answered.
	ErrManagerRequestPending = apierr.Conflict("manager_request_pending", "you have already asked to manage this person; their managers have not answered yet")
	// ErrManaged: registering a phone for a phone-less person whom family
	// members manage would let anyone who knows the name and number take
	// the person's code over; a service desk hands the person over instead.
	ErrManaged                = apierr.Conflict("person_managed", "this person is managed by family members; to use your own phone, ask at a service desk, which verifies you in person")
	ErrManagerRequestNotFound = apierr.NotFound("manager_request_not_found", "no such pending request about a person you manage")
	// ErrAccountNotFound: a desk verification names a phone that has never
	// logged in.
	ErrAccountNotFound = apierr.NotFound("account_not_found", "no account has logged in with this phone; the requester logs in first")
	ErrHasOwnPhone     = apierr.Conflict("person_has_phone", "this person has registered a phone of their own and manages their own code")
)
