package clinic

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrTemperatureInvalid = apierr.BadRequest("temperature_invalid", "temperature must be measured, in °C, between 34 and 43")
	ErrSymptomsInvalid    = apierr.BadRequest("symptoms_invalid", "symptoms are codes of the declaration vocabulary, each once")
	ErrDiagnosisTooLong   = apierr.BadRequest("diagnosis_too_long", "a diagnosis is at most 200 characters")
	ErrDoctorInvalid      = apierr.BadRequest("doctor_invalid", "name the doctor, in 1-50 characters")
	ErrOutcomeInvalid     = apierr.BadRequest("outcome_invalid", "outcome must be negative, positive or discharged")
	ErrSampledAtInvalid   = apierr.BadRequest("sampled_at_invalid", "a test's sampling time is between the visit and now")
	ErrNoteTooLong        = apierr.BadRequest("note_too_long", "a note is at most 200 characters")
	ErrVisitNotFound      = apierr.NotFound("visit_not_found", "no such visit at this clinic")
	ErrVisitClosed        = apierr.Conflict("visit_closed", "this visit's follow-up is already closed")
	ErrNotClinic          = apierr.Forbidden("not_a_clinic", "only a fever clinic or a hospital registers fever-clinic visits")
	ErrForbidden          = apierr.Forbidden("forbidden", "you may not do this")
	ErrDateInvalid        = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing         = apierr.BadRequest("org_missing", "name the clinic")
)
