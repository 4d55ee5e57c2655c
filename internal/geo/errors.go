package geo

import "github.com/healthcode/healthcode/internal/apierr"

// ErrNearInvalid is a ?near= that is not a point.
var ErrNearInvalid = apierr.BadRequest("near_invalid", "near must be lat,lng in degrees (e.g. 30.63,118.98)")

// A geometry an operator gives (a risk area's shape) is refused with one of
// these, each saying what to fix.
var (
	ErrGeometryInvalid  = apierr.BadRequest("geometry_invalid", "the geometry is not a GeoJSON geometry object {\"type\", \"coordinates\"}")
	ErrGeometryType     = apierr.BadRequest("geometry_type", "the geometry's type must be Point, Polygon or MultiPolygon")
	ErrGeometryPosition = apierr.BadRequest("geometry_position", "a position is [longitude, latitude]: two finite numbers")
	ErrGeometryRange    = apierr.BadRequest("geometry_out_of_range", "longitude must be within -180..180 and latitude within -90..90")
	ErrGeometryRing     = apierr.BadRequest("geometry_ring", "a polygon's ring is closed (its last position is its first) and has at least 4 positions")
	ErrGeometryTooLarge = apierr.BadRequest("geometry_too_large", "the geometry has too many positions")
)
