package hall

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrNotHall        = apierr.Forbidden("not_a_hall", "only a service hall gives queue tickets and signs residents in")
	ErrServiceInvalid = apierr.BadRequest("service_invalid", "name the service in 1-30 characters")
	ErrPolicyInvalid  = apierr.BadRequest("hall_policy_invalid", "yellow must be window (with the window's name, 1-30 characters) or refuse")
	ErrRefusedRed     = apierr.Conflict("queue_refused_red", "the code is red (color_red): no ticket; the hall's epidemic-control staff take over")
	ErrRefusedYellow  = apierr.Conflict("queue_refused_yellow", "the code is yellow (color_yellow): this hall serves yellow codes by appointment or online only")
	ErrTicketNotFound = apierr.NotFound("ticket_not_found", "no such ticket")
	ErrTicketDone     = apierr.Conflict("ticket_done", "the ticket was served already")
	ErrNotServed      = apierr.Conflict("ticket_not_served", "the ticket has not been served yet; rate the service afterwards")
	ErrAlreadyRated   = apierr.Conflict("already_rated", "this ticket was rated already; a ticket is rated once")
	ErrRatingInvalid  = apierr.BadRequest("rating_invalid", "rate the service 1 to 5, with a comment of at most 200 characters")
	ErrDateInvalid    = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing     = apierr.BadRequest("org_missing", "name the service hall")
	ErrLoginNotFound  = apierr.NotFound("login_not_found", "no such sign-in request, or it has expired; scan the terminal's code again")
	ErrLoginDecided   = apierr.Conflict("login_decided", "this sign-in request was answered already")
	ErrLoginDeclined  = apierr.Conflict("login_declined", "the resident declined to sign in")
	ErrLoginUsed      = apierr.Conflict("login_used", "this sign-in handed the identity over already; start a new sign-in")
)
