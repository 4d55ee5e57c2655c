package school

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrNotSchool          = apierr.Forbidden("not_a_school", "only a school keeps classes and pupils and takes morning and noon checks")
	ErrClassNameInvalid   = apierr.BadRequest("class_name_invalid", "name the class in 1-30 characters")
	ErrClassExists        = apierr.Conflict("class_exists", "the school already has a class of this name")
	ErrClassNotFound      = apierr.NotFound("class_not_found", "no such class at this school")
	ErrClassCodeUnknown   = apierr.NotFound("class_code_unknown", "no class has this join code")
	ErrPupilNotFound      = apierr.NotFound("pupil_not_found", "this person is not a pupil of this school")
	ErrPupilNotInClass    = apierr.NotFound("pupil_not_in_class", "this pupil is not in this class")
	ErrPupilEnrolled      = apierr.Conflict("pupil_enrolled", "this child is already a pupil of this school")
	ErrNotEnrolled        = apierr.NotFound("pupil_not_enrolled", "this child is not enrolled at any school")
	ErrSlotInvalid        = apierr.BadRequest("check_slot_invalid", "a check is morning or noon")
	ErrTemperatureInvalid = apierr.BadRequest("temperature_invalid", "temperature must be measured, in °C, between 34 and 43")
	ErrSymptomsInvalid    = apierr.BadRequest("symptoms_invalid", "symptoms are codes of the declaration vocabulary, each once")
	ErrDateInvalid        = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing         = apierr.BadRequest("org_missing", "name the school")
	ErrParentOnly         = apierr.Forbidden("parent_only", "only a parent reports a child's check, from their own page")
	ErrJoinLimited        = apierr.TooMany("join_attempts_limited", "too many wrong join codes from this account; try again later")
)
