package server

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFailureLogQuietsRepeats(t *testing.T) {
	var buf bytes.Buffer
	f := failureLog{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), task: "federation: pull the bundle"}
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	down := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	for i := range 600 { // ten minutes of pulls every second, all refused
		f.failed(down, t0.Add(time.Duration(i)*time.Second))
	}
	if n := strings.Count(buf.String(), "level=ERROR"); n != 1 {
		t.Fatalf("600 identical failures in 10 minutes logged %d ERROR lines, want 1:\n%s", n, buf.String())
	}
	f.failed(down, t0.Add(repeatEvery))
	if !strings.Contains(buf.String(), "repeats=599") {
		t.Errorf("the failure logged again after %v does not say how many were not logged:\n%s", repeatEvery, buf.String())
	}
	buf.Reset()
	f.failed(errors.New("hub answered 500"), t0.Add(repeatEvery+time.Second))
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "hub answered 500") {
		t.Errorf("a different error was not logged at once:\n%s", buf.String())
	}
	buf.Reset()
	f.succeeded()
	if !strings.Contains(buf.String(), "background task recovered") || !strings.Contains(buf.String(), "failures=602") {
		t.Errorf("the recovery is not logged with the failures before it:\n%s", buf.String())
	}
	buf.Reset()
	f.failed(down, t0.Add(repeatEvery+2*time.Second))
	if !strings.Contains(buf.String(), "level=ERROR") {
		t.Errorf("the first failure after a recovery was not logged:\n%s", buf.String())
	}
}
