package booking

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrNotBookable    = apierr.Forbidden("not_bookable", "only a scenic spot or a service hall opens booking slots")
	ErrPlaceNotFound  = apierr.NotFound("place_not_found", "no such scenic spot or service hall")
	ErrSlotInvalid    = apierr.BadRequest("booking_slot_invalid", "a slot has not ended, ends after it starts and within 24 hours, with 1 to 100000 places")
	ErrSlotIDMissing  = apierr.BadRequest("slot_id_missing", `send the "slot_id" to book`)
	ErrSlotNotFound   = apierr.NotFound("slot_not_found", "no such slot")
	ErrSlotPast       = apierr.Unprocessable("slot_past", "the slot has ended; choose a later one")
	ErrSlotFull       = apierr.Conflict("slot_full", "the slot is full; choose another one")
	ErrAlreadyBooked  = apierr.Conflict("already_booked", "this person has a booking in this slot already")
	ErrBookingMissing = apierr.NotFound("booking_not_found", "no such booking")
	ErrBookingClosed  = apierr.Conflict("booking_closed", "the booking is cancelled or was used already")
	ErrDateInvalid    = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing     = apierr.BadRequest("org_missing", "name the scenic spot or service hall")

	// Entry at the gate: the visitor is refused, with the reason.
	ErrEntryRed       = apierr.Conflict("entry_refused_red", "the visitor's code is red (color_red): no entry")
	ErrEntryYellow    = apierr.Conflict("entry_refused_yellow", "the visitor's code is yellow (color_yellow): no entry")
	ErrEntryNoBooking = apierr.Conflict("entry_no_booking", "the visitor has no booking here today")
	ErrEntryWrongSlot = apierr.Conflict("entry_wrong_slot", "the visitor's booking is for another time")
	ErrEntryUsed      = apierr.Conflict("entry_used", "the visitor's booking was used to enter already")
)
