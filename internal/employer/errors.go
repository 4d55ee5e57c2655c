package employer

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrNotEmployer     = apierr.Forbidden("not_an_employer", "only an employer keeps a staff roster and admits staff at the gate")
	ErrRosterEmpty     = apierr.BadRequest("roster_empty", "the roster has no lines: send CSV lines of staff_no,name,department")
	ErrRosterTooLarge  = apierr.BadRequest("roster_too_large", "a roster import is at most 5,000 lines")
	ErrStaffNotFound   = apierr.NotFound("staff_not_found", "this person is not on the staff roster; give their staff number to link them")
	ErrStaffNoUnknown  = apierr.NotFound("staff_no_unknown", "no line of the roster has this staff number")
	ErrStaffLinked     = apierr.Conflict("staff_linked", "this line of the roster is already linked to another person")
	ErrJoinCodeUnknown = apierr.NotFound("join_code_unknown", "no employer's roster has this join code")
	ErrJoinLimited     = apierr.TooMany("join_attempts_limited", "too many wrong join codes from this account; try again later")
	ErrConsentRequired = apierr.BadRequest("consent_required", "linking yourself to an employer's roster needs your consent")
	ErrAlreadyLinked   = apierr.Conflict("already_on_roster", "you are already linked to another line of this employer's roster")
	ErrDateInvalid     = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrDaysInvalid     = apierr.BadRequest("days_invalid", "days is a whole number from 1 to 31")
	ErrOrgMissing      = apierr.BadRequest("org_missing", "name the employer")
	ErrResidentOnly    = apierr.Forbidden("resident_only", "only the staff member themselves links to a roster, from their own page")
)
