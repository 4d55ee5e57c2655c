package grid

import "github.com/healthcode/healthcode/internal/apierr"

// Imports: the file as a whole. A line's own faults are in the report,
// with the codes below, and do not stop the others.
var (
	ErrKindInvalid     = apierr.BadRequest("import_kind_invalid", "kind must be residents, cases, contacts or arrivals")
	ErrSourceInvalid   = apierr.BadRequest("import_source_invalid", "source must be census, police, health, transport or telecom")
	ErrEncodingInvalid = apierr.BadRequest("import_encoding_invalid", "the file is neither UTF-8 nor GBK text")
	ErrEmpty           = apierr.BadRequest("import_empty", "the file has no lines after its header")
	ErrTooLarge        = apierr.Unprocessable("import_too_large", "the file is larger than an import takes")
	ErrHeaderInvalid   = apierr.BadRequest("import_header_invalid", "the first line must name the columns")
	ErrImportNotFound  = apierr.NotFound("import_not_found", "no such import")
	// ErrStopped is a store failure that ended an import; the batches
	// before it are kept and importing the file again finishes it.
	ErrStopped = apierr.Unprocessable("import_stopped", "the import stopped on a store error; import the file again to finish it")
)

// Per-line faults, reported with their line number.
var (
	ErrLineInvalid      = apierr.BadRequest("import_line_invalid", "the line could not be read")
	ErrLineMalformed    = apierr.BadRequest("line_malformed", "the line is not a well-formed CSV row")
	ErrIDDuplicate      = apierr.BadRequest("id_number_duplicate", "the identity number appears on an earlier line")
	ErrCommunityCode    = apierr.BadRequest("community_code_invalid", "community must be 3 digits")
	ErrGridCode         = apierr.BadRequest("grid_code_invalid", "grid must be 3 digits")
	ErrHouseholdMissing = apierr.BadRequest("household_invalid", "household must be 1-32 characters")
	ErrTownInvalid      = apierr.BadRequest("town_invalid", "town must be the 9-digit code of a town or street")
	ErrTimeInvalid      = apierr.BadRequest("at_invalid", "at must be a time such as 2022-04-01 10:00 or 2022-04-01T10:00:00+08:00")
	ErrCaseIDMissing    = apierr.BadRequest("case_id_missing", "a case line needs case_id")
)

// Grids and lists by grid.
var (
	ErrGridNotFound = apierr.NotFound("grid_not_found", "no such grid")
	ErrColorInvalid = apierr.BadRequest("colour_filter_invalid", "color must be yellow or red")
)
