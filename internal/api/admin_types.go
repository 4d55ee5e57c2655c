package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/rollout"
	"github.com/healthcode/healthcode/internal/sms"
)

// RegionResponse is GET /regions/{code}: a region and its children.
type RegionResponse struct {
	Children []RegionRef `json:"children"`
	Code     string      `json:"code" doc:"empty for the root"`
	Name     string      `json:"name" doc:"the full name, e.g. 安徽省宣城市宁国市"`
}

// RegionRef is a region's code and name.
type RegionRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// OutboxMessage is a text message in the outbox, with its delivery state.
type OutboxMessage struct {
	ID        int64     `json:"id"`
	To        string    `json:"to"`
	Region    string    `json:"region"`
	Purpose   string    `json:"purpose" doc:"otp, color_change, ..."`
	Body      string    `json:"body" doc:"login codes sent through a real gateway are masked"`
	At        time.Time `json:"created_at"`
	Provider  string    `json:"provider" doc:"outbox or kannel"`
	State     string    `json:"state" doc:"queued, sent, delivered or failed"`
	Attempts  int64     `json:"attempts"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	DoneAt    time.Time `json:"done_at,omitzero" doc:"when it was delivered or failed"`
	Report    int64     `json:"report,omitempty" doc:"the type of the last delivery report"`
	LastError string    `json:"last_error,omitempty"`
}

// OutboxResponse is GET /admin/outbox.
type OutboxResponse struct {
	Messages []OutboxMessage `json:"messages"`
}

func outboxResponse(items []sms.Item) OutboxResponse {
	out := OutboxResponse{Messages: make([]OutboxMessage, len(items))}
	for i, m := range items {
		out.Messages[i] = OutboxMessage(m)
	}
	return out
}

// AuditEntry is an entry of the audit log, a hash chain.
type AuditEntry struct {
	Seq      int64          `json:"seq"`
	At       time.Time      `json:"at"`
	Actor    string         `json:"actor" doc:"operator:ID, resident:ID, apikey:ID or system"`
	Action   string         `json:"action" doc:"person.read, person.create, rules.activate, ..."`
	Subject  string         `json:"subject" doc:"person:ID, venue:ID, ..."`
	Region   string         `json:"region" doc:"the subject's region"`
	Detail   map[string]any `json:"detail,omitempty"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash"`
}

// AuditResponse is GET /admin/audit.
type AuditResponse struct {
	Entries []AuditEntry `json:"entries"`
}

func auditResponse(es []audit.Entry) AuditResponse {
	out := AuditResponse{Entries: make([]AuditEntry, len(es))}
	for i, e := range es {
		out.Entries[i] = AuditEntry(e)
	}
	return out
}

// CoverageRow is a region's registrations against its target.
type CoverageRow struct {
	Region          string  `json:"region"`
	Name            string  `json:"name"`
	Population      int64   `json:"population"`
	Target          int64   `json:"target"`
	PublishedTarget int64   `json:"published_target,omitempty" doc:"the target in the source document, if any"`
	Registered      int64   `json:"registered"`
	Share           float64 `json:"share" doc:"registered / target"`
}

// CoverageResponse is GET /admin/coverage: the registration task table.
type CoverageResponse struct {
	Ratio float64       `json:"ratio"`
	Rows  []CoverageRow `json:"rows"`
	Total CoverageRow   `json:"total"`
}

func coverageResponse(t *rollout.Table) CoverageResponse {
	out := CoverageResponse{Ratio: t.Ratio, Rows: make([]CoverageRow, len(t.Rows)), Total: CoverageRow(t.Total)}
	for i, r := range t.Rows {
		out.Rows[i] = CoverageRow(r)
	}
	return out
}
