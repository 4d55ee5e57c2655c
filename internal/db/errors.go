package db

import "github.com/healthcode/healthcode/internal/apierr"

// ErrBusy is what a caller is told when the store cancelled a statement
// for running past the statement timeout (IsStatementTimeout): the request
// may succeed when tried again, so it is a 503 with Retry-After, not a 500.
var ErrBusy = apierr.Unavailable("store_busy", "the store did not answer in time; try again shortly")
