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

// Entries a venue's policy refuses, one case per reason, so the person is
// told why.
var (
	ErrRefusedRed      = apierr.Forbidden("venue_refused_red", "this venue does not admit people with a red code")
	ErrRefusedYellow   = apierr.Forbidden("venue_refused_yellow", "this venue does not admit people with a yellow code")
	ErrRefusedStarred  = apierr.Forbidden("venue_refused_starred", "this venue does not admit people whose trip card has a star (a city with a medium- or high-risk area)")
	ErrRefusedUntested = apierr.Forbidden("venue_refused_untested", "this venue admits only people with a recent negative nucleic-acid test")
)
