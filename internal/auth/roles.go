package auth

import "slices"

// Role is an operator's job. What a role may do is fixed here, in one table,
// so that a review of who can do what reads one screen.
type Role string

const (
	Admin         Role = "admin"          // the data bureau: everything in scope
	HealthOfficer Role = "health_officer" // CDC staff: cases, contacts, rules, appeals, tracing
	Sampler       Role = "sampler"        // sampling staff: register people, fill tubes
	Lab           Role = "lab"            // laboratory: post and correct results
	Viewer        Role = "viewer"         // read-only: dashboards and masked lists
	Border        Role = "border"         // border staff (口岸): register inbound travellers with a foreign credential
	GridWorker    Role = "grid_worker"    // 网格员: visits the persons of one grid (scoped to a grid code)
)

// Roles lists the roles in the order the console shows them.
var Roles = []Role{Admin, HealthOfficer, Sampler, Lab, Viewer, Border, GridWorker}

// ParseRole checks a role name from input.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", ErrRoleUnknown.Withf("unknown role %q (want one of admin, health_officer, sampler, lab, viewer, border, grid_worker)", s)
}

// Permission is one thing an operator may do, always within their region.
type Permission string

const (
	PersonRead     Permission = "person.read"      // search and view persons, masked
	PersonReadFull Permission = "person.read_full" // see full name, ID number and phone
	PersonWrite    Permission = "person.write"     // register on behalf; issue care codes
	FactWrite      Permission = "fact.write"
	RulesRead      Permission = "rules.read"
	RulesWrite     Permission = "rules.write" // create and dry-run rule sets
	RulesActivate  Permission = "rules.activate"
	TracingRun     Permission = "tracing.run"
	AppealDecide   Permission = "appeal.decide"
	VenueWrite     Permission = "venue.write"
	CheckpointEdit Permission = "checkpoint.write"
	SiteWrite      Permission = "site.write"
	TubeWrite      Permission = "tube.write"
	ResultWrite    Permission = "result.write"
	StatsRead      Permission = "stats.read"
	OutboxRead     Permission = "outbox.read"
	AuditRead      Permission = "audit.read"
	OperatorWrite  Permission = "operator.write"
	TaskWrite      Permission = "task.write"     // grid follow-up tasks
	ImportWrite    Permission = "import.write"   // bulk lists: the population, cases, contacts, arrivals
	AlertRead      Permission = "alert.read"     // positive test alerts: read and take in hand
	OrgWrite       Permission = "org.write"      // gateway organisations, their keys and unit accounts; drug classes
	EntryWrite     Permission = "entry.write"    // register inbound travellers at the border with a verified foreign credential
	DoseWrite      Permission = "dose.write"     // register vaccine doses at a site; import earlier doses
	RiskAreaWrite  Permission = "riskarea.write" // publish and withdraw risk areas; import the carrier's trip data
	// IsolationWrite runs isolation sites (rooms, admissions, readings,
	// discharge, release) and transfers of positives.
	IsolationWrite Permission = "isolation.write"
	HotlineWrite   Permission = "hotline.write"  // 12345 hotline tickets about codes
	PersonCorrect  Permission = "person.correct" // correct a person's name or identity number (audited)
	// EmergencyEnd ends the emergency and destroys the personal data
	// (`healthcode wind-down`); it also needs the deployment-wide scope.
	EmergencyEnd Permission = "emergency.end"
)

var rolePerms = map[Role][]Permission{
	Admin: {PersonRead, PersonReadFull, PersonWrite, FactWrite, RulesRead, RulesWrite, RulesActivate,
		TracingRun, AppealDecide, VenueWrite, CheckpointEdit, SiteWrite, TubeWrite, ResultWrite, StatsRead,
		OutboxRead, AuditRead, OperatorWrite, TaskWrite, ImportWrite, AlertRead, OrgWrite, EntryWrite, DoseWrite, RiskAreaWrite, EmergencyEnd,
		IsolationWrite, HotlineWrite, PersonCorrect},
	HealthOfficer: {PersonRead, PersonReadFull, PersonWrite, FactWrite, RulesRead, RulesWrite, TracingRun,
		AppealDecide, VenueWrite, SiteWrite, StatsRead, TaskWrite, ImportWrite, AlertRead, OrgWrite, EntryWrite, DoseWrite, RiskAreaWrite,
		IsolationWrite, HotlineWrite},
	// Community health stations take swabs and give vaccines with the
	// same staff.
	Sampler: {PersonRead, PersonWrite, TubeWrite, StatsRead, DoseWrite},
	Lab:     {PersonRead, ResultWrite, StatsRead},
	Viewer:  {PersonRead, RulesRead, StatsRead},
	Border:  {PersonRead, PersonWrite, EntryWrite, StatsRead},
	// A grid worker sees their grid's persons (masked) and visits them.
	GridWorker: {PersonRead, TaskWrite, StatsRead},
}

// Can reports whether the role has the permission.
func (r Role) Can(p Permission) bool { return slices.Contains(rolePerms[r], p) }
