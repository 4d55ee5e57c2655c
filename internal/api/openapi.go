package api

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// docs describes each endpoint for the OpenAPI document; a test makes sure
// every registered route has an entry, so the document cannot fall behind.
var docs = map[string]struct {
	summary, auth string
}{
	"GET /openapi.json":          {"This document", ""},
	"GET /regions/{code}":        {"A region and its children (GB/T 2260); code \"root\" lists the provinces", ""},
	"POST /auth/otp":             {"Send a one-time login code to {phone} by SMS", ""},
	"POST /auth/login":           {"Exchange {phone, otp} for a resident {token}", ""},
	"POST /auth/operator":        {"Operator login: {username, password} → {token, operator}", ""},
	"POST /auth/logout":          {"End the session of the bearer token", "any"},
	"POST /me/register":          {"Register the person behind this phone: {name, id_type, id_number, region?}", "resident"},
	"GET /me":                    {"The resident's masked profile, colour and reason", "resident"},
	"POST /me/dependents":        {"Register a dependent (代办): {name, id_type, id_number, relation, region?}", "resident"},
	"GET /me/dependents":         {"The resident's dependents", "resident"},
	"DELETE /me/dependents/{id}": {"Stop managing a dependent", "resident"},

	"POST /admin/persons":                  {"Register a person on their behalf", "operator: person.write"},
	"GET /admin/persons":                   {"Search persons in scope by id_number, phone or name (exact); masked unless permitted; audited", "operator: person.read"},
	"GET /admin/persons/{id}":              {"A person, colour, reason and deciding rule; audited", "operator: person.read"},
	"POST /admin/operators":                {"Create an operator in scope: {username, password, role, region}", "operator: operator.write"},
	"GET /admin/operators":                 {"Operators in scope", "operator: operator.write"},
	"POST /admin/venues":                   {"Register a venue: {name, kind, address, region, unit_uscc?} → {id, venue_token, poster_url}", "operator: venue.write"},
	"GET /admin/venues":                    {"Venues in scope", "operator"},
	"GET /admin/venues/{id}":               {"A venue", "operator"},
	"POST /admin/venues/{id}/rotate-token": {"Replace the venue's token (old check-ins stay attached)", "operator: venue.write"},
	"GET /venues/{token}/poster.png":       {"The venue code QR as a PNG", ""},
	"POST /admin/checkpoints":              {"Add a checkpoint → {id, api_key} (the key is shown once)", "operator: checkpoint.write"},
	"GET /admin/checkpoints":               {"The checkpoint table: built and enabled, with totals", "operator: stats.read"},
	"PATCH /admin/checkpoints/{id}":        {"Set {built, enabled}; disabling revokes the key, enabling issues a new one", "operator: checkpoint.write"},
	"GET /admin/outbox":                    {"Messages held by the default SMS provider, newest first; ?to=PHONE", "operator: outbox.read"},
	"GET /admin/audit":                     {"The audit log in scope, newest first", "operator: audit.read"},
	"GET /admin/coverage":                  {"The registration task table per town: population, target, registered, share; ?ratio=0.9", "operator: stats.read"},

	"POST /checkins":                     {"Check in at a venue: {venue_token, dependents?: [person ids]} → {venue_name, checked_in_at, color}; answered once durable", "resident"},
	"GET /admin/venues/{id}/counts":      {"Check-ins per hour at a venue, never who: ?from&to (RFC 3339, default the last 24 h, at most 31 days)", "operator: stats.read"},
	"POST /admin/tracing":                {"Start a tracing run: {person_ids[] | venue_id, from, to; lookback?, window?} → {id, status}", "operator: tracing.run"},
	"GET /admin/tracing/{id}":            {"A tracing run: status, progress and a page of its report (?after&limit); audited", "operator: tracing.run"},
	"GET /admin/tracing/{id}/report.csv": {"The run's report as CSV, names masked (?lang=zh|en for the header); audited", "operator: tracing.run"},
	"GET /admin/tasks":                   {"Follow-up tasks in scope, oldest first: ?status&region&operator_id&after&limit; audited", "operator: task.write"},
	"POST /admin/tasks/{id}/assign":      {"Assign a task to a grid worker whose region covers the person's: {operator_id}", "operator: task.write"},
	"POST /admin/tasks/{id}/visited":     {"Close a task after the visit: {note}", "operator: task.write"},
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// openAPI serves an OpenAPI 3.1 document built from the route table.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	paths := map[string]map[string]any{}
	keys := make([]string, 0, len(s.routes))
	for _, rt := range s.routes {
		keys = append(keys, rt.method+" "+rt.path)
	}
	sort.Strings(keys)
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		d := docs[k]
		op := map[string]any{
			"summary":   d.summary,
			"responses": map[string]any{"default": map[string]any{"$ref": "#/components/responses/Error"}},
		}
		if d.auth != "" {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			op["description"] = "Authorization: " + d.auth
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[Prefix+path] == nil {
			paths[Prefix+path] = map[string]any{}
		}
		paths[Prefix+path][strings.ToLower(method)] = op
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "healthcode API", "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "A resident or operator session token, or a checkpoint/integrator API key"}},
			"responses": map[string]any{"Error": map[string]any{
				"description": "An error: {\"error\": {\"code\", \"message\"}}",
				"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
					"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object",
						"properties": map[string]any{"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}}}},
			}},
		},
	})
}
