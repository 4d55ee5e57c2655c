package tracing

import "github.com/healthcode/healthcode/internal/apierr"

// Tracing runs. A run traces either cases (person_ids, back over a
// lookback) or a venue (venue_id, over from-to), never both.
var (
	ErrRunNotFound        = apierr.NotFound("tracing_run_not_found", "no such tracing run")
	ErrCasesMissing       = apierr.BadRequest("cases_missing", "give person_ids (the cases) or venue_id with from and to")
	ErrCasesOrVenue       = apierr.BadRequest("cases_or_venue", "give either person_ids (cases) or venue_id with from and to, not both")
	ErrCasesTooMany       = apierr.BadRequest("cases_too_many", "too many cases for one run")
	ErrPersonDuplicate    = apierr.BadRequest("person_duplicate", "a person is listed twice")
	ErrWindowInvalid      = apierr.BadRequest("window_invalid", "window must be from 1m to 24h")
	ErrLookbackInvalid    = apierr.BadRequest("lookback_invalid", "lookback must be a positive duration such as \"14d\", \"36h\" or \"30m\"")
	ErrLookbackNeedsCases = apierr.BadRequest("lookback_needs_cases", "lookback goes with person_ids; for a venue, from and to set the period")
	// ErrLookbackTooLong: check-ins older than the longest lookback are
	// purged, so a longer run would find nothing. A venue run's period is
	// bounded alike (checkin.ErrTimeRangeTooLong).
	ErrLookbackTooLong     = apierr.BadRequest("lookback_too_long", "lookback is longer than check-ins are kept")
	ErrFromInvalid         = apierr.BadRequest("from_invalid", "from must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00")
	ErrToInvalid           = apierr.BadRequest("to_invalid", "to must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00")
	ErrTimeRangeMissing    = apierr.BadRequest("time_range_missing", "a venue run needs from and to")
	ErrTimeRangeNeedsVenue = apierr.BadRequest("time_range_needs_venue", "from and to go with venue_id; for cases the lookback sets the period")
	ErrNotFinished         = apierr.Conflict("tracing_not_finished", "the run is not done yet; export it once it is done")
	ErrLangInvalid         = apierr.BadRequest("lang_invalid", "lang must be zh or en")
)

// Follow-up tasks (a visit to each person a run found).
var (
	ErrTaskNotFound      = apierr.NotFound("task_not_found", "no such task")
	ErrStatusInvalid     = apierr.BadRequest("status_invalid", "status must be open, assigned or visited")
	ErrAfterInvalid      = apierr.BadRequest("after_invalid", "after must be the id of a task")
	ErrTaskVisited       = apierr.Conflict("task_visited", "this task was already visited")
	ErrOperatorIDMissing = apierr.BadRequest("operator_id_missing", "operator_id is required")
	// The operator a task is assigned to must be able to visit: enabled,
	// working in a region that covers the person's, in a role that may
	// handle tasks. ErrOperatorDisabled shares auth's code but is about
	// the assignee, not the caller, hence 422 rather than 401.
	ErrOperatorDisabled    = apierr.Unprocessable("assignee_disabled", "the operator is disabled")
	ErrOperatorOutOfRegion = apierr.Unprocessable("operator_out_of_region", "the operator's region does not cover the person's")
	ErrOperatorCannotVisit = apierr.Unprocessable("operator_cannot_visit", "the operator's role may not handle tasks")
	ErrNoteMissing         = apierr.BadRequest("note_missing", "say what the visit found in note")
	ErrNoteTooLong         = apierr.BadRequest("note_too_long", "note must be at most 1000 characters")
	ErrOutcomeInvalid      = apierr.BadRequest("visit_outcome_invalid", "outcome must be met, isolated, not_home or moved_out")
	ErrKindInvalid         = apierr.BadRequest("task_kind_invalid", "kind must be companion or colour")
)
