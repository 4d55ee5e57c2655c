package vaccine

import "github.com/healthcode/healthcode/internal/apierr"

// Sites, products and slots.
var (
	ErrSiteNotFound    = apierr.NotFound("vaccination_site_not_found", "no such vaccination site")
	ErrSiteExists      = apierr.Conflict("vaccination_site_exists", "a vaccination site of this name already exists in this region")
	ErrSiteInvalid     = apierr.BadRequest("vaccination_site_invalid", "a site needs a name (1-128 characters), an address (1-256), coordinates (WGS 84) and a region")
	ErrProductNotFound = apierr.NotFound("vaccine_not_found", "no such vaccine")
	ErrProductExists   = apierr.Conflict("vaccine_exists", "a vaccine of this name already exists")
	ErrProductInvalid  = apierr.BadRequest("vaccine_invalid", "a vaccine needs a name and a maker (1-128 characters), 1-5 doses and an interval of 0-365 days")
	ErrSlotNotFound    = apierr.NotFound("slot_not_found", "no such slot")
	ErrSlotInvalid     = apierr.BadRequest("slot_invalid", "a slot needs a start before its end on the same day, and a capacity of 1-10000")
	ErrSlotPast        = apierr.Unprocessable("slot_past", "the slot has already begun; choose a later one")
	ErrDayInvalid      = apierr.BadRequest("day_invalid", "day must be a date, YYYY-MM-DD")
)

// Appointments.
var (
	// ErrSlotFull: the slot's places are all booked (409 slot_full).
	ErrSlotFull = apierr.Conflict("slot_full", "every place of this slot is booked; choose another slot")
	// ErrAlreadyBooked: one open appointment per person and dose.
	ErrAlreadyBooked        = apierr.Conflict("appointment_exists", "this person already has an appointment for this dose; cancel it first")
	ErrAppointmentNotFound  = apierr.NotFound("appointment_not_found", "no such appointment")
	ErrAppointmentClosed    = apierr.Conflict("appointment_closed", "the appointment is no longer open")
	ErrSeriesComplete       = apierr.Conflict("series_complete", "this person has had every dose of the series")
	ErrSlotIDMissing        = apierr.BadRequest("slot_id_missing", "slot_id is required")
	ErrAppointmentTooEarly  = apierr.Unprocessable("appointment_too_early", "the slot is before the next dose is due")
	ErrAppointmentWrongVacc = apierr.Unprocessable("appointment_wrong_vaccine", "the slot offers another vaccine than the person's series")
)

// Doses.
var (
	ErrIdentity      = apierr.BadRequest("dose_identity", "give the scanned code, or id_type and id_number")
	ErrCodeInvalid   = apierr.Unprocessable("code_invalid", "this is not a health code; scan the person's health code or care code")
	ErrLotInvalid    = apierr.BadRequest("lot_invalid", "a lot is 4-32 letters, digits and dashes, as printed on the vial")
	ErrDoseInvalid   = apierr.BadRequest("dose_invalid", "the dose number is not in the vaccine's series")
	ErrDoseOrder     = apierr.Unprocessable("dose_out_of_order", "the dose number does not follow the person's earlier doses")
	ErrDoseTooEarly  = apierr.Unprocessable("dose_too_early", "too early for this dose: the interval since the last dose has not passed")
	ErrDoseProduct   = apierr.Unprocessable("dose_wrong_vaccine", "the series was begun with another vaccine")
	ErrDoseExists    = apierr.Conflict("dose_exists", "this dose of this person is already recorded")
	ErrDoseFuture    = apierr.BadRequest("dose_in_future", "a dose cannot be given in the future")
	ErrNoDoses       = apierr.NotFound("no_doses", "no dose is recorded for this person")
	ErrCSVEmpty      = apierr.BadRequest("csv_empty", "the file has no lines")
	ErrCSVTooLong    = apierr.BadRequest("csv_too_long", "the file has too many lines")
	ErrCSVHeader     = apierr.BadRequest("csv_header", "the first line must name the columns id_type,id_number,vaccine,dose,lot,site,given_at")
	ErrCSVMalformed  = apierr.BadRequest("csv_malformed", "the line is not valid CSV")
	ErrGivenAtFormat = apierr.BadRequest("given_at_invalid", "given_at must be a time such as 2021-06-01T09:30:00+08:00 or 2021-06-01 09:30")
)
