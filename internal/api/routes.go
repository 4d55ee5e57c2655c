package api

import "github.com/healthcode/healthcode/internal/auth"

// register lists every endpoint. Paths are relative to /api/v1 and fixed by
// the contract in DESIGN.md; new ones follow the same style.
func (s *Server) register() {
	s.handle("GET", "/openapi.json", s.openAPI)
	s.handle("GET", "/regions/{code}", s.call(s.regionChildren))

	s.handle("POST", "/auth/otp", s.call(s.sendOTP))
	s.handle("POST", "/auth/login", s.call(s.login))
	s.handle("POST", "/auth/operator", s.call(s.operatorLogin))
	s.handle("POST", "/auth/logout", s.call(s.logout))

	s.handle("POST", "/me/register", s.resident(s.register_))
	s.handle("GET", "/me", s.resident(s.me))
	s.handle("POST", "/me/dependents", s.resident(s.addDependent))
	s.handle("GET", "/me/dependents", s.resident(s.listDependents))
	s.handle("DELETE", "/me/dependents/{id}", s.resident(s.removeDependent))

	s.handle("POST", "/admin/persons", s.operator(auth.PersonWrite, s.createPerson))
	s.handle("GET", "/admin/persons", s.operator(auth.PersonRead, s.searchPersons))
	s.handle("GET", "/admin/persons/{id}", s.operator(auth.PersonRead, s.getPerson))

	s.handle("POST", "/admin/operators", s.operator(auth.OperatorWrite, s.createOperator))
	s.handle("GET", "/admin/operators", s.operator(auth.OperatorWrite, s.listOperators))

	s.handle("POST", "/admin/venues", s.operator(auth.VenueWrite, s.createVenue))
	s.handle("GET", "/admin/venues", s.operator("", s.listVenues))
	s.handle("GET", "/admin/venues/{id}", s.operator("", s.getVenue))
	s.handle("POST", "/admin/venues/{id}/rotate-token", s.operator(auth.VenueWrite, s.rotateVenueToken))
	s.handle("GET", "/venues/{token}/poster.png", s.call(s.venuePoster))

	s.handle("POST", "/admin/checkpoints", s.operator(auth.CheckpointEdit, s.createCheckpoint))
	s.handle("GET", "/admin/checkpoints", s.operator(auth.StatsRead, s.listCheckpoints))
	s.handle("PATCH", "/admin/checkpoints/{id}", s.operator(auth.CheckpointEdit, s.updateCheckpoint))

	s.handle("GET", "/admin/outbox", s.operator(auth.OutboxRead, s.outbox))
	s.handle("GET", "/admin/audit", s.operator(auth.AuditRead, s.auditLog))
	s.handle("GET", "/admin/coverage", s.operator(auth.StatsRead, s.coverage))

	s.handle("POST", "/checkins", s.resident(s.checkIn))
	s.handle("GET", "/admin/venues/{id}/counts", s.operator(auth.StatsRead, s.venueCounts))

	s.handle("POST", "/admin/tracing", s.operator(auth.TracingRun, s.startTracing))
	s.handle("GET", "/admin/tracing/{id}", s.operator(auth.TracingRun, s.getTracing))
	s.handle("GET", "/admin/tracing/{id}/report.csv", s.operator(auth.TracingRun, s.tracingCSV))
	s.handle("GET", "/admin/tasks", s.operator(auth.TaskWrite, s.listTasks))
	s.handle("POST", "/admin/tasks/{id}/assign", s.operator(auth.TaskWrite, s.assignTask))
	s.handle("POST", "/admin/tasks/{id}/visited", s.operator(auth.TaskWrite, s.visitTask))
}
