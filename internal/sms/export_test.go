package sms

// ListQuery is the outbox query List runs for f, for the test that asks
// PostgreSQL how it plans it.
var ListQuery = listQuery
