package checkin

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrVenueTokenMissing  = apierr.BadRequest("venue_token_missing", "venue_token is required: the code printed on the venue's poster")
	ErrDependentsTooMany  = apierr.BadRequest("dependents_too_many", "too many dependents for one scan")
	ErrDependentDuplicate = apierr.BadRequest("dependent_duplicate", "a dependent is listed twice")
	// ErrDependentNotFound is a dependent id that is not the account's,
	// whether or not the person exists.
	ErrDependentNotFound = apierr.NotFound("dependent_not_found", "not one of your dependents")
	ErrTimeRangeInverted = apierr.BadRequest("time_range_inverted", "from must be before to")
	ErrTimeRangeTooLong  = apierr.BadRequest("time_range_too_long", "the time range is too long")
)
