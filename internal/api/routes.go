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

	s.handle("GET", "/trust-list", s.call(s.trustList))
	s.handle("GET", "/me/code", s.resident(s.myCode))
	s.handle("GET", "/me/code.png", s.resident(s.myCodePNG))
	s.handle("GET", "/me/dependents/{id}/code", s.resident(s.dependentCode))
	s.handle("GET", "/me/dependents/{id}/code.png", s.resident(s.dependentCodePNG))
	s.handle("POST", "/me/dependents/{id}/care-code", s.resident(s.issueDependentCare))
	s.handle("GET", "/me/dependents/{id}/care-codes", s.resident(s.listDependentCare))
	s.handle("GET", "/me/dependents/{id}/care-codes/{cid}/qr.png", s.resident(s.dependentCarePNG))
	s.handle("POST", "/me/dependents/{id}/care-codes/{cid}/revoke", s.resident(s.revokeDependentCare))
	s.handle("POST", "/admin/persons/{id}/care-code", s.operator(auth.PersonWrite, s.issueAdminCare))
	s.handle("GET", "/admin/persons/{id}/care-codes", s.operator(auth.PersonRead, s.listAdminCare))
	s.handle("GET", "/admin/care-codes/{id}/qr.png", s.operator(auth.PersonWrite, s.adminCarePNG))
	s.handle("POST", "/admin/care-codes/{id}/revoke", s.operator(auth.PersonWrite, s.revokeAdminCare))
	s.handle("POST", "/verify", s.apiKey(auth.ScopeVerify, s.verify))
	s.handle("POST", "/verify/id", s.apiKey(auth.ScopeVerifyID, s.verifyID))
	s.handle("GET", "/verify/reasons", s.call(s.verifyReasons))
	s.handle("GET", "/sites", s.call(s.listSites))
	s.handle("GET", "/sites/{id}", s.call(s.getSite))
	s.handle("POST", "/admin/sites", s.operator(auth.SiteWrite, s.createSite))
	s.handle("PATCH", "/admin/sites/{id}", s.operator(auth.SiteWrite, s.updateSite))
	s.handle("POST", "/admin/sites/import", s.operator(auth.SiteWrite, s.importSites))
	s.handle("POST", "/nat/tubes", s.operator(auth.TubeWrite, s.openTube))
	s.handle("GET", "/nat/tubes/{barcode}", s.operator("", s.getTube))
	s.handle("POST", "/nat/tubes/{barcode}/samples", s.operator(auth.TubeWrite, s.addSample))
	s.handle("POST", "/nat/tubes/{barcode}/seal", s.operator(auth.TubeWrite, s.sealTube))
	s.handle("POST", "/nat/transfers", s.operator(auth.TubeWrite, s.createTransfer))
	s.handle("GET", "/nat/transfers/{id}", s.operator("", s.getTransfer))
	s.handle("POST", "/nat/results", s.operator(auth.ResultWrite, s.postResult))
	s.handle("POST", "/nat/results/upload", s.operator(auth.ResultWrite, s.uploadResults))
	s.handle("POST", "/nat/results/{barcode}/correction", s.operator(auth.ResultWrite, s.correctResult))
	s.handle("GET", "/me/tests", s.resident(s.tests(false)))
	s.handle("GET", "/me/tests/{test}/certificate", s.resident(s.testCertificate(false)))
	s.handle("GET", "/me/tests/{test}/certificate.png", s.resident(s.testCertificatePNG(false)))
	s.handle("GET", "/me/dependents/{id}/tests", s.resident(s.tests(true)))
	s.handle("GET", "/me/dependents/{id}/tests/{test}/certificate", s.resident(s.testCertificate(true)))
	s.handle("GET", "/me/dependents/{id}/tests/{test}/certificate.png", s.resident(s.testCertificatePNG(true)))
	s.handle("GET", "/admin/nat/alerts", s.operator(auth.AlertRead, s.natAlerts))
	s.handle("POST", "/admin/nat/alerts/{id}/ack", s.operator(auth.AlertRead, s.ackAlert))
	s.handle("GET", "/admin/nat/tasks", s.operator(auth.PersonRead, s.natTasks))
	s.handle("GET", "/admin/nat/coverage", s.operator(auth.PersonRead, s.natCoverage))
}
