package fact

import "github.com/healthcode/healthcode/internal/apierr"

// A fact that its kind's schema refuses. Messages name the kind and the
// attribute at fault.
var (
	ErrKindUnknown     = apierr.BadRequest("fact_kind_unknown", "unknown fact kind")
	ErrAtMissing       = apierr.BadRequest("fact_at_missing", "at is required")
	ErrUntilRequired   = apierr.BadRequest("fact_until_required", "until is required")
	ErrUntilNotAllowed = apierr.BadRequest("fact_until_not_allowed", "until is not allowed: this kind has no duration")
	ErrUntilBeforeAt   = apierr.BadRequest("fact_until_before_at", "until must be after at")
	// ErrAtFuture is a fact said to have happened later than now.
	ErrAtFuture = apierr.BadRequest("fact_at_future", "at may not be later than now")
	// ErrUntilTooFar is an until further ahead than any rule could need.
	ErrUntilTooFar    = apierr.BadRequest("fact_until_too_far", "until is too far ahead")
	ErrAttrUnknown    = apierr.BadRequest("fact_attr_unknown", "unknown attribute")
	ErrAttrMissing    = apierr.BadRequest("fact_attr_missing", "an attribute is required")
	ErrAttrType       = apierr.BadRequest("fact_attr_type", "an attribute has the wrong type")
	ErrAttrFormat     = apierr.BadRequest("fact_attr_format", "an attribute is malformed")
	ErrAttrOutOfRange = apierr.BadRequest("fact_attr_out_of_range", "an attribute is out of range")
	ErrAttrNotAllowed = apierr.BadRequest("fact_attr_not_allowed", "an attribute's value is not one of the allowed")
	ErrAttrDuplicate  = apierr.BadRequest("fact_attr_duplicate", "an attribute lists a value twice")
	// ErrAttrConflict is attributes that are each valid but contradict
	// one another.
	ErrAttrConflict = apierr.BadRequest("fact_attr_conflict", "attributes contradict each other")
)
