package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/apierr"
)

// Reading a request body. The verify path decodes its JSON by hand and
// refuses with the same cases as the decoder the other endpoints use.
var (
	ErrUnsupportedMediaType = &apierr.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
		Message: "send the body as application/json"}
	ErrBodyTooLarge   = &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the body is too large"}
	ErrBodyUnreadable = apierr.BadRequest("body_unreadable", "the request body could not be read")
	ErrEmptyBody      = apierr.BadRequest("empty_body", "the request body is empty; send a JSON object")
	ErrInvalidJSON    = apierr.BadRequest("invalid_json", "the body is not valid JSON for this request")
	ErrInvalidField   = apierr.BadRequest("invalid_field", "a field has the wrong type")
	ErrUnknownField   = apierr.BadRequest("unknown_field", "unknown field")
	ErrDuplicateField = apierr.BadRequest("duplicate_field", "a field appears twice")
	// ErrNULCharacter: no field means a NUL, and PostgreSQL cannot store
	// one in text.
	ErrNULCharacter = apierr.BadRequest("nul_character", "text must not hold the NUL character (\\u0000)")
)

// The path and the query.
var (
	ErrRouteNotFound    = apierr.NotFound("route_not_found", "no such API endpoint")
	ErrInvalidPath      = apierr.BadRequest("invalid_path", "the path holds invalid UTF-8 or a NUL character")
	ErrInvalidParameter = apierr.BadRequest("invalid_parameter", "a query parameter holds invalid UTF-8 or a NUL character")
	ErrLimitInvalid     = apierr.BadRequest("limit_invalid", "limit must be a whole number, 0 or more")
	ErrBeforeInvalid    = apierr.BadRequest("before_invalid", "before must be a whole number, 0 or more")
	ErrAfterInvalid     = apierr.BadRequest("after_invalid", "after must be a whole number, 0 or more")
	ErrFromInvalid      = apierr.BadRequest("from_invalid", "from must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00")
	ErrToInvalid        = apierr.BadRequest("to_invalid", "to must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00")
	ErrOpenInvalid      = apierr.BadRequest("open_invalid", "open must be true or false")
	ErrFormatUnknown    = apierr.BadRequest("format_unknown", "format must be json, csv or geojson")
	ErrSizeInvalid      = apierr.BadRequest("size_invalid", "size must be a whole number of pixels from 100 to 2000")
	// ErrRegionUnknown is a region code in a path, not found (404); one in
	// a body is region.ErrUnknown (400), same code.
	ErrRegionUnknown = apierr.NotFound("region_not_found", "no such region")
)
