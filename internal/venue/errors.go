package venue

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/auth"
)

var (
	ErrNotFound        = apierr.NotFound("venue_not_found", "no such venue")
	ErrNameMissing     = apierr.BadRequest("name_missing", "name is required")
	ErrNameTooLong     = apierr.BadRequest("name_too_long", "name is too long")
	ErrAddressTooLong  = apierr.BadRequest("address_too_long", "address is too long")
	ErrUnitNameTooLong = apierr.BadRequest("unit_name_too_long", "unit_name is too long")
	ErrKindInvalid     = apierr.BadRequest("kind_invalid", "kind must be one of the venue kinds")
)

// A scanned or printed venue token (the code on the poster).
var (
	ErrTokenUnknown = apierr.NotFound("venue_token_unknown", "this venue code is not known")
	// ErrTokenRevoked and ErrDisabled refuse a check-in: the poster was
	// real, so the scan is told it is gone (410), not unknown.
	ErrTokenRevoked = &apierr.Error{Status: http.StatusGone, Code: "venue_token_revoked",
		Message: "this venue code was replaced by a new one; scan the current poster / 该场所码已更换，请扫描新场所码"}
	ErrDisabled = &apierr.Error{Status: http.StatusGone, Code: "venue_disabled",
		Message: "this venue's code has been withdrawn; ask the venue staff / 该场所码已停用"}
	// ErrPosterRevoked is the same case met in printing: a replaced
	// token has no poster any more (410, as a scan of it is told).
	ErrPosterRevoked = &apierr.Error{Status: http.StatusGone, Code: "venue_token_revoked",
		Message: "this venue code was replaced; print the new poster"}

	// ErrOperatorsOnly refuses a caller other than an operator: venues are
	// listed and read by operators, in their scope.
	ErrOperatorsOnly = auth.ErrForbidden.Withf("venues are read by operators")
)
