package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/healthcode/healthcode/internal/db"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/httpmetric"
)

// maxBody bounds every JSON request body; uploads have their own limits.
const maxBody = 1 << 20

// decode reads exactly one JSON object into v, refusing anything but an
// object (null included, which encoding/json would take for {}), unknown
// fields, trailing data, the NUL character and bodies over maxBody, each
// with its own precise error.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := jsonBody(w, r)
	if err != nil {
		return err
	}
	return decodeBody(body, v)
}

// jsonBody reads a body sent as application/json (or with no type), of at
// most maxBody bytes.
func jsonBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, ErrUnsupportedMediaType
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, jsonError(err)
	}
	return body, nil
}

func decodeBody(body []byte, v any) error {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 {
		return jsonError(io.EOF)
	}
	if body[0] != '{' {
		return errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrInvalidJSON.Withf("the body must hold exactly one JSON object")
	}
	if hasNUL(body) {
		return ErrNULCharacter
	}
	return nil
}

// hasNUL reports whether a JSON text holds the escape \u0000 (JSON cannot
// hold a raw NUL). No field means it, and PostgreSQL cannot store it in text.
func hasNUL(b []byte) bool {
	for {
		i := bytes.Index(b, []byte("u0000"))
		if i < 0 {
			return false
		}
		// An odd run of backslashes before the u makes it an escape.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		b = b[i+5:]
	}
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return ErrEmptyBody
	case errors.Is(err, io.ErrUnexpectedEOF):
		return ErrInvalidJSON.Withf("the JSON body ends too early")
	case errors.As(err, &syn):
		return ErrInvalidJSON.Withf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errNotObject
		}
		want := jsonType(typ.Type.Kind().String())
		if typ.Type == timeFieldType {
			want = "an RFC 3339 time such as 2022-04-01T10:00:00+08:00"
		}
		return ErrInvalidField.Withf("field %q must be %s, not %s", typ.Field, want, typ.Value)
	case errors.As(err, &big):
		return ErrBodyTooLarge.Withf("the body is over %d bytes", big.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ErrUnknownField.Withf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return ErrInvalidJSON.Withf("the body is not valid JSON for this request: %v", err)
}

// timeField is a time in a request body. A value that is not an RFC 3339
// string is refused like any other wrong type: invalid_field, naming the
// field (time.Time's own error names neither).
type timeField struct{ time.Time }

var timeFieldType = reflect.TypeFor[timeField]()

func (t *timeField) UnmarshalJSON(b []byte) error {
	err := t.Time.UnmarshalJSON(b)
	// The zero time is left to the service, which says the field is missing.
	if err == nil && !t.Time.IsZero() && !saneTime(t.Time) {
		return &json.UnmarshalTypeError{Value: string(b[:min(len(b), 40)]) + " (out of range)", Type: timeFieldType}
	}
	if err != nil {
		what := "a number"
		switch b[0] {
		case '"':
			what = string(b[:min(len(b), 40)])
		case '{':
			what = "an object"
		case '[':
			what = "an array"
		case 't', 'f':
			what = "true or false"
		}
		return &json.UnmarshalTypeError{Value: what, Type: timeFieldType}
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "a number"
}

// writeJSON writes v with the status. v is encoded before the header is
// written: a value that cannot be encoded (a NaN, a year past 9999 once in
// the zone) would otherwise leave a 200 with an empty body. Such a failure is
// the server's, so it panics with an encodeError, which instrument turns
// into a logged 500 while the header is still unwritten.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(encodeError{fmt.Errorf("api: encode %T: %w", v, err)})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// encodeError is an answer that could not be encoded.
type encodeError struct{ err error }

func (e encodeError) Error() string { return e.err.Error() }
func (e encodeError) Unwrap() error { return e.err }

// writeError answers with the error's status, or 500 for anything that is
// not a caller's error, which is then logged (never with the request body).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if db.IsStatementTimeout(err) {
		log.WarnContext(r.Context(), "request timed out in the store", "method", r.Method, "path", r.URL.Path, "err", err)
		err = db.ErrBusy
	}
	if e, ok := apierr.As(err); ok {
		if e.Status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		if e.Status == http.StatusTooManyRequests {
			after := "60"
			// A limit that knows when it ends says so (the gateway's keys).
			var ra interface{ RetryAfter() time.Duration }
			if errors.As(err, &ra) {
				after = strconv.Itoa(int(math.Ceil(ra.RetryAfter().Seconds())))
			}
			w.Header().Set("Retry-After", after)
		}
		writeJSON(w, e.Status, ErrorResponse{ErrorDetail{Code: e.Code, Message: e.Message}})
		return
	}
	if httpmetric.Abandoned(r, err) {
		writeJSON(w, httpmetric.StatusClientClosed, errAbandoned)
		return
	}
	log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, errInternal)
}
