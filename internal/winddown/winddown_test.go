package winddown_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/emergency"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/winddown"
)

// personal are the tables that hold personal data, listed here rather than
// read from the wind-down so that a step that forgets one fails.
var personal = []string{
	"persons", "accounts", "dependents", "manager_requests", "sessions", "otps", "sms_outbox",
	"care_codes", "checkins", "verifications", "facts", "fact_packs", "status", "status_changes", "notifications", "appeals",
	"nat_samples", "nat_results", "nat_tasks", "nat_alerts", "nat_tested", "followup_tasks", "tracing_runs", "tracing_reports",
	"pharmacy_purchases", "clinic_visits", "hospital_handoffs", "hospital_tickets", "ride_handles",
	"vac_appointments", "vac_doses", "arrivals", "cc_handlings", "cc_exposures",
	"otp_counters", "login_backoff", "operator_addresses", "bk_bookings", "hall_tickets", "hall_logins",
	"otp_counters", "login_backoff", "operator_addresses",
	"employer_staff", "employer_gate", "school_pupils", "school_checks", "school_entries",
	"otp_counters", "login_backoff", "operator_addresses", "trip_stays",
	"iso_stays", "iso_readings", "iso_transfers", "iso_transfer_steps", "hotline_tickets",
	"grid_members", "households", "imports", "transport_drivers",
	// Not personal, but counts of the persons destroyed: they go with them.
	"person_counts", "nat_swabs", "nat_negative_hours", "verification_hours", "status_counts", "notification_runs",
}

// impersonal are the tables that stay, each for a reason: the schema's own
// bookkeeping, staff and organisations, places, counts, public keys, the
// audit log (which names persons only by their public id, and keeps that
// the data was destroyed), the flag that the emergency ended, which node
// runs which background task (leases), and how far the check-in journal
// has been moved into the tables (a file number and an offset; the purge of
// check-ins removes the journal's file).
var impersonal = []string{
	"schema_migrations", "counters", "operators", "api_keys", "units", "venues", "venue_tokens", "checkpoints", "places",
	"audit_log", "audit_head", "populations", "local_regions", "rule_sets", "rules_active", "rule_activations", "recompute_jobs",
	"signing_keys", "code_shows", "nat_sites", "nat_transfers", "nat_tubes", "nat_uploads", "orgs", "api_key_usage",
	"unit_accounts", "drug_classes", "hospital_queue_counters", "emergency_end",
	"fed_regions", "fed_packages", "fed_bundle", "fed_color_policy", "entry_trust", "audit_heads", "operator_totp_pending",
	"vac_sites", "vac_products", "vac_slots", "cc_batches", "cc_stock", "cc_moves", "cc_inspections", "cc_tasks",
	"bk_slots", "hall_policies", "hall_counters",
	"school_classes",
	"risk_areas", "venue_policies", "venue_refusals",
	"iso_sites", "iso_rooms",
	"grids",
	"leases", "checkin_journal",
	"transport_vehicles",
}

func tables(t *testing.T, d *db.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if d.Engine() == db.Postgres {
		// Partitions of check-ins and verifications are counted with their parent.
		q = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`
	}
	names, err := db.Collect(context.Background(), d, q, nil, func(sc db.Scanner) (string, error) {
		var s string
		return s, sc.Scan(&s)
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func counts(t *testing.T, s *servertest.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, name := range tables(t, s.App.DB) {
		out[name] = s.Count(name)
	}
	return out
}

func admin(t *testing.T, s *servertest.Server, username, password string) *auth.Principal {
	t.Helper()
	ctx := context.Background()
	token, _, err := s.App.Auth.OperatorLogin(ctx, username, password)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.App.Auth.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEveryTableIsDestroyedOrKeptForAReason(t *testing.T) {
	s := servertest.Start(t, db.SQLite)
	var covered []string
	wd := s.App.WindDown()
	r, err := wd.Plan(context.Background(), admin(t, s, "admin", servertest.AdminPassword))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Tables {
		covered = append(covered, strings.TrimSuffix(c.Table, ".private"))
	}
	for _, name := range tables(t, s.App.DB) {
		switch {
		case slices.Contains(personal, name) && !slices.Contains(covered, name):
			t.Errorf("table %s holds personal data and the wind-down leaves it", name)
		case !slices.Contains(personal, name) && !slices.Contains(impersonal, name):
			t.Errorf("table %s is new: list it in personal (and destroy it in a wind-down step) or in impersonal", name)
		}
	}
}

func TestWindDown(t *testing.T) {
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		ctx := context.Background()
		by := admin(t, s, "admin", servertest.AdminPassword)
		wd := s.App.WindDown()
		trustBefore := s.App.CodeKeys.TrustList()
		// The demo checks nobody in; one check-in and one verification, now.
		now := time.Now().UnixMilli()
		for _, q := range []string{`INSERT INTO checkins (place, at, person) VALUES (1, $1, 1)`,
			`INSERT INTO verifications (at, place, person, key_id, valid, reason, color, kind) VALUES ($1, 1, 1, 'k', TRUE, '', 0, 'dynamic')`} {
			if _, err := s.App.DB.ExecContext(ctx, q, now); err != nil {
				t.Fatal(err)
			}
		}
		start := counts(t, s)
		for _, table := range []string{"persons", "facts", "checkins", "sessions", "status"} {
			if start[table] == 0 {
				t.Fatalf("the demo left %s empty: the test would prove nothing", table)
			}
		}

		// The dry run reports what every table holds and changes nothing.
		plan, err := wd.Plan(ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range plan.Tables {
			if base := strings.TrimSuffix(c.Table, ".private"); base == c.Table && int(c.Before) != start[c.Table] {
				t.Errorf("dry run: %s has %d rows, the table %d", c.Table, c.Before, start[c.Table])
			}
			if c.After != nil {
				t.Errorf("dry run: %s has an after count", c.Table)
			}
		}

		// Refusals: the wrong role, a regional admin, no or a wrong phrase.
		for _, tc := range []struct {
			name    string
			by      *auth.Principal
			confirm string
			want    error
		}{
			{"health officer", adminOf(t, s, "officer", "health_officer", servertest.Region), winddown.ConfirmationPhrase(servertest.Region), winddown.ErrForbidden},
			{"regional admin", adminOf(t, s, "town_admin", "admin", "341881001"), winddown.ConfirmationPhrase(servertest.Region), winddown.ErrForbidden},
			{"no phrase", by, "", winddown.ErrConfirmation},
			{"another region's phrase", by, winddown.ConfirmationPhrase("110101"), winddown.ErrConfirmation},
		} {
			before := counts(t, s)
			if _, err := wd.Run(ctx, tc.by, tc.confirm); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
			if after := counts(t, s); !equal(before, after) {
				t.Errorf("%s changed the store", tc.name)
			}
		}
		if s.App.Emergency.Ended() {
			t.Fatal("a refused wind-down ended the emergency")
		}
		if _, err := s.App.Codes.Dynamic(person.Profile{Num: 1, Region: servertest.Region, MaskedName: "*三"}); err != nil {
			t.Fatalf("codes before the end: %v", err)
		}

		signed, err := wd.Run(ctx, by, winddown.ConfirmationPhrase(servertest.Region))
		if err != nil {
			t.Fatal(err)
		}
		end := counts(t, s)
		for _, table := range personal {
			if end[table] != 0 {
				t.Errorf("%s holds %d rows after the wind-down", table, end[table])
			}
		}
		var private int
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE private_enc IS NOT NULL`).Scan(&private)
		if private != 0 || end["signing_keys"] == 0 {
			t.Errorf("signing keys: %d private parts left, %d public ones", private, end["signing_keys"])
		}
		if _, err := s.App.Codes.Dynamic(person.Profile{Num: 1, Region: servertest.Region, MaskedName: "*三"}); !errors.Is(err, codes.ErrEmergencyEnded) {
			t.Errorf("a code after the end: %v, want emergency_ended", err)
		}

		// The report verifies with the trust list published before and the
		// one served after; changed, it does not.
		file, err := json.Marshal(signed)
		if err != nil {
			t.Fatal(err)
		}
		for name, trust := range map[string]codeformat.TrustList{"before": trustBefore, "after": s.App.CodeKeys.TrustList()} {
			r, err := winddown.Verify(file, trust)
			if err != nil {
				t.Fatalf("report with the trust list %s: %v", name, err)
			}
			for _, c := range r.Tables {
				if c.After == nil || *c.After != 0 {
					t.Errorf("report: %s after = %v", c.Table, c.After)
				}
				if c.Table == "persons" && int(c.Before) != start["persons"] {
					t.Errorf("report: persons before = %d, want %d", c.Before, start["persons"])
				}
			}
			if r.Region != servertest.Region || r.DryRun || r.EndedBy != by.Actor() {
				t.Errorf("report: %+v", r)
			}
		}
		tampered := strings.Replace(string(file), `"table":"persons","before":`+itoa(start["persons"]), `"table":"persons","before":1`, 1)
		if tampered == string(file) {
			t.Fatal("the test did not change the report")
		}
		if _, err := winddown.Verify([]byte(tampered), trustBefore); !errors.Is(err, winddown.ErrReportSignature) {
			t.Errorf("tampered report: %v, want ErrReportSignature", err)
		}
		if _, err := winddown.Verify(file, codeformat.TrustList{}); !errors.Is(err, winddown.ErrReportUnknownKey) {
			t.Errorf("report with an empty trust list: %v", err)
		}

		var ends int
		s.App.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('emergency.end', 'emergency.destruction_report')`).Scan(&ends)
		if ends != 2 {
			t.Errorf("%d wind-down audit entries, want 2", ends)
		}
		if rep, err := audit.Verify(ctx, s.App.DB); err != nil || !rep.OK {
			t.Errorf("audit chain after the wind-down: %+v %v", rep, err)
		}
	}, servertest.WithDemo())
}

func adminOf(t *testing.T, s *servertest.Server, username, role, region string) *auth.Principal {
	t.Helper()
	p, err := s.App.Auth.Authenticate(context.Background(), s.NewOperator(username, role, region))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestCodesStopWhenTheEmergencyEnds sets the flag as a wind-down in another
// process does: after the node's next refresh, residents get a precise 409.
func TestCodesStopWhenTheEmergencyEnds(t *testing.T) {
	s := servertest.Start(t, db.SQLite)
	ctx := context.Background()
	id, err := idnum.ResidentCheckChar("34188119850312201")
	if err != nil {
		t.Fatal(err)
	}
	token, _ := s.Resident("13900000201", "张三丰", "34188119850312201"+string(id), "")
	s.Want(s.Do("GET", "/api/v1/me/code", token, nil), 200, "")
	err = s.App.DB.InTx(ctx, func(tx db.Tx) error {
		return emergency.MarkEnded(ctx, tx, emergency.End{At: time.Now(), By: "operator:x", Region: servertest.Region})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.App.Emergency.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s.Want(s.Do("GET", "/api/v1/me/code", token, nil), 409, "emergency_ended")
	// A restarted node knows too.
	other := s.Another(t)
	if !other.App.Emergency.Ended() {
		t.Fatal("a node started after the end does not know it")
	}
}
