package region

import "github.com/healthcode/healthcode/internal/apierr"

var (
	// ErrUnknown is a region code given as input (a person's, a venue's)
	// that is not in the table.
	ErrUnknown = apierr.BadRequest("region_unknown", "no region has this code")
	// ErrFormat, ErrExists and ErrParentUnknown refuse a table or its
	// local additions, which must keep every region under its parent.
	ErrFormat        = apierr.BadRequest("region_format", "the region is malformed")
	ErrExists        = apierr.BadRequest("region_exists", "the region code is already in the table")
	ErrParentUnknown = apierr.BadRequest("region_parent_unknown", "the region's parent is not in the table")
)
