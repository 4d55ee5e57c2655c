package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

// A statement PostgreSQL cancelled for the node's statement timeout is a
// store too busy to answer, not a fault: the caller gets a 503 with
// Retry-After and may try again, where it used to get a 500.
func TestStatementTimeoutAnswersBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.OpenWith(ctx, dbtest.PostgresURL(t), db.Options{MaxConns: 1, StatementTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, err = d.ExecContext(ctx, `SELECT pg_sleep(2)`)
	if !db.IsStatementTimeout(err) {
		t.Fatalf("not a statement timeout: %v", err)
	}
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest(http.MethodGet, "/api/v1/admin/persons", nil),
		slog.New(slog.NewTextHandler(io.Discard, nil)), fmt.Errorf("person: list: %w", err))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q; want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "store_busy" {
		t.Fatalf("body %s (%v), want the code store_busy", rec.Body, err)
	}

	// Any other failure is still a 500 without a Retry-After.
	rec = httptest.NewRecorder()
	writeError(rec, httptest.NewRequest(http.MethodGet, "/api/v1/admin/persons", nil),
		slog.New(slog.NewTextHandler(io.Discard, nil)), fmt.Errorf("person: list: %w", io.ErrUnexpectedEOF))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("status %d, Retry-After %q; want 500 and none", rec.Code, rec.Header().Get("Retry-After"))
	}
}
