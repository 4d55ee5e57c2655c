package sms

import "github.com/healthcode/healthcode/internal/apierr"

var (
	// ErrStateUnknown is a filter on a state messages never have.
	ErrStateUnknown = apierr.BadRequest("sms_state_unknown", "unknown message state: use queued, sent, delivered or failed")
	// ErrReportForged is a delivery report whose token does not belong to
	// the message: only the gateway the message was handed to knows it.
	ErrReportForged = apierr.Forbidden("report_token_invalid", "the report's token does not match the message")
	// ErrReportInvalid is a delivery report without a message id, a token
	// or a known type.
	ErrReportInvalid = apierr.BadRequest("report_invalid", "a delivery report needs id, t (the token) and type (1, 2, 4, 8 or 16)")
	ErrReportUnknown = apierr.NotFound("message_not_found", "no such message")
	// ErrOutboxOff is a read of the outbox while a real gateway carries the
	// messages: they are then the residents' to read, not the operators'.
	ErrOutboxOff = apierr.NotFound("outbox_off", "the outbox is off: text messages go through the SMS gateway")
	// ErrLangUnknown is a language the templates do not speak.
	ErrLangUnknown = apierr.BadRequest("lang_unknown", "unknown language: use zh-CN or en")
	// ErrTemplateUnknown is a message without a body whose kind has no
	// template: a programming error of the sender, not of the resident.
	ErrTemplateUnknown = apierr.BadRequest("sms_template_unknown", "no template for this kind of message")
)
