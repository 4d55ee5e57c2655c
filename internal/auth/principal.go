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

// article names the kind in a sentence.
func (k Kind) article() string {
	switch k {
	case APIKey:
		return "an API key"
	case Operator:
		return "an operator"
	}
	return "a " + string(k)
}

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
	// MustEnrol is an admin who has no second factor where the deployment
	// requires one (--admin-totp): every permission is refused until they
	// enrol one (BeginTOTP, ConfirmTOTP).
	MustEnrol bool
}

// Actor is how the principal appears in the audit log.
func (p *Principal) Actor() string { return string(p.Kind) + ":" + p.ID }

// Can reports whether an operator's role has the permission.
func (p *Principal) Can(perm Permission) bool {
	return p != nil && p.Kind == Operator && !p.MustEnrol && p.Role.Can(perm)
}

// Require refuses a caller who is not an operator whose role has perm.
// Services call it first thing: it is the check that holds, whatever the
// route in front of them did.
func (p *Principal) Require(perm Permission) error {
	switch {
	case p.Can(perm):
		return nil
	case p == nil:
		return ErrForbidden.Withf("nobody may do this unauthenticated (needs %s)", perm)
	case p.MustEnrol:
		return ErrTOTPEnrolRequired
	case p.Kind != Operator:
		return ErrForbidden.Withf("%s may not do this (needs an operator with %s)", p.Kind.article(), perm)
	}
	return ErrForbidden.Withf("your role (%s) may not do this (needs %s)", p.Role, perm)
}

// MayReadAudit is how the audit log (audit.ListFor) asks whether the
// reader's role reads it; audit cannot import auth, which writes to it.
func (p *Principal) MayReadAudit() error { return p.Require(AuditRead) }

// MayReadOutbox is how the outbox (sms.Outbox.ListFor) asks whether the
// reader's role reads it; sms cannot import auth, which sends through it.
func (p *Principal) MayReadOutbox() error { return p.Require(OutboxRead) }

// RequireScope refuses a caller who is not an API key with the scope.
func (p *Principal) RequireScope(scope string) error {
	switch {
	case p.HasScope(scope):
		return nil
	case p == nil || p.Kind != APIKey:
		return ErrForbidden.Withf("this needs an API key with the %q scope", scope)
	}
	return ErrScopeMissing.Withf("this API key lacks the %q scope", scope)
}

// Delegate is a copy of an API key's (or a unit account's) principal that
// also holds scope. A
// service that has authorised an action under its own policy uses it to
// call another service that checks a scope of its own: the gateway admits
// an organisation's scan under the scan scope and has the codes service
// verify the code as it would for a checkpoint holding verify.
func (p *Principal) Delegate(scope string) *Principal {
	c := *p
	c.Scopes = append(slices.Clip(p.Scopes), scope)
	return &c
}

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

// HasScope reports whether an API key carries the scope. A unit account
// carries only what a service delegated to it (Delegate): the gateway
// scans for unit staff at a till as it does for the organisation's keys.
func (p *Principal) HasScope(s string) bool {
	return p != nil && (p.Kind == APIKey || p.Kind == Unit) && slices.Contains(p.Scopes, s)
}
