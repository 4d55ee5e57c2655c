package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/status"
)

// row is one stored row of a kind, at a time given by the test.
type row struct {
	table, col string // the table and the column that dates the row
	// insert stores a row: $1 is its time (unix ms), $2 a value unique in
	// the test, of the type arg says.
	insert string
	arg    byte // 'i' number, 's' text "x<n>", 'b' bytes
}

// kinds are the rows each registered kind must purge once old enough.
var kinds = map[string][]row{
	"checkins": {
		{"checkins", "at", `INSERT INTO checkins (place, at, person) VALUES (1, $1, $2)`, 'i'},
		{"verifications", "at", `INSERT INTO verifications (at, place, person, key_id, valid, reason, color, kind) VALUES ($1, 1, $2, 'k', TRUE, '', 0, 'dynamic')`, 'i'},
	},
	"facts": {
		{"facts", "at", `INSERT INTO facts (person_num, id, kind, at, until_at, attrs, source, idem_key, recorded_at, recorded_by)
			VALUES (1, $2, 'temperature', $1, NULL, '{"celsius":36.5}', 'test', NULL, $1, 'system')`, 'i'},
		{"status_changes", "at", `INSERT INTO status_changes (seq, person_num, region_code, old_color, new_color, old_rule, rule_id,
			reason_zh, reason_en, rules_version, cause, at) VALUES ($2, 1, '341881', 0, 1, '', 'r', '', '', 1, 'test', $1)`, 'i'},
	},
	"appeals": {
		{"appeals", "created_at", `INSERT INTO appeals (id, person_num, region_code, account_id, reason, evidence, color, rule_id, state,
			auto, note, until_at, decided_by, decided_at, created_at) VALUES ($2, 1, '341881', 'acc', 'r', '', 1, 'r', 'rejected',
			FALSE, '', NULL, 'op', $1, $1)`, 's'},
	},
	"notifications": {
		{"notifications", "created_at", `INSERT INTO notifications (seq, person_num, region_code, old_color, new_color, reason_zh, advice_zh,
			state, attempts, next_at, delivered, last_error, created_at, sent_at) VALUES ($2, 1, '341881', 0, 1, '', '', 'sent', 1, 0, '', '', $1, $1)`, 'i'},
		{"notification_runs", "created_at", `INSERT INTO notification_runs (first_seq, last_seq, next_seq, reason_zh, advice_zh, created_at)
			VALUES ($2, $2, $2, '', '', $1)`, 'i'},
	},
	"sms": {
		{"sms_outbox", "created_at", `INSERT INTO sms_outbox (id, to_hash, to_enc, region_code, purpose, body, created_at)
			VALUES ($1, $2, $2, '341881', 'otp', 'b', $1)`, 'b'},
	},
	"sessions": {
		{"sessions", "created_at", `INSERT INTO sessions (token_hash, kind, subject, created_at, expires_at) VALUES ($2, 'resident', 's', $1, $1)`, 'b'},
		{"otps", "sent_at", `INSERT INTO otps (phone_hash, code_hash, expires_at, attempts, sent_at, day, day_count)
			VALUES ($2, $2, $1, 0, $1, 20200101, 1)`, 'b'},
	},
	"tests": {
		{"nat_samples", "sampled_at", `INSERT INTO nat_samples (id, barcode, person_num, position, sampled_at, method, bound_by)
			VALUES ($2, $2, 1, 1, $1, 'mixed', 'op')`, 's'},
		{"nat_results", "reported_at", `INSERT INTO nat_results (barcode, version, result, lab, source, reason, reported_at, reported_by, facts_recorded)
			VALUES ($2, 1, 'negative', 'lab', 'api', '', $1, 'lab', TRUE)`, 's'},
		{"nat_tasks", "created_at", `INSERT INTO nat_tasks (id, kind, person_num, region_code, barcode, result_version, created_at)
			VALUES ($2, 'retest', 1, '341881', $2, 1, $1)`, 's'},
		{"nat_alerts", "created_at", `INSERT INTO nat_alerts (id, person_num, region_code, barcode, result_version, site_id, sampled_at, created_at)
			VALUES ($2, 1, '341881', $2, 1, 'site', $1, $1)`, 's'},
		// A resident's latest negative sampling time (person 1000+n).
		{"nat_tested", "last_negative", `INSERT INTO nat_tested (person_num, region_code, last_negative) VALUES ($2 + 1000, '341881', $1)`, 'i'},
	},
	"care_codes": {
		{"care_codes", "issued_at", `INSERT INTO care_codes (id, person_num, kid, code_enc, issued_at, expires_at, issued_by)
			VALUES ($2, 1, 'k', 'x', $1, $1, 'op')`, 's'},
	},
	"pharmacy": {
		{"pharmacy_purchases", "at", `INSERT INTO pharmacy_purchases (id, org_id, org_region, person_num, person_region, masked_name, drug_class,
			items, at, recorded_by, fact_recorded) VALUES ($2, 'org', '341881', 1, '341881', '*三', 'fever', '[]', $1, 'k', TRUE)`, 's'},
	},
	"clinic": {
		{"clinic_visits", "at", `INSERT INTO clinic_visits (id, org_id, org_region, person_num, person_region, masked_name, at, temperature,
			symptoms, diagnosis, doctor, recorded_by, fact_recorded) VALUES ($2, 'org', '341881', 1, '341881', '*三', $1, 380, '[]', '', '', 'k', TRUE)`, 's'},
	},
	"hospital": {
		{"hospital_handoffs", "at", `INSERT INTO hospital_handoffs (ref, org_id, person_num, purpose, at, recorded_by) VALUES ($2, 'org', 1, 'card', $1, 'k')`, 's'},
		{"hospital_tickets", "at", `INSERT INTO hospital_tickets (id, ref, org_id, day, department, asked, number, person_num, masked_name, color,
			routed, at, recorded_by) VALUES ($2, $2, 'org', 20200101, 'd', 'd', 1, 1, '*三', 'green', FALSE, $1, 'k')`, 's'},
	},
	"ride": {
		{"ride_handles", "granted_at", `INSERT INTO ride_handles (handle, org_id, person_num, granted_at, granted_by, withdrawn_at) VALUES ($2, 'org', 1, $1, 'k', $1)`, 's'},
	},
	"bookings": {
		{"bk_bookings", "starts_at", `INSERT INTO bk_bookings (id, slot_id, org_id, person_num, state, starts_at, booked_by, created_at)
			VALUES ($2, 'bslot', 'org', 1, 'cancelled', $1, 'r', $1)`, 's'},
	},
	"hall": {
		{"hall_tickets", "at", `INSERT INTO hall_tickets (id, org_id, day, service, line, number, person_num, issuer, masked_name, color, routed,
			booked, state, at, recorded_by) VALUES ($2, 'org', 1, 'S', 'S', 1, 1, '', 'N', 'green', FALSE, FALSE, 'done', $1, 'k')`, 's'},
		{"hall_logins", "created_at", `INSERT INTO hall_logins (id, org_id, terminal, state, created_at, expires_at) VALUES ($2, 'org', 't', 'pending', $1, $1)`, 's'},
	},
	"employer": {
		{"employer_gate", "at", `INSERT INTO employer_gate (id, org_id, staff_id, day, at, color, admitted, reason, by_actor)
			VALUES ($2, 'org', 'est', '2020-01-01', $1, 'yellow', FALSE, 'color_yellow', 'k')`, 's'},
	},
	"school": {
		{"school_checks", "at", `INSERT INTO school_checks (pupil_id, day, slot, org_id, class_id, temperature, symptoms, source, at, by_actor)
			VALUES ('spu', $2, 'morning', 'org', 'scl', 365, '', 'parent', $1, 'r')`, 's'},
		{"school_entries", "at", `INSERT INTO school_entries (id, org_id, pupil_id, day, at, kind, admitted, reason)
			VALUES ($2, 'org', 'spu', '2020-01-01', $1, 'dynamic', TRUE, '')`, 's'},
	},
	"vaccinations": {
		{"vac_appointments", "starts_at", `INSERT INTO vac_appointments (id, slot_id, person_num, dose, state, booked_by, starts_at, created_at)
			VALUES ($2, 'vslot', 1, 1, 'done', 'r', $1, $1)`, 's'},
		{"vac_doses", "given_at", `INSERT INTO vac_doses (id, person_num, product_id, dose, lot, site_id, region_code, given_at, recorded_by, source, created_at)
			VALUES ($2, 1, 'vp', CAST(SUBSTR($2, 2) AS BIGINT), 'L', 'vs', '341881', $1, 'op', 'site', $1)`, 's'},
	},
	"arrivals": {
		{"arrivals", "arrived_at", `INSERT INTO arrivals (id, person_num, region_code, origin, port, transport, arrived_at, arrival_day, format,
			credential_kind, credential_id, issuer_country, care_code_id, created_at, created_by)
			VALUES ($2, 1, '341881', 'DEU', 'p', 'air', $1, $2, 'eu_dcc', 'test', $2, 'DE', 'c', $1, 'op')`, 's'},
	},
	"cold_chain": {
		{"cc_handlings", "at", `INSERT INTO cc_handlings (id, batch_id, org_id, person_num, masked_name, at, by_actor)
			VALUES ($2, 'ccb', 'org', 1, '*三', $1, 'k')`, 's'},
		{"cc_exposures", "handled_at", `INSERT INTO cc_exposures (inspection_id, person_num, org_id, masked_name, handled_at)
			VALUES ($2, 1, 'org', '*三', $1)`, 's'},
	},
	"trip_stays": {
		{"trip_stays", "last_seen", `INSERT INTO trip_stays (phone_hash, city_code, first_seen, last_seen, source, recorded_at)
			VALUES ($2, '3418', $1, $1, 'carrier', $1)`, 'b'},
	},
	"isolation": {
		{"iso_stays", "ended_at", `INSERT INTO iso_stays (id, person_num, masked_name, site_id, room_id, region_code, reason, method,
			admitted_at, until_at, admitted_by, ended_at, end_kind, end_note, ended_by)
			VALUES ($2, 1, '*三', 'iso', NULL, '341881', 'inbound', 'code', $1, $1, 'op', $1, 'released', '', 'op')`, 's'},
		{"iso_readings", "at", `INSERT INTO iso_readings (stay_id, day, slot, tenths, at, by_actor) VALUES ($2, 20220401, 'am', 365, $1, 'op')`, 's'},
		{"iso_transfers", "created_at", `INSERT INTO iso_transfers (id, person_num, masked_name, region_code, origin, dest_site_id, vehicle,
			state, created_at) VALUES ($2, 1, '*三', '341881', 'o', 'iso', 'v', 'arrived', $1)`, 's'},
		{"iso_transfer_steps", "at", `INSERT INTO iso_transfer_steps (transfer_id, step, at, by_actor, note) VALUES ($2, 'dispatched', $1, 'op', '')`, 's'},
	},
	"hotline": {
		{"hotline_tickets", "closed_at", `INSERT INTO hotline_tickets (id, category, person_num, masked_name, region_code, summary, state,
			opened_at, deadline_at, opened_by, closed_at, closed_by, resolution) VALUES ($2, 'wrong_color', 1, '*三', '341881', 's', 'closed',
			$1, $1, 'op', $1, 'op', 'r')`, 's'},
	},
	"followup": {
		{"tracing_runs", "created_at", `INSERT INTO tracing_runs (id, region_code, created_by, created_at, params, status, total, done,
			companions, facts, tasks, error) VALUES ($2, '341881', 'op', $1, '{}', 'done', 1, 1, 1, 1, 1, '')`, 's'},
		{"tracing_reports", "first_seq", `INSERT INTO tracing_reports (run_id, first_seq, lines, data) VALUES ($2, $1, 1, 'x')`, 's'},
		{"followup_tasks", "created_at", `INSERT INTO followup_tasks (id, kind, person_num, region_code, run_id, case_num, exposure_at, status,
			note, created_at) VALUES ($1, 'companion', $1, '341881', $2, 1, $1, 'open', '', $1)`, 's'},
	},
}

// setup is what rows of several kinds refer to: a person, a NAT site and
// the tubes of the samples.
func setup(ctx context.Context, d *db.DB, nums []int64) error {
	if _, err := d.ExecContext(ctx, `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, created_at, created_by)
		VALUES (1, 'P1', 'resident', $1, $1, $1, $1, '341881', 0, 'test')`, []byte("p")); err != nil {
		return err
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO nat_sites (id, name, address, phone, hours, lat, lng, region_code, open, created_at, created_by, updated_at)
		VALUES ('site', 'S', '', '', '', 0, 0, '341881', TRUE, 0, 'op', 0)`); err != nil {
		return err
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO orgs (id, num, kind, name, uscc, region_code, address, created_at, created_by)
		VALUES ('org', 1, 'pharmacy', 'O', 'u', '341881', '', 0, 'op')`); err != nil {
		return err
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO drug_classes (code, name_zh, name_en, active, position, updated_at, updated_by)
		VALUES ('fever', '退烧药', 'fever', TRUE, 1, 0, 'op') ON CONFLICT (code) DO NOTHING`); err != nil {
		return err
	}
	for _, q := range []string{
		`INSERT INTO iso_sites (id, kind, name, address, region_code, created_at, created_by) VALUES ('iso', 'hotel', 'H', '', '341881', 0, 'op')`,
		`INSERT INTO vac_sites (id, name, address, phone, hours, lat, lng, region_code, open, created_at, created_by, updated_at)
			VALUES ('vs', 'V', '', '', '', 0, 0, '341881', TRUE, 0, 'op', 0)`,
		`INSERT INTO vac_products (id, name, maker, doses, interval_days, created_at, created_by) VALUES ('vp', 'P', 'M', 2, 21, 0, 'op')`,
		`INSERT INTO bk_slots (id, org_id, day, starts_at, ends_at, capacity, booked, created_at, created_by) VALUES ('bslot', 'org', 1, 0, 1, 10, 0, 0, 'op')`,
		`INSERT INTO vac_slots (id, site_id, product_id, region_code, starts_at, ends_at, capacity, booked, created_at, created_by)
			VALUES ('vslot', 'vs', 'vp', '341881', 0, 1, 10, 0, 0, 'op')`,
		`INSERT INTO employer_staff (id, org_id, staff_no, name, department, join_code, created_at) VALUES ('est', 'org', 'E1', '*三', '', 'JC', 0)`,
		`INSERT INTO school_classes (id, org_id, name, join_code, created_at) VALUES ('scl', 'org', 'C', 'SJC', 0)`,
		`INSERT INTO school_pupils (id, org_id, class_id, person_num, masked_name, enrolled_at, enrolled_by) VALUES ('spu', 'org', 'scl', 1, '*三', 0, 'op')`,
		`INSERT INTO cc_batches (id, code, importer_id, region, product, origin_country, port, declaration, quantity, created_at, created_by)
			VALUES ('ccb', 'ccb', 'org', '341881', 'fish', 'BR', 'p', 'd', 10, 0, 'op')`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	for _, n := range nums {
		if _, err := d.ExecContext(ctx, `INSERT INTO cc_inspections (id, batch_id, org_id, kind, result, certificate, sampled_at, recorded_at,
			recorded_by, facts_recorded) VALUES ($1, 'ccb', 'org', 'goods', 'positive', '', 0, 0, 'k', TRUE)`, fmt.Sprintf("x%d", n)); err != nil {
			return err
		}
	}
	for _, n := range nums {
		if _, err := d.ExecContext(ctx, `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, created_at, created_by)
			VALUES ($1, $2, 'resident', $3, $3, $3, $3, '341881', 0, 'test')`, 1000+n, fmt.Sprintf("P%d", 1000+n), []byte(fmt.Sprintf("p%d", n))); err != nil {
			return err
		}
	}
	for _, n := range nums {
		if _, err := d.ExecContext(ctx, `INSERT INTO nat_tubes (barcode, capacity, site_id, region_code, samples, opened_at, opened_by, result_version)
			VALUES ($1, 10, 'site', '341881', 1, 0, 'op', 1)`, fmt.Sprintf("x%d", n)); err != nil {
			return err
		}
	}
	return nil
}

// TestEveryKindPurgesOldRowsAndKeepsYoungOnes stores, for each kind, a row
// an hour older than its period and one an hour younger, runs the purge, and
// finds only the young ones, with one audit entry per kind counting what
// went and none for a second run that finds nothing.
func TestEveryKindPurgesOldRowsAndKeepsYoungOnes(t *testing.T) {
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		ctx := context.Background()
		d := s.App.DB
		periods := map[string]time.Duration{}
		for _, k := range s.App.Retention.Kinds() {
			periods[k.Name] = k.Period
		}
		for name := range kinds {
			if periods[name] <= 0 {
				t.Fatalf("kind %s is not registered with a period (%v)", name, periods)
			}
		}
		for name := range periods {
			if _, ok := kinds[name]; !ok {
				t.Fatalf("kind %s has no rows in this test", name)
			}
		}
		now := time.Now()
		// Row n of a kind is old when n is odd.
		var nums []int64
		for n := int64(1); n <= 2*int64(len(kinds)); n++ {
			nums = append(nums, n)
		}
		if err := setup(ctx, d, nums); err != nil {
			t.Fatal(err)
		}
		cutoffs := map[string]int64{}
		n := int64(0)
		for name, rows := range kinds {
			cutoff := now.Add(-periods[name]).UnixMilli()
			cutoffs[name] = cutoff
			for _, age := range []int64{-3600_000, 3600_000} {
				n++
				for _, r := range rows {
					if _, err := d.ExecContext(ctx, r.insert, cutoff+age, r.value(n)); err != nil {
						t.Fatalf("%s: insert into %s: %v", name, r.table, err)
					}
				}
			}
		}
		count := func(r row, cutoff int64) (old, young int) {
			t.Helper()
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+r.table+` WHERE `+r.col+` < $1`, cutoff).Scan(&old); err != nil {
				t.Fatal(err)
			}
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+r.table+` WHERE `+r.col+` >= $1`, cutoff).Scan(&young); err != nil {
				t.Fatal(err)
			}
			return old, young
		}
		youngBefore := map[string]int{}
		for name, rows := range kinds {
			for _, r := range rows {
				old, young := count(r, cutoffs[name])
				if old != 1 || young < 1 {
					t.Fatalf("%s: fixture has %d old and %d young rows", r.table, old, young)
				}
				youngBefore[r.table] = young
			}
		}

		results, err := s.App.Retention.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[string]int64{}
		for _, res := range results {
			got[res.Kind] = res.Rows
		}
		for name, rows := range kinds {
			for _, r := range rows {
				old, young := count(r, cutoffs[name])
				if old != 0 || young != youngBefore[r.table] {
					t.Errorf("%s after the purge: %d old rows left (want 0), %d young (want %d)", r.table, old, young, youngBefore[r.table])
				}
				if got[name][r.table] != 1 {
					t.Errorf("%s: the purge says it removed %d rows of %s, want 1", name, got[name][r.table], r.table)
				}
			}
		}

		entries := purges(t, d)
		if len(entries) != len(kinds) {
			t.Fatalf("%d retention.purge audit entries, want one per kind (%d)", len(entries), len(kinds))
		}
		for _, e := range entries {
			name := e.Detail["kind"].(string)
			rows, _ := e.Detail["rows"].(map[string]any)
			for _, r := range kinds[name] {
				if rows[r.table] != float64(1) {
					t.Errorf("audit of %s: %s = %v, want 1", name, r.table, rows[r.table])
				}
			}
			if e.Subject != "retention:"+name || e.Actor != "system" {
				t.Errorf("audit entry %+v", e)
			}
		}
		if _, err := s.App.Retention.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if again := purges(t, d); len(again) != len(entries) {
			t.Errorf("a purge that found nothing was audited: %d entries, want %d", len(again), len(entries))
		}
		if rep, err := audit.Verify(ctx, d); err != nil || !rep.OK {
			t.Fatalf("audit chain after purges: %+v %v", rep, err)
		}
	})
}

func (r row) value(n int64) any {
	switch r.arg {
	case 's':
		return fmt.Sprintf("x%d", n)
	case 'b':
		return []byte(fmt.Sprintf("x%d", n))
	}
	return n
}

type purgeEntry struct {
	Subject, Actor string
	Detail         map[string]any
}

func purges(t *testing.T, d *db.DB) []purgeEntry {
	t.Helper()
	out, err := db.Collect(context.Background(), d, `SELECT subject, actor, detail FROM audit_log WHERE action = 'retention.purge' ORDER BY seq`, nil,
		func(sc db.Scanner) (purgeEntry, error) {
			var e purgeEntry
			var detail string
			if err := sc.Scan(&e.Subject, &e.Actor, &detail); err != nil {
				return e, err
			}
			return e, json.Unmarshal([]byte(detail), &e.Detail)
		})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTheDemoShowsAPurge: the demo holds one fact older than the facts'
// period, which the first purge of `serve --demo` removes and audits.
func TestTheDemoShowsAPurge(t *testing.T) {
	s := servertest.Start(t, db.SQLite, servertest.WithDemo())
	facts := s.Count("facts")
	results, err := s.App.Retention.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Kind == "facts" && r.Rows["facts"] != 1 {
			t.Errorf("the demo's first purge removed %d facts, want 1", r.Rows["facts"])
		}
	}
	if n := s.Count("facts"); n != facts-1 {
		t.Errorf("%d facts after the purge, %d before", n, facts)
	}
	if entries := purges(t, s.App.DB); len(entries) != 1 || entries[0].Subject != "retention:facts" {
		t.Errorf("audit after the demo's purge: %+v", entries)
	}
}

// TestAColourOnAPurgedFactIsDecidedAgain: a fever long ago with no test
// since keeps a person yellow; once the fever is purged, the scheduler
// decides them green.
func TestAColourOnAPurgedFactIsDecidedAgain(t *testing.T) {
	servertest.ForEach(t, func(t *testing.T, s *servertest.Server) {
		ctx := context.Background()
		acct, err := s.App.Auth.EnsureAccount(ctx, "13800000099")
		if err != nil {
			t.Fatal(err)
		}
		check, _ := idnum.ResidentCheckChar("34188119900101123")
		p, err := s.App.Persons.Register(ctx, acct, person.Input{Name: "王芳", IDType: string(idnum.ResidentID),
			IDNumber: "34188119900101123" + string(check), Region: servertest.Region})
		if err != nil {
			t.Fatal(err)
		}
		fever := status.NewFact{Person: p.Num, RecordedBy: "system", Fact: fact.Fact{Kind: fact.Temperature, Source: "test",
			At: time.Now().Add(-200 * 24 * time.Hour), Attrs: map[string]any{"celsius": 38.1, "checkpoint": "cp"}}}
		if _, err := s.App.Status.Record(ctx, fever); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.App.Status.Status(ctx, p.Num); st.Color != rules.Yellow {
			t.Fatalf("after an old fever with no test since: %v, want yellow", st.Color)
		}
		if _, err := s.App.Retention.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.App.Status.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.App.Status.Status(ctx, p.Num); st.Color != rules.Green {
			t.Errorf("after the fever was purged: %v (%s), want green", st.Color, st.RuleID)
		}
		if c, _ := s.App.Status.Color(p.Num); c != rules.Green {
			t.Errorf("the cache says %v after the purge, want green", c)
		}
	})
}
