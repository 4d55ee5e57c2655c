package auth

import (
	"slices"
	"strings"
)

// Kind says what sort of caller a principal is.
type Kind string

const (
	Resident Kind = "resident"
	Operator Kind = "operator"
	APIKey   Kind = "apikey"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind   Kind
	ID     string   // account id, operator id or API key id
	Name   string   // operator username or API key name, for logs and audit
	Role   Role     // operators
	Region string   // scope: this region and everything below it ("" = all)
	Scopes []string // API keys: "verify", "facts:pharmacy.purchase", ...
	// Org is the organisation an organisation's API key or unit account
	// acts for ("" for everyone else); Limits are an organisation key's.
	Org    string
	Limits KeyLimits
}

// Actor is how the principal appears in the audit log.
func (p *Principal) Actor() string { return string(p.Kind) + ":" + p.ID }

// Can reports whether an operator's role has the permission.
func (p *Principal) Can(perm Permission) bool { return p.Kind == Operator && p.Role.Can(perm) }

// InScope reports whether region is within the principal's scope.
func (p *Principal) InScope(region string) bool { return strings.HasPrefix(region, p.Region) }

// Bounds returns the half-open range of region codes in scope, for SQL
// (region_code >= lo AND (hi = ” OR region_code < hi)). Region codes are
// digit strings in which a child starts with its parent's code, so the
// subtree of "3418" is every code in ["3418", "3419").
func (p *Principal) Bounds() (lo, hi string) { return Bounds(p.Region) }

// Bounds is the region-code range of a scope ("" = everything). The upper
// bound is digits only (3499 gives 35, not "349:"), so the range means the
// same under any SQL collation, even ones that ignore punctuation.
func Bounds(scope string) (lo, hi string) {
	if scope == "" {
		return "", ""
	}
	b := []byte(strings.TrimRight(scope, "9"))
	if len(b) == 0 {
		return scope, ""
	}
	b[len(b)-1]++
	return scope, string(b)
}

// HasScope reports whether an API key carries the scope.
func (p *Principal) HasScope(s string) bool { return p.Kind == APIKey && slices.Contains(p.Scopes, s) }
