package status

import "github.com/healthcode/healthcode/internal/apierr"

// Recording facts. A refused fact of a batch has its message prefixed with
// its index (facts[2]: ...), under its own case.
var (
	// ErrRuleSetEmpty is a rule set without rules: activated, it would
	// turn everyone green.
	ErrRuleSetEmpty      = apierr.BadRequest("rules_empty", "a rule set needs at least one rule")
	ErrFactKeyInvalid    = apierr.BadRequest("fact_key_invalid", "a fact's key is too long")
	ErrFactSourceInvalid = apierr.BadRequest("fact_source_invalid", "a fact's source is at most 256 bytes")
)

// Rule sets.
var (
	// ErrRulesVersionNotFound is also a malformed version, which names none.
	ErrRulesVersionNotFound = apierr.NotFound("rules_version_not_found", "no such rule set version")
	ErrRulesAlreadyActive   = apierr.Conflict("rules_already_active", "the rule set version is already active")
)

// Appeals against a code's colour.
var (
	ErrAppealNotFound      = apierr.NotFound("appeal_not_found", "no such appeal")
	ErrAppealReasonInvalid = apierr.BadRequest("appeal_reason_invalid", "reason is empty or too long")
	ErrEvidenceInvalid     = apierr.BadRequest("evidence_invalid", "evidence must list this person's test results, each once")
	// ErrAppealNotNeeded: only a yellow or red code is appealed.
	ErrAppealNotNeeded = apierr.Conflict("appeal_not_needed", "the code is green: there is nothing to appeal")
	ErrAppealPending   = apierr.Conflict("appeal_pending", "an appeal for this person is already waiting for review")
	ErrAppealDecided   = apierr.Conflict("appeal_decided", "this appeal was already decided")
	// A decision.
	ErrDecisionInvalid = apierr.BadRequest("decision_invalid", "decision must be granted or rejected")
	ErrNoteInvalid     = apierr.BadRequest("note_invalid", "note is too long")
	ErrNoteRequired    = apierr.BadRequest("note_required", "say why the appeal is rejected: the resident reads the note")
	ErrUntilInvalid    = apierr.BadRequest("until_invalid", "until must be in the future and not too far away")
	ErrUntilNotAllowed = apierr.BadRequest("until_not_allowed", "until applies to a grant only")
	ErrStateInvalid    = apierr.BadRequest("state_invalid", "state must be pending, granted or rejected")
)

// Posting facts from outside the platform.
var (
	// ErrFactKindReserved is a kind only the platform records:
	// appeal.granted is the outcome of deciding an appeal.
	ErrFactKindReserved = apierr.BadRequest("fact_kind_reserved", "appeal.granted is recorded by deciding an appeal: POST /api/v1/admin/appeals/{id}/decision")
	// ErrPersonIDMissing is a posted fact that names nobody.
	ErrPersonIDMissing = apierr.BadRequest("person_id_missing", "person_id is required")
	// ErrColorFilter: green is everyone without a decision; only yellow
	// and red are listed by colour.
	ErrColorFilter = apierr.BadRequest("color_filter_invalid", "the colour filter is yellow or red")
)
