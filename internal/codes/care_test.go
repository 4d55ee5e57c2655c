package codes_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/codes"
)

// A care code that no longer verifies is refused for printing with a code
// naming its state, which the resident's page and the API show.
func TestCareCodePrintable(t *testing.T) {
	for _, tt := range []struct {
		state, code string
	}{
		{codes.CareValid, ""},
		{codes.CareRevoked, "care_code_revoked"},
		{codes.CareExpired, "care_code_expired"},
	} {
		err := (&codes.CareCode{State: tt.state}).Printable()
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s: Printable = %v", tt.state, err)
			}
			continue
		}
		var e *apierr.Error
		if !errors.As(err, &e) || e.Code != tt.code || e.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: Printable = %v, want 422 %s", tt.state, err, tt.code)
		}
	}
}
