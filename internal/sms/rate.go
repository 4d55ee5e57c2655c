package sms

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is at most N messages per Per: N may go at once, then one every
// Per/N. The zero Rate is the default of where it is used; use NoLimit for
// none.
type Rate struct {
	N   int
	Per time.Duration
}

// NoLimit is a rate that never holds a message back.
var NoLimit = Rate{N: -1}

// Unlimited reports whether r holds nothing back.
func (r Rate) Unlimited() bool { return r.N < 0 }

// interval is the time one message takes of the rate.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.N) }

// String is the form ParseRate reads: "20/1s", "10/10m0s", "none".
func (r Rate) String() string {
	if r.Unlimited() {
		return "none"
	}
	if r == (Rate{}) {
		return ""
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// Set parses a flag's value (flag.Value).
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRate reads "N/DURATION" ("20/1s", "20/s", "10/10m") or "none".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "none" {
		return NoLimit, nil
	}
	num, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/DURATION such as 20/1s or 10/10m, or none", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("rate %q: the count must be a positive number", s)
	}
	per = strings.TrimSpace(per)
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "20/s" is 20 a second
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("rate %q: the period must be a duration such as 1s or 10m", s)
	}
	if d/time.Duration(n) < time.Microsecond {
		return Rate{}, fmt.Errorf("rate %q: more than a million a second", s)
	}
	return Rate{N: n, Per: d}, nil
}
