package api

// The body of the SMS gateway's delivery reports (the login code request
// is in auth_types.go, the outbox in admin_types.go).

// SMSReportResponse answers a delivery report (GET /sms/dlr, called by
// Kannel with the message's id and token).
type SMSReportResponse struct {
	ID    string `json:"id"`
	State string `json:"state"`
}
