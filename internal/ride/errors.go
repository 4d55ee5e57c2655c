package ride

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrPlatformNotFound = apierr.NotFound("platform_not_found", "no such ride-hailing platform or taxi company")
	ErrNotGranted       = apierr.NotFound("handle_not_granted", "you share no handle with this platform")
	ErrHandleMissing    = apierr.BadRequest("handle_missing", `send the driver's or passenger's "handle"`)
	ErrHandleInvalid    = apierr.BadRequest("handle_invalid", "a handle is hch_ followed by 20 characters of a-z and 2-7")
	ErrHandleUnknown    = apierr.NotFound("handle_unknown", "no handle in use with this platform: never shared, or withdrawn")
	ErrBatchSize        = apierr.BadRequest("batch_size", "a batch checks 1 to 10000 handles")
)
