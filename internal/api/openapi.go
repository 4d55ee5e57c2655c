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
	"GET /admin/persons":                   {"Search persons in scope by ?id_type&id_number, ?phone or ?name (exact), ?region; ?after, ?limit (at most 200); masked unless permitted; audited", "operator: person.read"},
	"GET /admin/persons/{id}":              {"A person, colour, reason and deciding rule; audited", "operator: person.read"},
	"POST /admin/operators":                {"Create an operator in scope: {username, password, role, region}", "operator: operator.write"},
	"GET /admin/operators":                 {"Operators in scope", "operator: operator.write"},
	"POST /admin/venues":                   {"Register a venue: {name, kind, address, region, unit_uscc?} → {id, venue_token, poster_url}", "operator: venue.write"},
	"GET /admin/venues":                    {"Venues in scope; ?limit (at most 1000)", "operator"},
	"GET /admin/venues/{id}":               {"A venue", "operator"},
	"POST /admin/venues/{id}/rotate-token": {"Replace the venue's token (old check-ins stay attached)", "operator: venue.write"},
	"GET /venues/{token}/poster.png":       {"The venue code QR as a PNG", ""},
	"POST /admin/checkpoints":              {"Add a checkpoint → {id, api_key} (the key is shown once)", "operator: checkpoint.write"},
	"GET /admin/checkpoints":               {"The checkpoint table: built and enabled, with totals", "operator: stats.read"},
	"PATCH /admin/checkpoints/{id}":        {"Set {built, enabled}; disabling revokes the key, enabling issues a new one", "operator: checkpoint.write"},
	"GET /admin/outbox":                    {"Messages held by the default SMS provider, newest first; ?to=PHONE, ?before (the id of the last message seen), ?limit (at most 500)", "operator: outbox.read"},
	"GET /admin/audit":                     {"The audit log in scope, newest first; ?subject, ?before (the seq of the last entry seen), ?limit (at most 500)", "operator: audit.read"},
	"GET /admin/coverage":                  {"The registration task table per town: population, target, registered, share; ?ratio=0.9", "operator: stats.read"},

	"POST /checkins":                                       {"Check in at a venue: {venue_token, dependents?: [person ids]} → {venue_name, checked_in_at, color}; answered once durable", "resident"},
	"GET /admin/venues/{id}/counts":                        {"Check-ins per hour at a venue, never who: ?from&to (RFC 3339, default the last 24 h, at most 31 days)", "operator: stats.read"},
	"POST /admin/tracing":                                  {"Start a tracing run: {person_ids[] | venue_id, from, to; lookback?, window?} → {id, status}", "operator: tracing.run"},
	"GET /admin/tracing/{id}":                              {"A tracing run: status, progress and a page of its report (?after&limit); audited", "operator: tracing.run"},
	"GET /admin/tracing/{id}/report.csv":                   {"The run's report as CSV, names masked (?lang=zh|en for the header); audited", "operator: tracing.run"},
	"GET /admin/tasks":                                     {"Follow-up tasks in scope, oldest first: ?status&region&operator_id&after&limit; audited", "operator: task.write"},
	"POST /admin/tasks/{id}/assign":                        {"Assign a task to a grid worker whose region covers the person's: {operator_id}", "operator: task.write"},
	"POST /admin/tasks/{id}/visited":                       {"Close a task after the visit: {note}", "operator: task.write"},
	"GET /trust-list":                                      {"The region's public code-signing keys {keys:[{kid, alg, public_key, issuer, not_before, not_after}]} (docs/CODE-FORMAT.md §9)", ""},
	"GET /me/code":                                         {"A fresh dynamic code: {code, kind, color, masked_name, issued_at, expires_at}", "resident"},
	"GET /me/code.png":                                     {"A fresh dynamic code as a QR image (?size=100..2000); expiry in X-Code-Expires-At", "resident"},
	"GET /me/dependents/{id}/code":                         {"A fresh dynamic code of a dependent", "resident"},
	"GET /me/dependents/{id}/code.png":                     {"A fresh dynamic code of a dependent as a QR image (?size=100..2000)", "resident"},
	"POST /me/dependents/{id}/care-code":                   {"Issue a printable care code (爱心码) for a dependent: {id, code, masked_name, issued_at, expires_at, state}", "resident"},
	"GET /me/dependents/{id}/care-codes":                   {"A dependent's care codes, newest first", "resident"},
	"GET /me/dependents/{id}/care-codes/{cid}/qr.png":      {"A dependent's valid care code as a QR image, for printing (?size=100..2000)", "resident"},
	"POST /me/dependents/{id}/care-codes/{cid}/revoke":     {"Revoke a dependent's care code (idempotent)", "resident"},
	"POST /admin/persons/{id}/care-code":                   {"Issue a care code at a service desk; audited", "operator: person.write"},
	"GET /admin/persons/{id}/care-codes":                   {"A person's care codes; audited", "operator: person.read"},
	"GET /admin/care-codes/{id}/qr.png":                    {"Print a valid care code again (?size=100..2000); audited", "operator: person.write"},
	"POST /admin/care-codes/{id}/revoke":                   {"Revoke a care code (idempotent); audited", "operator: person.write"},
	"POST /verify":                                         {"Verify a scanned code {code, temperature?} → {valid, admitted, color, masked_name, kind, issuer, expires_at, reasons[]}; an invalid code is a 200 with reasons", "API key: verify"},
	"POST /verify/id":                                      {"Verify by identity number {id_type, id_number, temperature?}, same answer; audited; 404 id_not_registered; 20 lookups at once per key, then one every 3 s (429 rate_limited)", "API key: verify_id"},
	"GET /verify/reasons":                                  {"What each verification reason means, in zh-CN and English", ""},
	"GET /sites":                                           {"Sampling sites as open data; ?format=json|csv|geojson (RFC 7946, [lng, lat]), ?region=, ?near=lat,lng (nearest first, with distance_m), ?open=, ?limit=", ""},
	"GET /sites/{id}":                                      {"One sampling site", ""},
	"POST /admin/sites":                                    {"Add a sampling site: {name, address, phone?, hours?, lat, lng, region?, open?}", "operator: site.write"},
	"PATCH /admin/sites/{id}":                              {"Change a sampling site (e.g. {open: false} closes it)", "operator: site.write"},
	"POST /admin/sites/import":                             {"Add or update sites from a text/csv file (name, address, phone, hours, lat, lng, region, open); per-line report", "operator: site.write"},
	"POST /nat/tubes":                                      {"Open a tube at a site: {barcode, capacity (1, 5, 10, 20), site_id}", "operator: tube.write"},
	"GET /nat/tubes/{barcode}":                             {"A tube: capacity, samples, state, result", "operator"},
	"POST /nat/tubes/{barcode}/samples":                    {"Bind a person to the tube: {code} (scanned health or care code) or {id_type, id_number} (audited)", "operator: tube.write"},
	"POST /nat/tubes/{barcode}/seal":                       {"Seal a tube", "operator: tube.write"},
	"POST /nat/transfers":                                  {"Hand sealed tubes to a lab in one batch: {barcodes[], lab}; all or nothing", "operator: tube.write"},
	"GET /nat/transfers/{id}":                              {"A transfer and its tubes", "operator"},
	"POST /nat/results":                                    {"A tube's result: {barcode, result (negative, positive, invalid), lab?}; the same result again changes nothing", "operator: result.write"},
	"POST /nat/results/upload":                             {"A lab's text/csv file of barcode,result lines (?lab=); per-line report, good lines kept", "operator: result.write"},
	"POST /nat/results/{barcode}/correction":               {"Correct a tube's result: {result, reason}; audited; supersedes the earlier facts", "operator: result.write"},
	"GET /me/tests":                                        {"The resident's test results, newest first, with site and time, and open retest/resample tasks", "resident"},
	"GET /me/tests/{test}/certificate":                     {"A signed certificate of a negative test: {code, ...}, verifiable offline with the trust list", "resident"},
	"GET /me/tests/{test}/certificate.png":                 {"The certificate as a QR PNG", "resident"},
	"GET /me/dependents/{id}/tests":                        {"A dependent's test results", "resident"},
	"GET /me/dependents/{id}/tests/{test}/certificate":     {"A certificate of a dependent's negative test", "resident"},
	"GET /me/dependents/{id}/tests/{test}/certificate.png": {"The dependent's certificate as a QR PNG", "resident"},
	"GET /admin/nat/alerts":                                {"Single-tube positives of persons in scope, newest first; ?open=true, ?region=, ?limit=, ?after= (the next of the previous page); audited", "operator: alert.read"},
	"POST /admin/nat/alerts/{id}/ack":                      {"Take an alert in hand", "operator: alert.read"},
	"GET /admin/nat/tasks":                                 {"Retest and resample tasks of persons in scope (masked), newest first; ?kind=, ?open=true, ?region=, ?limit=, ?after=; audited", "operator: person.read"},
	"GET /admin/nat/coverage":                              {"应检未检: residents without a negative result in the last ?hours=48, counts per town and a page of them (masked); ?region=, ?after=, ?limit=; audited", "operator: person.read"},
	"POST /admin/facts":                                    {"Append a fact {person_id, kind, at, until?, attrs, source?, key?}; the colour is recomputed before the answer", "operator: fact.write, or API key with facts:KIND"},
	"GET /admin/rules":                                     {"The active rule set, every version, the activation history and the latest recompute", "operator: rules.read"},
	"POST /admin/rules":                                    {"Store a new rule-set version (body: the set); 400 rules_invalid lists error.problems", "operator: rules.write"},
	"GET /admin/rules/recompute":                           {"Progress of the latest recompute: done/total, started, finished", "operator: rules.read"},
	"GET /admin/rules/{version}":                           {"A stored rule-set version", "operator: rules.read"},
	"POST /admin/rules/{version}/dry-run":                  {"Who in your scope would change from which colour to which under a version; a masked sample", "operator: rules.write"},
	"POST /admin/rules/{version}/activate":                 {"Activate a version (audited); everyone is recomputed in the background; needs a scope covering the whole deployment", "operator: rules.activate"},
	"GET /admin/stats":                                     {"Colour counts per town in scope", "operator: stats.read"},
	"GET /admin/appeals":                                   {"The appeals queue in scope, oldest first; ?state=pending|granted|rejected, ?limit (at most 500); audited", "operator: appeal.decide"},
	"POST /admin/appeals/{id}/decision":                    {"Decide an appeal: {decision: granted|rejected, note, until?}", "operator: appeal.decide"},
	"POST /me/declarations":                                {"Daily health declaration: {temperature?, symptoms?, exposure?, person_id?}", "resident"},
	"GET /me/facts":                                        {"The resident's (or a dependent's, ?person_id=) records with their ids, newest first", "resident"},
	"POST /me/appeals":                                     {"Appeal a colour: {reason, evidence: [fact ids of own test results], person_id?}", "resident"},
	"GET /me/appeals":                                      {"The appeals this account filed", "resident"},

	"POST /gateway/v1/scan":                     {"Scan a code {code} (scope scan) or look a person up at a desk {id_type, id_number} (scope scan_id: audited, 20 at once then one every 3 s) → {subject, expires_at, color, masked_name, admitted, reasons[], kind}; subject is the organisation's reference to the person for 15 minutes; a code that is not valid is a 422 (code_unreadable, code_forged, code_expired, code_revoked, code_invalid); over the key's rate or daily quota a 429 with Retry-After (docs/GATEWAY.md)", "organisation API key or unit account"},
	"GET /gateway/v1/pharmacy/drug-classes":     {"The watched drug classes in use: {drug_classes: [{code, name: {zh, en}}]}", ""},
	"POST /gateway/v1/pharmacy/purchases":       {"Register a purchase of a watched drug {subject, drug_class, items?: [{name, quantity}]} → {id, drug_class, items, at, masked_name, color}; records pharmacy.purchase, so the buyer's colour is recomputed before the answer; 400 drug_class_unknown, 410 subject_expired, 403 subject_foreign", "pharmacy API key with pharmacy.purchase, or a pharmacy's unit account"},
	"GET /gateway/v1/pharmacy/purchases":        {"The pharmacy's purchases of a day, newest first, with counts per class: ?date=2022-04-01 (default today, in the deployment's zone); ?format=csv (?lang=en for an English header)", "pharmacy API key with pharmacy.purchase, or a pharmacy's unit account"},
	"POST /gateway/v1/clinic/visits":            {"Register a fever-clinic visit after a scan {subject, temperature, symptoms?: [codes of the declaration vocabulary], diagnosis?, doctor} → the visit, open, with the patient's colour after it; records clinic.fever (the default rules: yellow until a negative test at or after the visit)", "fever clinic or hospital API key with clinic.fever, or its unit account"},
	"GET /gateway/v1/clinic/visits":             {"The clinic's follow-up: every open visit, oldest first, and the visits closed on ?date (default today), newest first, with that day's registered and fever counts", "fever clinic or hospital API key with clinic.fever, or its unit account"},
	"POST /gateway/v1/clinic/visits/{id}/close": {"Close a visit's follow-up {outcome: negative|positive|discharged, sampled_at?, note?}: a test result is recorded as the patient's nat.result at sampled_at (default the visit's time), so a negative one turns the patient green; 409 visit_closed", "fever clinic or hospital API key with clinic.fever, or its unit account"},
	"GET /admin/orgs/{id}/clinic/visits":        {"A clinic's follow-up as the clinic sees it: ?date", "operator: org.write or stats.read"},
	"GET /admin/clinic/summary":                 {"Fever-clinic visits of a day per town of the clinic in scope: visits, fever, clinics, follow-ups closed negative, positive or discharged that day, and open at its end: ?date (default today)", "operator: stats.read"},
	"POST /gateway/v1/hospital/identity":        {"Receive a scanned patient's identity {subject, purpose: card|registration} → {name, id_type, id_number, phone, purpose, at}, once per scan; audited as a person read by the key or account; 409 subject_used for a second request with the same subject", "hospital or fever clinic API key with hospital.identity, or its unit account"},
	"POST /gateway/v1/hospital/queue":           {"Give a scanned patient a queue number {subject, department} → {department, number, color, routed, reasons, ...}, once per scan: green in the department asked for, yellow at the fever clinic (routed, color_yellow), red refused (409 queue_refused)", "hospital API key with hospital.queue, or its unit account"},
	"GET /gateway/v1/hospital/queue":            {"The hospital's queue of ?date (default today) in the order given, with counts per department", "hospital API key with hospital.queue, or its unit account"},
	"GET /admin/orgs/{id}/hospital/queue":       {"A hospital's queue of a day: ?date", "operator: org.write or stats.read"},
	"POST /gateway/v1/ride/check":               {"A driver's or passenger's colour by the handle they shared with this platform {handle} → {handle, color}; 404 handle_unknown (never shared with this platform, or withdrawn)", "ride-hailing or taxi API key with ride.check"},
	"POST /gateway/v1/ride/check/batch":         {"Colours of up to 10,000 handles at once {handles: [...]} → {checked, unknown, counts, results: [{handle, color} | {handle, error: handle_unknown}]} in order; counts as len(handles) requests against the key's daily quota and one against its rate", "ride-hailing or taxi API key with ride.check"},
	"GET /me/platforms":                         {"The ride-hailing platforms and taxi companies, with the handle the resident shares with each", "resident"},
	"POST /me/platforms/{id}/handle":            {"Share a handle with a platform (a new random one, or the one in use); audited", "resident"},
	"DELETE /me/platforms/{id}/handle":          {"Withdraw the handle shared with a platform: it never answers again; audited", "resident"},
	"POST /admin/orgs":                          {"Register an organisation {kind, name, uscc, region?, address?}; audited", "operator: org.write"},
	"GET /admin/orgs":                           {"Organisations in scope in the order registered; ?kind, ?region, ?after (the next of the previous page), ?limit (at most 500)", "operator: org.write or stats.read"},
	"GET /admin/orgs/{id}":                      {"An organisation", "operator: org.write or stats.read; the organisation's own keys and accounts"},
	"POST /admin/orgs/{id}/keys":                {"Give an organisation an API key {name, scopes[], daily_quota?, rate_per_minute?} → the key with its secret api_key, shown once; audited", "operator: org.write; the organisation's admin account"},
	"GET /admin/orgs/{id}/keys":                 {"An organisation's keys (never their secrets), with today's use", "operator: org.write; the organisation's admin account"},
	"POST /admin/orgs/{id}/keys/{key}/rotate":   {"Give a key a new secret, shown once; the old one stops; audited", "operator: org.write; the organisation's admin account"},
	"POST /admin/orgs/{id}/keys/{key}/revoke":   {"Revoke a key for good (idempotent); audited", "operator: org.write; the organisation's admin account"},
	"POST /admin/orgs/{id}/accounts":            {"Add a unit account {username, password, display_name?, admin?}; audited", "operator: org.write"},
	"GET /admin/orgs/{id}/accounts":             {"An organisation's unit accounts", "operator: org.write; the organisation's admin account"},
	"PATCH /admin/orgs/{id}/accounts/{account}": {"Disable or enable a unit account {disabled}; disabling ends its sessions; audited", "operator: org.write"},
	"GET /admin/orgs/{id}/pharmacy/purchases":   {"A pharmacy's purchases of a day, as the pharmacy sees them: ?date, ?format=csv, ?lang", "operator: org.write or stats.read"},
	"GET /admin/pharmacy/summary":               {"Watched-drug purchases of a day per town of the pharmacy in scope, per class, with pharmacies and distinct buyers: ?date (default today)", "operator: stats.read"},
	"GET /admin/pharmacy/drug-classes":          {"Every drug class, retired ones too", "operator"},
	"POST /admin/pharmacy/drug-classes":         {"Add or change a drug class {code, name_zh, name_en, active?, position?}; retiring one (active false) refuses it for new purchases; audited", "operator: org.write, scope the whole deployment"},
}

var (
	pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)
	// A summary names its query parameters as ?name (or &name after
	// another); the document lists them, so that clients and the
	// robustness test know every one.
	queryParam = regexp.MustCompile(`[?&]([a-z_]+)`)
)

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
		seen := map[string]bool{}
		for _, m := range queryParam.FindAllStringSubmatch(d.summary, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				params = append(params, map[string]any{"name": m[1], "in": "query", "schema": map[string]any{"type": "string"}})
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[fullPath(path)] == nil {
			paths[fullPath(path)] = map[string]any{}
		}
		paths[fullPath(path)][strings.ToLower(method)] = op
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
