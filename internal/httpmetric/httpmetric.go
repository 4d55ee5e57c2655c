// Package httpmetric holds what the API and the pages share to count their
// requests: a ResponseWriter that remembers the status it answered, and the
// status code as a metric label.
package httpmetric

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// StatusClientClosed is the status recorded for a request the client
// abandoned before the answer (nginx's 499): the server did not fail, so it
// is neither logged as an error nor counted as a 500. Nobody reads the
// answer; the code exists for the metrics.
const StatusClientClosed = 499

// Abandoned reports whether err is the end of a request whose client went
// away: its context is cancelled and the failure comes from that (the
// database wraps context.Canceled, "db: begin: context canceled"). A
// deadline the server set is not the client's doing and stays a failure.
func Abandoned(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(r.Context().Err(), context.Canceled)
}

// Recorder remembers the first status code written through it.
type Recorder struct {
	http.ResponseWriter
	Status int // 0 until the handler writes
}

func (w *Recorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Recorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *Recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Code is the status the client got: a handler that wrote nothing answered
// 200.
func (w *Recorder) Code() int {
	if w.Status == 0 {
		return http.StatusOK
	}
	return w.Status
}

// codeLabels avoids formatting the status code on every request.
var codeLabels = func() map[int]string {
	m := map[int]string{}
	for c := 100; c < 600; c++ {
		m[c] = strconv.Itoa(c)
	}
	return m
}()

// CodeLabel is code as a metric label; codes outside 100-599 are "other",
// so a handler's mistake cannot make a new series per value.
func CodeLabel(code int) string {
	if s, ok := codeLabels[code]; ok {
		return s
	}
	return "other"
}
