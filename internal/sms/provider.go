package sms

import "context"

// Provider carries messages from the outbox towards the phone.
type Provider interface {
	// Name is stored with each message ("outbox", "kannel").
	Name() string
	// Submit hands m over. An error means the provider did not take it:
	// the outbox tries again later.
	Submit(ctx context.Context, m Outgoing) (Receipt, error)
}

// Outgoing is a message as the worker hands it to a provider.
type Outgoing struct {
	ID   int64
	To   string
	Body string
	// Purpose is the kind of message (otp, status), for metrics.
	Purpose string
	// ReportURL, when not empty, is where the provider should have
	// delivery reports of this message sent (the API's /sms/dlr with the
	// message's id and token); a provider adds its own parameters.
	ReportURL string
}

// Receipt is what a provider says when it took a message.
type Receipt struct {
	// Delivered: the message is where it is read (the outbox). Otherwise
	// it is sent, and delivery reports, if any, tell the rest.
	Delivered bool
}

const holdName = "outbox"

// Hold is the default provider: it sends nothing. The message stays in
// the outbox, where operators (and, in a demo, the residents) read it.
type Hold struct{}

// Name implements Provider.
func (Hold) Name() string { return holdName }

// Submit implements Provider.
func (Hold) Submit(context.Context, Outgoing) (Receipt, error) { return Receipt{Delivered: true}, nil }
