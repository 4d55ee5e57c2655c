// Package apierr defines the errors a caller can fix: bad input, missing
// authority, unknown ids, conflicts. Every package may return them; the API
// turns them into {"error":{"code","message"}} with their HTTP status, and
// treats every other error as an internal failure.
//
// The constructors make sentinels: a package declares each of its cases
// once, as a package-level var in its errors.go, and returns it or its
// Withf. TestErrorsAreSentinels refuses an *Error made anywhere else.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error the caller caused and can fix. Code is a stable
// snake_case identifier that clients may switch on; Message is for people.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is match an *Error by its code. A package declares one
// sentinel per case (person.ErrNotFound) and may return it with a more
// precise message (ErrNotFound.Withf(...)); callers match the case with
// errors.Is(err, person.ErrNotFound), never by its text.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Withf is the same case (status and code) with a more precise message.
func (e *Error) Withf(format string, args ...any) *Error {
	return &Error{Status: e.Status, Code: e.Code, Message: fmt.Sprintf(format, args...)}
}

// As reports whether err is (or wraps) an *Error and returns it.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

func newf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// BadRequest is malformed input: unparsable JSON, a bad check digit, a field out of range.
func BadRequest(code, format string, args ...any) *Error {
	return newf(http.StatusBadRequest, code, format, args...)
}

// Unauthorized is a missing, expired or wrong credential.
func Unauthorized(code, format string, args ...any) *Error {
	return newf(http.StatusUnauthorized, code, format, args...)
}

// Forbidden is a valid credential without the role, scope or region needed.
func Forbidden(code, format string, args ...any) *Error {
	return newf(http.StatusForbidden, code, format, args...)
}

// NotFound is an unknown id, or one outside the caller's scope (which must not be told apart).
func NotFound(code, format string, args ...any) *Error {
	return newf(http.StatusNotFound, code, format, args...)
}

// Conflict is input that is well-formed but clashes with what is stored (a duplicate ID number).
func Conflict(code, format string, args ...any) *Error {
	return newf(http.StatusConflict, code, format, args...)
}

// Unprocessable is well-formed input that the current state refuses (a full tube, a sealed tube).
func Unprocessable(code, format string, args ...any) *Error {
	return newf(http.StatusUnprocessableEntity, code, format, args...)
}

// TooMany is a rate limit.
func TooMany(code, format string, args ...any) *Error {
	return newf(http.StatusTooManyRequests, code, format, args...)
}

// Unavailable is the server unable to answer in time (the store timed out);
// the same request may succeed shortly.
func Unavailable(code, format string, args ...any) *Error {
	return newf(http.StatusServiceUnavailable, code, format, args...)
}
