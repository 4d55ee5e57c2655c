package trip

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrCityInvalid  = apierr.BadRequest("trip_city_invalid", "the city is not a city code of GB/T 2260 (4 digits, or 6 ending in 00)")
	ErrSeenMissing  = apierr.BadRequest("trip_seen_missing", "first_seen and last_seen are both required")
	ErrSeenInverted = apierr.BadRequest("trip_seen_inverted", "last_seen must not be before first_seen")
	ErrSeenFuture   = apierr.BadRequest("trip_seen_future", "last_seen is in the future")
	ErrSeenFormat   = apierr.BadRequest("trip_seen_format", "a time is RFC 3339 or YYYY-MM-DD HH:MM (Beijing time)")
	ErrFeedEmpty    = apierr.BadRequest("trip_feed_empty", "no stays were sent")
	ErrFeedTooLong  = apierr.BadRequest("trip_feed_too_long", "too many stays at once")
	ErrFeedHeader   = apierr.BadRequest("trip_feed_header", "the first line must name the columns phone,city,first_seen,last_seen")
	ErrFeedLine     = apierr.BadRequest("trip_feed_line", "the line is not valid CSV with four columns")

	ErrPolicyScope     = apierr.BadRequest("venue_policy_scope", "a policy names either venue_id or kind")
	ErrPolicyKind      = apierr.BadRequest("venue_policy_kind", "unknown venue kind")
	ErrPolicyTestHours = apierr.BadRequest("venue_policy_test_hours", "untested_hours is out of range")
	ErrPolicyRefuse    = apierr.BadRequest("venue_policy_refuse", "refuse lists red, yellow or starred")
	ErrPolicyNotFound  = apierr.NotFound("venue_policy_not_found", "no such venue policy")
)
