package httpmetric

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
)

func TestAbandoned(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	deadline, stop := context.WithTimeout(context.Background(), 0)
	defer stop()
	<-deadline.Done()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"the database saw the cancel", context.Background(), fmt.Errorf("db: begin: %w", context.Canceled), true},
		{"the client went away", gone, errors.New("interrupted (9)"), true},
		{"a failure of the server", context.Background(), errors.New("disk full"), false},
		{"a deadline the server set", deadline, fmt.Errorf("db: %w", context.DeadlineExceeded), false},
	} {
		r := httptest.NewRequest("GET", "/", nil).WithContext(c.ctx)
		if got := Abandoned(r, c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if CodeLabel(StatusClientClosed) != "499" {
		t.Errorf("499 label %q", CodeLabel(StatusClientClosed))
	}
}
