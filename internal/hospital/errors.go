package hospital

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrPurposeInvalid    = apierr.BadRequest("purpose_invalid", "purpose must be card (建卡) or registration (挂号)")
	ErrDepartmentInvalid = apierr.BadRequest("department_invalid", "name the department in 1-30 characters")
	// A subject reference may hand off an identity, or take a queue
	// number, once: the patient consents to one use by showing the code.
	ErrSubjectUsed = apierr.Conflict("subject_used", "this scan was used already; scan the patient's code again")
	// A red code gets no queue number: the hospital's epidemic-control
	// process takes over.
	ErrRefusedRed  = apierr.Conflict("queue_refused", "the patient's code is red (color_red): no queue number is given")
	ErrNotHospital = apierr.Forbidden("not_a_hospital", "only a hospital gives queue numbers")
	ErrForbidden   = apierr.Forbidden("forbidden", "you may not do this")
	ErrDateInvalid = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing  = apierr.BadRequest("org_missing", "name the hospital")
)
