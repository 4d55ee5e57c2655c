package venue_test

import (
	"testing"

	"github.com/healthcode/healthcode/internal/venue"
)

// Every kind has a name in both languages for an export's reader.
func TestEveryKindHasALabel(t *testing.T) {
	for _, k := range venue.Kinds {
		zh, en := venue.KindLabel(k, "zh"), venue.KindLabel(k, "en")
		if zh == k || en == k || zh == en {
			t.Errorf("kind %s: labels %q, %q", k, zh, en)
		}
	}
}
