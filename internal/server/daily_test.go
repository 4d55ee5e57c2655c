package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// An employer imports its roster (bad lines reported, good lines kept),
// links staff by a scan with the staff number and by consent with a join
// code, admits green at the gate and refuses yellow and red with the
// reason; its day counts present, refused by reason and absent, and its
// records hold colours only. Expired and forged codes are 422s that record
// nothing.
func TestEmployerThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		emp := e.org(admin, "employer", "宁国市中溪机械有限公司", "MA2N9T2A", "341881001")
		ph := e.org(admin, "pharmacy", "国胜大药房", "MA2N7T1D", "341881001")
		_, key := e.orgKey(admin, emp, map[string]any{"name": "门禁", "scopes": []string{"scan", "employer.staff"}})
		_, phKey := e.orgKey(admin, ph, map[string]any{"name": "收银台", "scopes": []string{"scan"}})
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+ph+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"employer.staff"}}), 400, "scope_not_for_kind")

		imp := e.Want(e.Do("POST", "/gateway/v1/employer/staff/import", key, map[string]any{"csv": "工号,姓名,部门\n" +
			"E001,周建国,总装车间\nE002,吴丽华,质检部\nE003,郑强,总装车间\nE004,钱多多\n" +
			"E001,重复者,总装车间\n,无工号,x\nE009,X\nE010,\"未闭合,x\n"}), 200, "")
		if imp.Body["imported"] != 4.0 || imp.Body["refused"] != 4.0 {
			t.Fatalf("import: %s", imp.Raw)
		}
		var codes []string
		for _, l := range imp.Body["lines"].([]any) {
			if m := l.(map[string]any); m["ok"] != true {
				codes = append(codes, fmt.Sprint(m["line"], ":", m["code"]))
			}
		}
		if got := strings.Join(codes, " "); got != "6:staff_no_repeated 7:staff_no_invalid 8:staff_name_invalid 9:line_unreadable" {
			t.Fatalf("refused lines: %s", got)
		}
		// A second import of the same numbers keeps the roster as it is.
		again := e.Want(e.Do("POST", "/gateway/v1/employer/staff/import", key, map[string]any{"csv": "E001,周建国,总装车间\nE005,孙红,办公室"}), 200, "")
		if again.Body["imported"] != 1.0 || again.Body["lines"].([]any)[0].(map[string]any)["code"] != "staff_exists" {
			t.Fatalf("second import: %s", again.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/employer/staff/import", key, map[string]any{"csv": "\n\n"}), 400, "roster_empty")
		e.Want(e.Do("POST", "/gateway/v1/employer/staff/import", phKey, map[string]any{"csv": "E1,张三"}), 403, "scope_missing")
		roster := e.Want(e.Do("GET", "/gateway/v1/employer/staff", key, nil), 200, "")
		staff := roster.Body["staff"].([]any)
		if len(staff) != 5 || staff[0].(map[string]any)["masked_name"] != "周*国" || strings.Contains(string(roster.Raw), "周建国") {
			t.Fatalf("roster: %s", roster.Raw)
		}
		joinCode := staff[1].(map[string]any)["join_code"].(string) // E002

		green, _ := e.Resident("13900001901", "周建国", rid("19800101", 901), "341881001")
		yellow, yID := e.Resident("13900001902", "吴丽华", rid("19820202", 902), "341881001")
		red, rID := e.Resident("13900001903", "郑强", rid("19830303", 903), "341881001")
		stranger, _ := e.Resident("13900001904", "王路人", rid("19840404", 904), "341881001")

		before := map[string]int{"employer_gate": e.Count("employer_gate")}
		// Not on the roster, a staff number nobody has, an expired and a forged code: nothing recorded.
		e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(stranger)}), 404, "staff_not_found")
		e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(stranger), "staff_no": "E404"}), 404, "staff_no_unknown")
		code := e.myCode(green)
		forged := code[:len(code)-6] + strings.Map(func(r rune) rune {
			if r == 'A' {
				return 'B'
			}
			return 'A'
		}, code[len(code)-6:])
		st, _ := e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": forged}).Status, 0
		if st != 422 {
			t.Fatalf("a forged code answered %d", st)
		}
		e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{}), 400, "scan_input")
		if got := e.Count("employer_gate"); got != before["employer_gate"] {
			t.Fatalf("refused scans wrote %d gate events", got)
		}

		// Linked by the scan with the staff number, admitted.
		g := e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": code, "staff_no": "E001"}), 200, "")
		if g.Body["admitted"] != true || g.Body["linked_now"] != true || g.Str("reason") != "" || g.Body["staff"].(map[string]any)["linked_how"] != "scan" {
			t.Fatalf("green at the gate: %s", g.Raw)
		}
		// The same line cannot take another person.
		e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(stranger), "staff_no": "E001"}), 409, "staff_linked")

		// Linked by consent with the join code, then yellow: refused with the reason.
		e.Want(e.Do("POST", "/api/v1/me/employers", yellow, map[string]any{"join_code": joinCode}), 400, "consent_required")
		e.Want(e.Do("POST", "/api/v1/me/employers", yellow, map[string]any{"join_code": "NOSUCHCODE", "consent": true}), 404, "join_code_unknown")
		m := e.Want(e.Do("POST", "/api/v1/me/employers", yellow, map[string]any{"join_code": strings.ToLower(joinCode), "consent": true}), 201, "")
		// Guessing other lines' codes stops after ten wrong ones.
		for i := range 9 {
			e.Want(e.Do("POST", "/api/v1/me/employers", yellow, map[string]any{"join_code": fmt.Sprintf("GUESS%03d", i), "consent": true}), 404, "join_code_unknown")
		}
		e.Want(e.Do("POST", "/api/v1/me/employers", yellow, map[string]any{"join_code": "GUESS999", "consent": true}), 429, "join_attempts_limited")
		if m.Str("staff_no") != "E002" || m.Str("linked_how") != "consent" {
			t.Fatalf("join: %s", m.Raw)
		}
		mine := e.Want(e.Do("GET", "/api/v1/me/employers", yellow, nil), 200, "")
		if len(mine.Body["employers"].([]any)) != 1 {
			t.Fatalf("my employers: %s", mine.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(green)}), 200, "")
		e.Want(e.fact(admin, yID, "clinic.fever", time.Now().Add(-time.Hour), map[string]any{"clinic": "other"}), 201, "")
		y := e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(yellow)}), 200, "")
		if y.Body["admitted"] != false || y.Str("reason") != "color_yellow" || y.Str("color") != "yellow" {
			t.Fatalf("yellow at the gate: %s", y.Raw)
		}
		e.Want(e.fact(admin, rID, "contact.close", time.Now().Add(-time.Hour), map[string]any{"case_person": "p-1"}), 201, "")
		r := e.Want(e.Do("POST", "/gateway/v1/employer/gate", key, map[string]any{"code": e.myCode(red), "staff_no": "E003"}), 200, "")
		if r.Body["admitted"] != false || r.Str("reason") != "color_red" {
			t.Fatalf("red at the gate: %s", r.Raw)
		}

		day := e.Want(e.Do("GET", "/gateway/v1/employer/attendance", key, nil), 200, "")
		if len(day.Body["present"].([]any)) != 1 || len(day.Body["refused"].([]any)) != 2 || len(day.Body["absent"].([]any)) != 2 ||
			fmt.Sprint(day.Body["refused_by_reason"]) != "map[color_red:1 color_yellow:1]" || day.Body["staff"] != 5.0 {
			t.Fatalf("the day: %s", day.Raw)
		}
		e.Want(e.Do("GET", "/gateway/v1/employer/attendance?date=yesterday", key, nil), 400, "date_invalid")
		recs := e.Want(e.Do("GET", "/gateway/v1/employer/records?days=7", key, nil), 200, "")
		if len(recs.Body["days"].([]any)) != 7 || strings.Contains(string(recs.Raw), "clinic") || strings.Contains(string(recs.Raw), "contact") {
			t.Fatalf("records: %s", recs.Raw)
		}
		var todays []string
		for _, x := range recs.Body["records"].([]any) {
			cs := x.(map[string]any)["colors"].([]any)
			todays = append(todays, fmt.Sprint(cs[len(cs)-1]))
		}
		if got := strings.Join(todays, ","); got != "green,yellow,red,," {
			t.Fatalf("today's colours by staff number: %s", got)
		}
		e.Want(e.Do("GET", "/gateway/v1/employer/records?days=90", key, nil), 400, "days_invalid")
	})
}

// A school: classes, pupils enrolled by a parent's join code (a dependent
// only) or by the school's scan of a printed care code, checks reported by
// parents and taken at the gate and in class, the morning report per class
// with the absentees; a pupil of another class and a stranger at the gate
// are precise 4xx that write nothing.
func TestSchoolThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		sch := e.org(admin, "school", "宁国市津河小学", "MA2N9T1B", "341881001")
		_, key := e.orgKey(admin, sch, map[string]any{"name": "校门", "scopes": []string{"scan", "school.check"}})
		c1 := e.Want(e.Do("POST", "/gateway/v1/school/classes", key, map[string]any{"name": "一年级（1）班"}), 201, "")
		c2 := e.Want(e.Do("POST", "/gateway/v1/school/classes", key, map[string]any{"name": "一年级（2）班"}), 201, "")
		e.Want(e.Do("POST", "/gateway/v1/school/classes", key, map[string]any{"name": "一年级（1）班"}), 409, "class_exists")
		e.Want(e.Do("POST", "/gateway/v1/school/classes", key, map[string]any{"name": " "}), 400, "class_name_invalid")

		parent, _ := e.Resident("13900001911", "张父亲", rid("19850101", 911), "341881001")
		kid := func(name, birth string, seq int) string {
			return e.Want(e.Do("POST", "/api/v1/me/dependents", parent, map[string]any{"name": name, "id_type": "resident_id",
				"id_number": rid(birth, seq), "relation": "child"}), 201, "").Str("id")
		}
		a, b, c := kid("张小一", "20170101", 912), kid("张小二", "20170202", 913), kid("张小三", "20170303", 914)
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", parent, map[string]any{"class_code": c1.Str("join_code")}), 403, "parent_only")
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", parent, map[string]any{"class_code": "NOPE", "person_id": a}), 404, "class_code_unknown")
		en := e.Want(e.Do("POST", "/api/v1/me/school/enrol", parent, map[string]any{"class_code": c1.Str("join_code"), "person_id": a}), 201, "")
		if en.Str("class") != "一年级（1）班" || en.Str("masked_name") != "张*一" {
			t.Fatalf("enrol: %s", en.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", parent, map[string]any{"class_code": c2.Str("join_code"), "person_id": a}), 409, "pupil_enrolled")
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", parent, map[string]any{"class_code": c1.Str("join_code"), "person_id": b}), 201, "")
		// Another account guessing join codes is stopped after ten wrong
		// ones, and then even the right code waits: guessing cannot go on.
		guesser, _ := e.Resident("13900001915", "李猜测", rid("19860101", 915), "341881001")
		gkid := e.Want(e.Do("POST", "/api/v1/me/dependents", guesser, map[string]any{"name": "李小猜", "id_type": "resident_id",
			"id_number": rid("20170404", 916), "relation": "child"}), 201, "").Str("id")
		for i := range 10 {
			e.Want(e.Do("POST", "/api/v1/me/school/enrol", guesser, map[string]any{"class_code": fmt.Sprintf("GUESS%03d", i), "person_id": gkid}), 404, "class_code_unknown")
		}
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", guesser, map[string]any{"class_code": "GUESS999", "person_id": gkid}), 429, "join_attempts_limited")
		e.Want(e.Do("POST", "/api/v1/me/school/enrol", guesser, map[string]any{"class_code": c2.Str("join_code"), "person_id": gkid}), 429, "join_attempts_limited")
		// The third child is enrolled by the school, scanning a printed care code.
		care := e.Want(e.Do("POST", "/api/v1/me/dependents/"+c+"/care-code", parent, nil), 201, "").Str("code")
		p3 := e.Want(e.Do("POST", "/gateway/v1/school/classes/"+c2.Str("id")+"/pupils", key, map[string]any{"code": care}), 201, "")

		// A parent reports the morning check; bad input writes nothing.
		before := e.Count("school_checks")
		e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"person_id": a, "slot": "evening", "temperature": 36.5}), 400, "")
		e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"person_id": a, "slot": "morning", "temperature": 47}), 400, "temperature_invalid")
		e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"person_id": a, "slot": "morning", "temperature": 36.5,
			"symptoms": []string{"hiccups"}}), 400, "symptoms_invalid")
		e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"slot": "morning", "temperature": 36.5}), 403, "parent_only")
		// A pupil of the other class, checked in class 1.
		e.Want(e.Do("POST", "/gateway/v1/school/classes/"+c1.Str("id")+"/checks", key, map[string]any{"pupil_id": p3.Str("id"), "slot": "morning",
			"temperature": 36.6}), 404, "pupil_not_in_class")
		e.Want(e.Do("POST", "/gateway/v1/school/classes/nope/checks", key, map[string]any{"pupil_id": p3.Str("id"), "slot": "morning",
			"temperature": 36.6}), 404, "class_not_found")
		if got := e.Count("school_checks"); got != before {
			t.Fatalf("refused checks wrote %d rows", got-before)
		}
		e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"person_id": a, "slot": "morning", "temperature": 37.8,
			"symptoms": []string{"dry_cough"}}), 201, "")
		ch := e.Want(e.Do("POST", "/api/v1/me/school/checks", parent, map[string]any{"person_id": a, "slot": "morning", "temperature": 36.5}), 201, "")
		if ch.Str("source") != "parent" || ch.Body["temperature"] != 36.5 {
			t.Fatalf("check: %s", ch.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/school/classes/"+c2.Str("id")+"/checks", key, map[string]any{"pupil_id": p3.Str("id"), "slot": "morning",
			"temperature": 37.6}), 201, "")

		// The gate: the second child by their dynamic code, measured there; a stranger is a 404 that records nothing.
		bCode := e.Want(e.Do("GET", "/api/v1/me/dependents/"+b+"/code", parent, nil), 200, "").Str("code")
		entries := e.Count("school_entries")
		e.Want(e.Do("POST", "/gateway/v1/school/gate", key, map[string]any{"code": e.myCode(parent)}), 404, "pupil_not_found")
		e.Want(e.Do("POST", "/gateway/v1/school/gate", key, map[string]any{"code": "HC1:garbage"}), 422, "")
		if e.Count("school_entries") != entries {
			t.Fatal("refused entries were recorded")
		}
		gate := e.Want(e.Do("POST", "/gateway/v1/school/gate", key, map[string]any{"code": bCode, "slot": "morning", "temperature": 36.4}), 200, "")
		if gate.Body["admitted"] != true || gate.Str("kind") != "dynamic" || gate.Str("class") != "一年级（1）班" {
			t.Fatalf("gate: %s", gate.Raw)
		}
		hot := e.Want(e.Do("POST", "/gateway/v1/school/gate", key, map[string]any{"code": care, "slot": "morning", "temperature": 38.1}), 200, "")
		if hot.Body["admitted"] != false || hot.Str("kind") != "care" || fmt.Sprint(hot.Body["reasons"]) != "[fever]" {
			t.Fatalf("a fever at the gate: %s", hot.Raw)
		}

		rep := e.Want(e.Do("GET", "/gateway/v1/school/report?slot=morning", key, nil), 200, "")
		if rep.Body["pupils"] != 3.0 || rep.Body["reported"] != 3.0 || rep.Body["fever"] != 1.0 || rep.Body["absent"] != 0.0 ||
			rep.Body["admitted"] != 1.0 || rep.Body["refused"] != 1.0 {
			t.Fatalf("morning report: %s", rep.Raw)
		}
		noon := e.Want(e.Do("GET", "/gateway/v1/school/report?slot=noon", key, nil), 200, "")
		cls := noon.Body["classes"].([]any)
		if noon.Body["absent"] != 3.0 || len(cls) != 2 || len(cls[0].(map[string]any)["absent"].([]any)) != 2 {
			t.Fatalf("noon report: %s", noon.Raw)
		}
		e.Want(e.Do("GET", "/gateway/v1/school/report?slot=night", key, nil), 400, "check_slot_invalid")
		kids := e.Want(e.Do("GET", "/api/v1/me/school", parent, nil), 200, "")
		if len(kids.Body["children"].([]any)) != 3 {
			t.Fatalf("my children: %s", kids.Raw)
		}
	})
}
