package transport

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrNotTransport      = apierr.Forbidden("not_a_transport_company", "only a bus operator or a taxi company has vehicles and stations")
	ErrPlateMissing      = apierr.BadRequest("plate_missing", "a vehicle needs its plate number")
	ErrPlateTooLong      = apierr.BadRequest("plate_too_long", "a plate number is at most 20 characters")
	ErrRouteTooLong      = apierr.BadRequest("route_too_long", "a route is at most 50 characters")
	ErrVehicleExists     = apierr.Conflict("vehicle_exists", "this company already has a vehicle with this plate number")
	ErrVehicleNotFound   = apierr.NotFound("vehicle_not_found", "the company has no such vehicle")
	ErrOrgMissing        = apierr.BadRequest("org_missing", "name the bus operator or taxi company")
	ErrTemperatureNeeded = apierr.BadRequest("temperature_required", "a station checks the temperature with the code: send temperature in °C")
	// ErrTemperatureInvalid is a reading typed at a station's desk that is
	// not a number.
	ErrTemperatureInvalid = apierr.BadRequest("temperature_invalid", "temperature must be measured, in °C, between 34 and 43")
)

// ErrDateInvalid is a day that is not one.
var ErrDateInvalid = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
