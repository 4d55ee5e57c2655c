package winddown

import (
	"errors"

	"github.com/healthcode/healthcode/internal/apierr"
)

// Refusals of a wind-down; each changes nothing.
var (
	ErrForbidden    = apierr.Forbidden("winddown_forbidden", "only an admin with the deployment-wide scope may end the emergency")
	ErrConfirmation = apierr.BadRequest("winddown_confirmation", "the wind-down destroys every person's data: repeat the confirmation phrase exactly")
	ErrNoSigner     = apierr.Conflict("winddown_no_signing_key", "the region has no private signing key left to sign the destruction report")
)

// Why a destruction report does not verify.
var (
	ErrReportMalformed  = errors.New("winddown: the report is not a signed destruction report")
	ErrReportUnknownKey = errors.New("winddown: the report is signed with a key the trust list lacks")
	ErrReportSignature  = errors.New("winddown: the report's signature does not verify: it was changed or not made by the region")
)
