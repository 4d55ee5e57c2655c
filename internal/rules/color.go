package rules

// Color is a health code colour. The order is the severity, so the worst of
// several colours is the largest. The zero value is "no colour", which only
// an unset field has; every decision carries a real one.
type Color uint8

// Colours.
const (
	Green Color = iota + 1
	Yellow
	Red
)

var colorNames = [...]string{"", "green", "yellow", "red"}

// String returns green, yellow or red ("" for the zero value).
func (c Color) String() string {
	if int(c) < len(colorNames) {
		return colorNames[c]
	}
	return "invalid"
}

// Valid reports whether c is green, yellow or red.
func (c Color) Valid() bool { return c >= Green && c <= Red }

// ParseColor reads green, yellow or red.
func ParseColor(s string) (Color, error) {
	for i := Green; i <= Red; i++ {
		if colorNames[i] == s {
			return i, nil
		}
	}
	return 0, ErrColorUnknown.Withf("unknown colour %q: use green, yellow or red", s)
}

// MarshalText writes the name; the zero value is written as "" so that a
// struct with an unset colour still marshals.
func (c Color) MarshalText() ([]byte, error) {
	if c != 0 && !c.Valid() {
		return nil, ErrColorUnknown.Withf("invalid colour %d", uint8(c))
	}
	return []byte(colorNames[c]), nil
}

// UnmarshalText reads a name; "" reads as the zero value.
func (c *Color) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = 0
		return nil
	}
	v, err := ParseColor(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
