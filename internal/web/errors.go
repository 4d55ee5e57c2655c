package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/apierr"
)

// Sessions and forms.
var (
	ErrLoginRequired = apierr.Unauthorized("login_required", "log in first")
	// ErrCSRFFailed is a form posted from another site, or with an expired
	// form token.
	ErrCSRFFailed       = apierr.Forbidden("csrf_failed", "cross-site form submission refused")
	ErrFormInvalid      = apierr.BadRequest("form_invalid", "the form could not be read")
	ErrPageNotFound     = apierr.NotFound("page_not_found", "no such page")
	ErrInvalidParameter = apierr.BadRequest("invalid_parameter", "a query parameter is not a non-negative integer")
	ErrTimeInvalid      = apierr.BadRequest("time_invalid", "not a date and time")
)

// Uploaded files (CSV of results or sites), as a file or pasted.
var (
	ErrFileMissing    = apierr.BadRequest("file_missing", "choose a CSV file or paste its lines")
	ErrBodyUnreadable = apierr.BadRequest("body_unreadable", "the file could not be read")
	ErrBodyTooLarge   = &apierr.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the file is too large; split it"}
)

// ErrFactsUnavailable is a console form for facts on a deployment wired
// without a fact recorder.
var ErrFactsUnavailable = apierr.Unprocessable("facts_unavailable", "facts cannot be recorded on this deployment")
