package isolation

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrSiteKindInvalid  = apierr.BadRequest("isolation_site_kind_invalid", "a site is a hotel, a hospital or home isolation")
	ErrSiteNameInvalid  = apierr.BadRequest("isolation_site_name_invalid", "name the site in 1-100 characters, its address in at most 200")
	ErrSiteNotFound     = apierr.NotFound("isolation_site_not_found", "no such isolation site in your region")
	ErrRoomInvalid      = apierr.BadRequest("isolation_room_invalid", "a room has a number of 1-20 characters and a capacity from 1 to 20")
	ErrRoomExists       = apierr.Conflict("isolation_room_exists", "the site already has a room with this number")
	ErrRoomNotFound     = apierr.NotFound("isolation_room_not_found", "no such room at this site")
	ErrRoomRequired     = apierr.BadRequest("isolation_room_required", "a hotel or hospital admits into one of its rooms")
	ErrRoomFull         = apierr.Conflict("isolation_room_full", "the room is full")
	ErrIdentity         = apierr.BadRequest("isolation_identity_required", "identify the person by one of: code, id_type+id_number, person_id")
	ErrCodeInvalid      = apierr.BadRequest("isolation_code_invalid", "scan the person's health code or care code")
	ErrReasonInvalid    = apierr.BadRequest("isolation_reason_invalid", "the reason is case, close_contact, secondary_contact, inbound, risk_area or other")
	ErrDaysInvalid      = apierr.BadRequest("isolation_days_invalid", "an isolation lasts 1 to 28 days")
	ErrTimeInvalid      = apierr.BadRequest("isolation_time_invalid", "a time is not in the future and at most 7 days back")
	ErrAlreadyAdmitted  = apierr.Conflict("isolation_already_admitted", "the person is already admitted to isolation")
	ErrStayNotFound     = apierr.NotFound("isolation_stay_not_found", "no such stay in your region")
	ErrNotAdmitted      = apierr.Conflict("isolation_not_admitted", "the person is not in isolation now (discharged or released)")
	ErrBeforeAdmission  = apierr.Conflict("isolation_before_admission", "the time is before the admission")
	ErrDischargeInvalid = apierr.BadRequest("isolation_discharge_invalid", "a discharge goes to_hospital or to_home")
	ErrReleaseInvalid   = apierr.BadRequest("isolation_release_invalid", "a release is recovered, isolation_ended or excluded")
	ErrTempInvalid      = apierr.BadRequest("isolation_temperature_invalid", "a temperature is 34.0 to 43.0 °C")
	ErrReadingExists    = apierr.Conflict("isolation_reading_exists", "this half-day's temperature is already recorded")
	ErrNoteInvalid      = apierr.BadRequest("isolation_note_invalid", "a note is at most 200 characters")

	ErrTransferInvalid  = apierr.BadRequest("positive_transfer_invalid", "a transfer names where the person is (1-200 characters) and the vehicle (1-50)")
	ErrTransferNotFound = apierr.NotFound("positive_transfer_not_found", "no such transfer in your region")
	ErrTransferStep     = apierr.Conflict("positive_transfer_step_order", "a transfer is dispatched, then picked up, then arrives; this step is out of order")
	ErrTransferOpen     = apierr.Conflict("positive_transfer_open", "the person already has a transfer under way")
	ErrStateInvalid     = apierr.BadRequest("positive_transfer_state_invalid", "state is one of dispatched, picked_up, arrived")
)
