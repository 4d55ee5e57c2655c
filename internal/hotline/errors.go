package hotline

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrCategoryInvalid   = apierr.BadRequest("ticket_category_invalid", "a ticket is about a wrong_color, a wrong_identity or cannot_register")
	ErrSummaryInvalid    = apierr.BadRequest("ticket_summary_invalid", "summarise the call in 1-500 characters")
	ErrRegionRequired    = apierr.BadRequest("ticket_region_required", "a ticket about someone not registered names the region to route it to")
	ErrPersonRequired    = apierr.BadRequest("ticket_person_required", "a wrong colour or identity is about a registered person: give person_id or id_number")
	ErrNotFound          = apierr.NotFound("hotline_ticket_not_found", "no such ticket in your region")
	ErrClosed            = apierr.Conflict("ticket_closed", "the ticket is already closed")
	ErrNoPerson          = apierr.Conflict("ticket_without_person", "the ticket is about nobody registered; link the person first by opening a new ticket")
	ErrAppealNotOfPerson = apierr.NotFound("ticket_appeal_not_found", "the ticket's person has no such appeal")
	ErrResolutionInvalid = apierr.BadRequest("ticket_resolution_invalid", "say how the ticket was resolved, in 1-500 characters")
	ErrStateInvalid      = apierr.BadRequest("ticket_state_invalid", "state is open, overdue or closed")
)
