package riskarea

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrNotFound         = apierr.NotFound("risk_area_not_found", "no such risk area")
	ErrWithdrawn        = apierr.Conflict("risk_area_withdrawn", "the risk area has already been withdrawn")
	ErrLevelInvalid     = apierr.BadRequest("risk_level_invalid", "level must be low, medium or high")
	ErrRegionLevel      = apierr.BadRequest("risk_area_region_level", "a risk area is a city, a county or a street (or a named place inside one), not a province")
	ErrNameInvalid      = apierr.BadRequest("risk_area_name_invalid", "the name of the place is at most 128 characters")
	ErrValidityMissing  = apierr.BadRequest("risk_area_validity_missing", "both from and until are required: a risk area is never open-ended")
	ErrValidityInverted = apierr.BadRequest("risk_area_validity_inverted", "from must be before until")
	ErrTimeFormat       = apierr.BadRequest("risk_area_time_format", "a time is RFC 3339 or YYYY-MM-DD HH:MM (Beijing time)")
	ErrCSVEmpty         = apierr.BadRequest("csv_empty", "the file has no lines")
	ErrCSVTooLong       = apierr.BadRequest("csv_too_long", "the file has too many lines")
	ErrCSVHeader        = apierr.BadRequest("csv_header", "the first line must name the columns region,name,level,from,until (and geometry, optionally)")
	ErrCSVMalformed     = apierr.BadRequest("csv_malformed", "the line is not valid CSV")
)
