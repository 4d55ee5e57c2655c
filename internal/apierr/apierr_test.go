package apierr_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
)

var errNotFound = apierr.NotFound("thing_not_found", "no such thing")

func TestIsMatchesTheCase(t *testing.T) {
	precise := errNotFound.Withf("no thing %q in your region", "x1")
	wrapped := fmt.Errorf("store: %w", precise)
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"the sentinel", errNotFound, true},
		{"a precise message", precise, true},
		{"wrapped", wrapped, true},
		{"another code", apierr.NotFound("other_not_found", "no such thing"), false},
		{"not an apierr", errors.New("thing_not_found: no such thing"), false},
		{"nil", nil, false},
	} {
		if got := errors.Is(tt.err, errNotFound); got != tt.want {
			t.Errorf("%s: errors.Is = %v, want %v", tt.name, got, tt.want)
		}
	}
	if precise.Status != http.StatusNotFound || precise.Code != "thing_not_found" || precise.Message != `no thing "x1" in your region` {
		t.Errorf("Withf = %+v", precise)
	}
	if errNotFound.Message != "no such thing" {
		t.Errorf("Withf changed the sentinel: %+v", errNotFound)
	}
}
