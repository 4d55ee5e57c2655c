package geo

import "github.com/healthcode/healthcode/internal/apierr"

// ErrNearInvalid is a ?near= that is not a point.
var ErrNearInvalid = apierr.BadRequest("near_invalid", "near must be lat,lng in degrees (e.g. 30.63,118.98)")
