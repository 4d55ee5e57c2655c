package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The closed loop's isolation, transfer and hotline through the API with
// the default rules: a returning traveller is admitted to an isolation
// hotel by scanning their code (red), has a temperature taken, and is
// released (green again); a positive is dispatched, picked up and arrives
// at the designated hospital, in that order only, and the authority reads
// the trail; a 12345 caller's wrong name is corrected through a ticket by
// an authorised operator (audited, masked) and the ticket is closed once.
// Bad input is a precise 4xx that writes nothing.
func TestClosedLoopIsolationTransferHotline(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		officer := e.NewOperator("geli", "health_officer", "341881001")
		viewer := e.NewOperator("chakan", "viewer", "341881")
		elsewhere := e.NewOperator("nanshan", "health_officer", "341881002")

		hotel := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites", officer, map[string]any{"kind": "hotel", "name": "宁国宾馆隔离点",
			"address": "宁国市西津街道", "region": "341881001"}), 201, "").Str("id")
		single := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites/"+hotel+"/rooms", officer, map[string]any{"number": "201", "capacity": 1}), 201, "").Str("id")
		double := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites/"+hotel+"/rooms", officer, map[string]any{"number": "202", "capacity": 2}), 201, "").Str("id")
		hospital := e.Want(e.Do("POST", "/api/v1/admin/isolation/sites", admin, map[string]any{"kind": "hospital", "name": "宁国市人民医院（定点）",
			"region": "341881001"}), 201, "").Str("id")

		tok1, p1 := e.Resident("13900002201", "周旅客", rid("19860101", 221), "341881001")
		tok2, p2 := e.Resident("13900002202", "吴阳性", rid("19870202", 222), "341881001")
		_, p3 := e.Resident("13900002203", "郑小明", rid("19880303", 223), "341881001")
		if c := e.colourOf(tok1); c != "green" {
			t.Fatalf("a new resident is %s", c)
		}

		tables := []string{"iso_stays", "iso_rooms", "iso_readings", "iso_transfers", "iso_transfer_steps", "hotline_tickets", "facts"}
		unchanged := func(what string, do func()) {
			t.Helper()
			before := map[string]int{}
			for _, tbl := range tables {
				before[tbl] = e.Count(tbl)
			}
			do()
			for _, tbl := range tables {
				if got := e.Count(tbl); got != before[tbl] {
					t.Fatalf("%s wrote to %s: %d rows, %d before", what, tbl, got, before[tbl])
				}
			}
		}

		// Isolation: the admission by scanning the code, at 08:00 in the region two
		// days ago (entered late), so that readings an hour and ninety minutes
		// later fall in the same morning whatever the time the test runs.
		beijing := time.FixedZone("CST", 8*3600)
		d := time.Now().In(beijing).AddDate(0, 0, -2)
		admitted := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, beijing).UTC()
		unchanged("refused admissions", func() {
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "code": e.myCode(tok1),
				"reason": "inbound", "days": 14}), 400, "isolation_room_required")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", viewer, map[string]any{"site_id": hotel, "room_id": single,
				"code": e.myCode(tok1), "reason": "inbound", "days": 14}), 403, "forbidden")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", elsewhere, map[string]any{"site_id": hotel, "room_id": single,
				"code": e.myCode(tok1), "reason": "inbound", "days": 14}), 404, "isolation_site_not_found")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
				"code": e.myCode(tok1), "reason": "bored", "days": 14}), 400, "isolation_reason_invalid")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
				"code": "not a code", "reason": "inbound", "days": 14}), 422, "code_invalid")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
				"code": e.myCode(tok1), "person_id": p1, "reason": "inbound", "days": 14}), 400, "isolation_identity_required")
		})
		stay := e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
			"code": e.myCode(tok1), "reason": "inbound", "days": 14, "at": admitted}), 201, "")
		stayID := stay.Str("id")
		if stay.Str("method") != "code" || stay.Str("person_id") != p1 || stay.Str("masked_name") != "周*客" || stay.Str("room") != "201" {
			t.Fatalf("stay: %s", stay.Raw)
		}
		if c := e.colourOf(tok1); c != "red" {
			t.Fatalf("an admitted traveller is %s, want red", c)
		}
		unchanged("refused second admissions", func() {
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": double,
				"person_id": p1, "reason": "inbound", "days": 14}), 409, "isolation_already_admitted")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
				"id_number": rid("19870202", 222), "reason": "close_contact", "days": 14}), 409, "isolation_room_full")
		})

		// Readings: the half-days since the admission are missing until taken.
		missing := func() int {
			n := 0
			for _, m := range e.Want(e.Do("GET", "/api/v1/admin/isolation/readings/missing", officer, nil), 200, "").Body["missing"].([]any) {
				if m.(map[string]any)["stay_id"] == stayID {
					n++
				}
			}
			return n
		}
		before := missing()
		if before < 3 {
			t.Fatalf("%d half-days without a reading in 48 hours, want at least 3", before)
		}
		first := e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/readings", officer, map[string]any{"celsius": 36.6,
			"at": admitted.Add(time.Hour)}), 201, "")
		if got := missing(); got != before-1 {
			t.Fatalf("after a reading %d half-days are missing, want %d", got, before-1)
		}
		unchanged("refused readings", func() {
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/readings", officer, map[string]any{"celsius": 36.8,
				"at": admitted.Add(90 * time.Minute)}), 409, "isolation_reading_exists")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/readings", officer, map[string]any{"celsius": 36.8,
				"at": admitted.Add(-time.Hour)}), 409, "isolation_before_admission")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/readings", officer, map[string]any{"celsius": 48}), 400, "isolation_temperature_invalid")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/discharge", officer, map[string]any{"kind": "to_home",
				"at": admitted.Add(-time.Hour)}), 409, "isolation_before_admission")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/nosuchstay/release", officer, map[string]any{"kind": "isolation_ended"}), 404, "isolation_stay_not_found")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/release", officer, map[string]any{"kind": "bored"}), 400, "isolation_release_invalid")
		})
		got := e.Want(e.Do("GET", "/api/v1/admin/isolation/stays/"+stayID, viewer, nil), 200, "")
		if rs := got.Body["readings"].([]any); len(rs) != 1 || rs[0].(map[string]any)["celsius"] != first.Body["celsius"] {
			t.Fatalf("readings of the stay: %s", got.Raw)
		}

		// Release: case.released, green again; the room is free.
		rel := e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/release", officer, map[string]any{"kind": "isolation_ended",
			"note": "14天期满"}), 200, "")
		if rel.Str("end_kind") != "released" || rel.Body["ended_at"] == nil {
			t.Fatalf("released stay: %s", rel.Raw)
		}
		if c := e.colourOf(tok1); c != "green" {
			t.Fatalf("a released traveller is %s, want green", c)
		}
		unchanged("a second release and a discharge after it", func() {
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/release", officer, map[string]any{"kind": "isolation_ended"}), 409, "isolation_not_admitted")
			e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+stayID+"/discharge", officer, map[string]any{"kind": "to_hospital"}), 409, "isolation_not_admitted")
		})
		site := e.Want(e.Do("GET", "/api/v1/admin/isolation/sites/"+hotel, officer, nil), 200, "")
		if site.Body["occupied"] != float64(0) || site.Body["capacity"] != float64(3) {
			t.Fatalf("site after the release: %s", site.Raw)
		}

		// The desk admits by identity number: audited with the method.
		byID := e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": double,
			"id_number": rid("19880303", 223), "reason": "close_contact", "days": 7}), 201, "")
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+p3, admin, nil), 200, "")
		if !strings.Contains(string(audit.Raw), `"isolation.admit"`) || !strings.Contains(string(audit.Raw), `"id_number"`) {
			t.Fatalf("the admission by identity number is not audited: %s", audit.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/isolation/stays/"+byID.Str("id")+"/discharge", officer, map[string]any{"kind": "to_home"}), 200, "")

		// Transfer of a positive: dispatched, picked up, arrived, in order.
		tr := e.Want(e.Do("POST", "/api/v1/admin/transfers", officer, map[string]any{"code": e.myCode(tok2), "origin": "西津街道某小区3栋",
			"dest_site_id": hospital, "vehicle": "皖P·120A1"}), 201, "")
		trID := tr.Str("id")
		unchanged("steps out of order", func() {
			e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/arrival", officer, map[string]any{}), 409, "positive_transfer_step_order")
			e.Want(e.Do("POST", "/api/v1/admin/transfers", officer, map[string]any{"person_id": p2, "origin": "x", "dest_site_id": hospital,
				"vehicle": "y"}), 409, "positive_transfer_open")
			e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/pickup", officer, map[string]any{"at": time.Now().Add(-time.Hour)}), 409, "positive_transfer_step_order")
			e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/pickup", elsewhere, map[string]any{}), 404, "positive_transfer_not_found")
		})
		e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/pickup", officer, map[string]any{"note": "已上车"}), 200, "")
		unchanged("a second pick-up", func() {
			e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/pickup", officer, map[string]any{}), 409, "positive_transfer_step_order")
		})
		e.Want(e.Do("POST", "/api/v1/admin/transfers/"+trID+"/arrival", officer, map[string]any{"note": "已移交发热门诊"}), 200, "")
		trail := e.Want(e.Do("GET", "/api/v1/admin/transfers/"+trID, viewer, nil), 200, "")
		var steps []string
		var last time.Time
		for _, s := range trail.Body["trail"].([]any) {
			s := s.(map[string]any)
			at, err := time.Parse(time.RFC3339Nano, s["at"].(string))
			if err != nil || at.Before(last) {
				t.Fatalf("trail out of order: %s", trail.Raw)
			}
			last = at
			steps = append(steps, s["step"].(string))
		}
		if strings.Join(steps, ",") != "dispatched,picked_up,arrived" || trail.Str("state") != "arrived" || trail.Str("masked_name") != "吴*性" {
			t.Fatalf("trail: %s", trail.Raw)
		}
		list := e.Want(e.Do("GET", "/api/v1/admin/transfers?state=arrived", viewer, nil), 200, "").Body["transfers"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != trID {
			t.Fatalf("arrived transfers: %v", list)
		}
		e.Want(e.Do("GET", "/api/v1/admin/transfers?state=lost", viewer, nil), 400, "positive_transfer_state_invalid")

		// Hotline: a wrong name is corrected through a ticket.
		unchanged("refused tickets", func() {
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_identity", "summary": ""}), 400, "ticket_summary_invalid")
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_identity", "summary": "姓名有误"}), 400, "ticket_person_required")
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", viewer, map[string]any{"category": "wrong_identity", "summary": "姓名有误",
				"person_id": p3}), 403, "forbidden")
		})
		ticket := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_identity",
			"summary": "来电人称健康码上的姓名错了一个字", "id_number": rid("19880303", 223)}), 201, "")
		tid := ticket.Str("id")
		if ticket.Str("person_id") != p3 || ticket.Str("region") != "341881001" || ticket.Str("state") != "open" {
			t.Fatalf("ticket: %s", ticket.Raw)
		}
		open := e.Want(e.Do("GET", "/api/v1/admin/hotline/tickets", officer, nil), 200, "").Body["tickets"].([]any)
		if len(open) != 1 || open[0].(map[string]any)["id"] != tid {
			t.Fatalf("open tickets: %v", open)
		}
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/hotline/tickets", elsewhere, nil), 200, "").Body["tickets"].([]any)); n != 0 {
			t.Fatalf("another town sees %d tickets", n)
		}
		e.App.Hotline.SetClock(func() time.Time { return time.Now().Add(4 * 24 * time.Hour) })
		overdue := e.Want(e.Do("GET", "/api/v1/admin/hotline/tickets?state=overdue", officer, nil), 200, "").Body["tickets"].([]any)
		e.App.Hotline.SetClock(time.Now)
		if len(overdue) != 1 {
			t.Fatalf("overdue after 4 days: %v", overdue)
		}
		unchanged("refused corrections", func() {
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/correction", officer, map[string]any{"name": "郑晓明"}), 403, "forbidden")
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/correction", admin, map[string]any{"id_number": rid("19860101", 221)}), 409, "person_exists")
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/correction", admin, map[string]any{"name": "郑小明"}), 400, "correction_empty")
		})
		corrected := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/correction", admin, map[string]any{"name": "郑晓明"}), 200, "")
		c := corrected.Body["correction"].(map[string]any)
		if c["before"].(map[string]any)["name"] != "郑*明" || c["after"].(map[string]any)["name"] != "郑*明" || corrected.Str("masked_name") != "郑*明" {
			t.Fatalf("correction: %s", corrected.Raw)
		}
		if p := e.Want(e.Do("GET", "/api/v1/admin/persons/"+p3, admin, nil), 200, ""); !strings.Contains(string(p.Raw), "郑晓明") {
			t.Fatalf("the record after the correction: %s", p.Raw)
		}
		audit = e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+p3, admin, nil), 200, "")
		var entries struct {
			Entries []struct {
				Action string         `json:"action"`
				Detail map[string]any `json:"detail"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(audit.Raw, &entries); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries.Entries {
			if en.Action == "person.correct" {
				found = true
				if en.Detail["before"].(map[string]any)["name"] != "郑*明" || en.Detail["after"].(map[string]any)["name"] != "郑*明" {
					t.Fatalf("the correction's audit: %v", en.Detail)
				}
			}
		}
		if !found || strings.Contains(string(audit.Raw), "郑晓明") || strings.Contains(string(audit.Raw), "郑小明") {
			t.Fatalf("the correction is not audited masked: %s", audit.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/close", officer, map[string]any{"resolution": "已更正姓名"}), 200, "")
		unchanged("a second close and a correction of a closed ticket", func() {
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/close", officer, map[string]any{"resolution": "again"}), 409, "ticket_closed")
			e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+tid+"/correction", admin, map[string]any{"name": "郑大明"}), 409, "ticket_closed")
		})

		// A wrong colour: the ticket is linked to the person's appeal.
		e.Want(e.Do("POST", "/api/v1/admin/isolation/stays", officer, map[string]any{"site_id": hotel, "room_id": single,
			"person_id": p2, "reason": "case", "days": 14}), 201, "")
		appeal := e.Want(e.Do("POST", "/api/v1/me/appeals", tok2, map[string]any{"reason": "我已康复出院"}), 201, "").Body["appeal"].(map[string]any)["id"]
		colour := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets", officer, map[string]any{"category": "wrong_color",
			"summary": "来电称已出院但仍为红码", "person_id": p2}), 201, "").Str("id")
		e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+colour+"/appeal", officer, map[string]any{"appeal_id": "nosuchappeal"}), 404, "ticket_appeal_not_found")
		linked := e.Want(e.Do("POST", "/api/v1/admin/hotline/tickets/"+colour+"/appeal", officer, map[string]any{}), 200, "")
		if linked.Body["appeal_id"] != appeal {
			t.Fatalf("linked appeal %v, want %v", linked.Body["appeal_id"], appeal)
		}
	})
}
