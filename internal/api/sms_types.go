package api

import "github.com/healthcode/healthcode/internal/sms"

// The bodies of the SMS endpoints: the login code request, the operators'
// view of the outbox, and the gateway's delivery reports.

// SendOTPRequest is POST /auth/otp. Lang chooses the language of the text
// ("zh-CN", the default, or "en").
type SendOTPRequest struct {
	Phone string `json:"phone"`
	Lang  string `json:"lang,omitempty"`
}

// SendOTPResponse says the code is on its way; Delayed warns that the SMS
// gateway is slow or failing right now, so the code may come late.
type SendOTPResponse struct {
	Sent    bool   `json:"sent"`
	Phone   string `json:"phone"` // masked
	Delayed bool   `json:"delayed"`
}

// OutboxResponse is GET /admin/outbox: messages newest first, with their
// state (queued, sent, delivered, failed) and attempts.
type OutboxResponse struct {
	Messages []sms.Item `json:"messages"`
}

// SMSReportResponse answers a delivery report (GET /sms/dlr, called by
// Kannel with the message's id and token).
type SMSReportResponse struct {
	ID    string `json:"id"`
	State string `json:"state"`
}
