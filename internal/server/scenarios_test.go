package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// scan scans a resident's fresh code with an organisation's key and
// returns the subject reference.
func (e *env) scan(key, residentToken string) string {
	e.t.Helper()
	return e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": e.myCode(residentToken)}), 200, "").Str("subject")
}

// A fever clinic scans a patient, registers the visit (the patient turns
// yellow by the default rules), and closes its follow-up with a negative
// test (green again); the clinic's list and the authority's summary show
// it. Bad input is a precise 4xx that writes nothing.
func TestFeverClinicThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		fc := e.org(admin, "fever_clinic", "宁国市人民医院发热门诊", "48572011", "341881001")
		ph := e.org(admin, "pharmacy", "国胜大药房", "MA2N7T1D", "341881001")
		_, key := e.orgKey(admin, fc, map[string]any{"name": "HIS", "scopes": []string{"scan", "clinic.fever"}})
		_, phKey := e.orgKey(admin, ph, map[string]any{"name": "收银台", "scopes": []string{"scan"}})
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+ph+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"clinic.fever"}}), 400, "scope_not_for_kind")
		tok, me := e.Resident("13900000401", "周建华", rid("19750302", 401), "341881001")
		subject := e.scan(key, tok)

		before := map[string]int{"clinic_visits": e.Count("clinic_visits"), "facts": e.Count("facts")}
		visit := map[string]any{"subject": subject, "temperature": 38.6, "symptoms": []string{"fever", "dry_cough"},
			"diagnosis": "发热待查", "doctor": "刘医生"}
		bad := func(change map[string]any) map[string]any {
			out := map[string]any{}
			for k, v := range visit {
				out[k] = v
			}
			for k, v := range change {
				out[k] = v
			}
			return out
		}
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, bad(map[string]any{"temperature": 47})), 400, "temperature_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, bad(map[string]any{"symptoms": []string{"hiccups"}})), 400, "symptoms_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, bad(map[string]any{"doctor": ""})), 400, "doctor_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, bad(map[string]any{"subject": "hcs_nonsense"})), 400, "subject_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", phKey, visit), 403, "scope_missing")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, bad(map[string]any{"temperature": "38"})), 400, "")
		for tbl, n := range before {
			if got := e.Count(tbl); got != n {
				t.Fatalf("refused visits wrote to %s: %d rows, %d before", tbl, got, n)
			}
		}

		v := e.Want(e.Do("POST", "/gateway/v1/clinic/visits", key, visit), 201, "")
		if v.Str("state") != "open" || v.Str("color") != "yellow" || v.Str("masked_name") != "周*华" || v.Body["temperature"] != 38.6 {
			t.Fatalf("visit: %s", v.Raw)
		}
		if colorOf(e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")) != "yellow" {
			t.Fatal("the patient is not yellow after the visit")
		}
		e.agree(me)
		id := v.Str("id")

		day := e.Want(e.Do("GET", "/gateway/v1/clinic/visits", key, nil), 200, "")
		if open := day.Body["open"].([]any); len(open) != 1 || open[0].(map[string]any)["id"] != id || day.Body["registered"] != 1.0 || day.Body["fever"] != 1.0 {
			t.Fatalf("the clinic's day: %s", day.Raw)
		}
		if strings.Contains(string(day.Raw), me) || strings.Contains(string(day.Raw), "周建华") {
			t.Fatalf("the clinic's list names the patient: %s", day.Raw)
		}

		// Closing: bad input first.
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits/"+id+"/close", key, map[string]any{"outcome": "cured"}), 400, "outcome_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits/"+id+"/close", key, map[string]any{"outcome": "negative",
			"sampled_at": time.Now().Add(-24 * time.Hour).Format(time.RFC3339)}), 400, "sampled_at_invalid")
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits/nope/close", key, map[string]any{"outcome": "negative"}), 404, "visit_not_found")
		if got := e.Count("facts"); got != before["facts"]+1 {
			t.Fatalf("refused closes wrote facts: %d", got-before["facts"])
		}
		closed := e.Want(e.Do("POST", "/gateway/v1/clinic/visits/"+id+"/close", key, map[string]any{"outcome": "negative", "note": "核酸阴性"}), 200, "")
		if closed.Str("state") != "closed" || closed.Str("outcome") != "negative" || closed.Str("color") != "green" || closed.Str("sampled_at") == "" {
			t.Fatalf("closed: %s", closed.Raw)
		}
		if colorOf(e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")) != "green" {
			t.Fatal("the patient is not green after the negative test")
		}
		e.agree(me)
		e.Want(e.Do("POST", "/gateway/v1/clinic/visits/"+id+"/close", key, map[string]any{"outcome": "discharged"}), 409, "visit_closed")
		day = e.Want(e.Do("GET", "/gateway/v1/clinic/visits", key, nil), 200, "")
		if len(day.Body["open"].([]any)) != 0 || len(day.Body["closed"].([]any)) != 1 {
			t.Fatalf("the clinic's day after closing: %s", day.Raw)
		}

		sum := e.Want(e.Do("GET", "/api/v1/admin/clinic/summary", admin, nil), 200, "")
		towns := sum.Body["towns"].([]any)
		if len(towns) != 1 || towns[0].(map[string]any)["visits"] != 1.0 || towns[0].(map[string]any)["closed_negative"] != 1.0 ||
			towns[0].(map[string]any)["open"] != 0.0 {
			t.Fatalf("summary: %s", sum.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/clinic/summary", key, nil), 403, "forbidden")
		e.Want(e.Do("GET", "/api/v1/admin/orgs/"+fc+"/clinic/visits", admin, nil), 200, "")
		e.Want(e.Do("GET", "/api/v1/admin/orgs/"+fc+"/clinic/visits", e.NewOperator("nanshan", "viewer", "341881002"), nil), 404, "org_not_found")
	})
}

// A hospital receives a scanned patient's identity once per scan, audited
// as a read by its key; its queue refuses red and sends yellow to the
// fever clinic with the reason.
func TestHospitalThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		hosp := e.org(admin, "hospital", "宁国市人民医院", "48572011", "341881001")
		other := e.org(admin, "hospital", "宁国市中医院", "48572029", "341881002")
		keyID, key := e.orgKey(admin, hosp, map[string]any{"name": "HIS", "scopes": []string{"scan", "hospital.identity", "hospital.queue"}})
		otherKeyID, otherKey := e.orgKey(admin, other, map[string]any{"name": "HIS", "scopes": []string{"scan", "hospital.identity", "hospital.queue"}})
		_, scanOnly := e.orgKey(admin, hosp, map[string]any{"name": "自助机", "scopes": []string{"scan"}})
		tok, me := e.Resident("13900000411", "吴秀兰", rid("19660915", 411), "341881001")

		subject := e.scan(key, tok)
		id := e.Want(e.Do("POST", "/gateway/v1/hospital/identity", key, map[string]any{"subject": subject, "purpose": "card"}), 200, "")
		if id.Str("name") != "吴秀兰" || id.Str("id_number") != rid("19660915", 411) || id.Str("id_type") != "resident_id" ||
			id.Str("phone") != "13900000411" {
			t.Fatalf("identity: %s", id.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/hospital/identity", key, map[string]any{"subject": subject, "purpose": "registration"}), 409, "subject_used")
		e.Want(e.Do("POST", "/gateway/v1/hospital/identity", otherKey, map[string]any{"subject": subject, "purpose": "card"}), 403, "subject_foreign")
		e.Want(e.Do("POST", "/gateway/v1/hospital/identity", scanOnly, map[string]any{"subject": subject, "purpose": "card"}), 403, "scope_missing")
		e.Want(e.Do("POST", "/gateway/v1/hospital/identity", key, map[string]any{"subject": e.scan(key, tok), "purpose": "x"}), 400, "purpose_invalid")
		if n := e.Count("hospital_handoffs"); n != 1 {
			t.Fatalf("%d hand-offs", n)
		}
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+me, admin, nil), 200, "")
		var log struct {
			Entries []struct{ Action, Actor string } `json:"entries"`
		}
		json.Unmarshal(audit.Raw, &log)
		var actions []string
		for _, en := range log.Entries {
			if strings.HasPrefix(en.Action, "person.read") {
				actions = append(actions, en.Action+" "+en.Actor)
			}
		}
		want := []string{"person.read_refused apikey:" + otherKeyID, "person.read_refused apikey:" + keyID, "person.read apikey:" + keyID}
		if fmt.Sprint(actions) != fmt.Sprint(want) {
			t.Fatalf("audit, newest first: %v, want %v", actions, want)
		}

		// The queue: green in 内科; yellow (a watched-drug purchase) at the
		// fever clinic; red refused.
		g := e.Want(e.Do("POST", "/gateway/v1/hospital/queue", key, map[string]any{"subject": e.scan(key, tok), "department": "内科"}), 201, "")
		if g.Str("department") != "内科" || g.Body["number"] != 1.0 || g.Body["routed"] != false {
			t.Fatalf("green: %s", g.Raw)
		}
		yTok, yID := e.Resident("13900000412", "郑国强", rid("19580411", 412), "341881001")
		e.Want(e.fact(admin, yID, "clinic.fever", time.Now().Add(-time.Hour), map[string]any{"clinic": "other"}), 201, "")
		ySubject := e.scan(key, yTok)
		y := e.Want(e.Do("POST", "/gateway/v1/hospital/queue", key, map[string]any{"subject": ySubject, "department": "内科"}), 201, "")
		if y.Str("department") != "发热门诊" || y.Str("asked_department") != "内科" || y.Body["routed"] != true || y.Str("color") != "yellow" ||
			fmt.Sprint(y.Body["reasons"]) != "[color_yellow]" || y.Body["number"] != 1.0 {
			t.Fatalf("yellow: %s", y.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/hospital/queue", key, map[string]any{"subject": ySubject, "department": "内科"}), 409, "subject_used")
		rTok, rID := e.Resident("13900000413", "钱红", rid("19800101", 413), "341881001")
		e.Want(e.fact(admin, rID, "case.confirmed", time.Now().Add(-time.Hour), nil), 201, "")
		before := e.Count("hospital_tickets")
		e.Want(e.Do("POST", "/gateway/v1/hospital/queue", key, map[string]any{"subject": e.scan(key, rTok), "department": "内科"}), 409, "queue_refused")
		e.Want(e.Do("POST", "/gateway/v1/hospital/queue", key, map[string]any{"subject": e.scan(key, tok), "department": ""}), 400, "department_invalid")
		if e.Count("hospital_tickets") != before {
			t.Fatal("a refused queue number was stored")
		}
		q := e.Want(e.Do("GET", "/gateway/v1/hospital/queue", key, nil), 200, "")
		if len(q.Body["tickets"].([]any)) != 2 || q.Body["routed"] != 1.0 {
			t.Fatalf("the day's queue: %s", q.Raw)
		}
		if q := e.Want(e.Do("GET", "/gateway/v1/hospital/queue", otherKey, nil), 200, ""); len(q.Body["tickets"].([]any)) != 0 {
			t.Fatalf("another hospital sees %s", q.Raw)
		}
	})
}

// A resident shares a handle with a platform on their own pages (the
// API), the platform checks drivers in a batch and a passenger at order
// time and learns the colour only; another platform learns nothing; a
// withdrawn handle stops; a batch counts its size against the quota.
func TestRideHailingThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		didi := e.org(admin, "ride_hailing", "宁国畅行网约车平台", "MA2N8Q3C", "341881002")
		taxi := e.org(admin, "taxi", "宁国出租汽车公司", "MA2N8Q4E", "341881001")
		_, key := e.orgKey(admin, didi, map[string]any{"name": "派单系统", "scopes": []string{"ride.check"}, "daily_quota": 6})
		_, taxiKey := e.orgKey(admin, taxi, map[string]any{"name": "调度", "scopes": []string{"ride.check"}})
		drivers := make([]string, 3)
		var handles []string
		for i := range drivers {
			tok, _ := e.Resident(fmt.Sprintf("1390000042%d", i), "司机"+strconv.Itoa(i), rid("19850101", 420+i), "341881002")
			drivers[i] = tok
			ps := e.Want(e.Do("GET", "/api/v1/me/platforms", tok, nil), 200, "")
			if n := len(ps.Body["platforms"].([]any)); n != 2 {
				t.Fatalf("%d platforms listed: %s", n, ps.Raw)
			}
			handles = append(handles, e.Want(e.Do("POST", "/api/v1/me/platforms/"+didi+"/handle", tok, nil), 200, "").Str("handle"))
		}
		e.Want(e.Do("POST", "/api/v1/me/platforms/"+didi+"/handle", admin, nil), 403, "")
		e.Want(e.Do("POST", "/api/v1/me/platforms/nope/handle", drivers[0], nil), 404, "platform_not_found")

		batch := e.Want(e.Do("POST", "/gateway/v1/ride/check/batch", key, map[string]any{"handles": []string{handles[0], handles[1], "hch_" + strings.Repeat("z", 20)}}), 200, "")
		res := batch.Body["results"].([]any)
		if batch.Body["checked"] != 3.0 || batch.Body["unknown"] != 1.0 || res[0].(map[string]any)["color"] != "green" ||
			res[2].(map[string]any)["error"] != "handle_unknown" {
			t.Fatalf("batch: %s", batch.Raw)
		}
		for _, r := range res {
			for k := range r.(map[string]any) {
				if k != "handle" && k != "color" && k != "error" {
					t.Fatalf("the batch tells more than the colour: %s", batch.Raw)
				}
			}
		}
		one := e.Want(e.Do("POST", "/gateway/v1/ride/check", key, map[string]any{"handle": handles[2]}), 200, "")
		if one.Str("color") != "green" || len(one.Body) != 2 {
			t.Fatalf("check: %s", one.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/ride/check", taxiKey, map[string]any{"handle": handles[2]}), 404, "handle_unknown")
		e.Want(e.Do("POST", "/gateway/v1/ride/check/batch", key, map[string]any{"handles": []string{"driver-7"}}), 400, "handle_invalid")

		e.Want(e.Do("DELETE", "/api/v1/me/platforms/"+didi+"/handle", drivers[2], nil), 204, "")
		e.Want(e.Do("DELETE", "/api/v1/me/platforms/"+didi+"/handle", drivers[2], nil), 404, "handle_not_granted")
		// The key has used 3 + 1 + 1 (the malformed batch) of its 6 today:
		// a batch of 2 is refused whole, a single check passes.
		req, _ := http.NewRequest("POST", e.URL+"/gateway/v1/ride/check/batch", strings.NewReader(`{"handles":["`+handles[0]+`","`+handles[1]+`"]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("a batch over the quota: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
		e.Want(e.Do("POST", "/gateway/v1/ride/check", key, map[string]any{"handle": handles[2]}), 404, "handle_unknown")
		e.Want(e.Do("POST", "/gateway/v1/ride/check", key, map[string]any{"handle": handles[0]}), 429, "quota_exceeded")
	})
}

// BenchmarkRideBatch10kHTTP is a platform's shift start through the whole
// HTTP path: one POST /gateway/v1/ride/check/batch of 10,000 drivers'
// handles (authentication, the quota counted, the body read, the handles
// looked up, every colour from the status cache, the answer written); ns/op
// is per batch, on each engine. The persons and handles go straight into
// the tables.
func BenchmarkRideBatch10kHTTP(b *testing.B) {
	const drivers = 10_000
	for _, engine := range dbtest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			dir := b.TempDir()
			cfg := server.Config{DataDir: dir, AdminPassword: servertest.AdminPassword, Region: "341881",
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if engine == db.Postgres {
				cfg.DB = dbtest.PostgresURL(b)
			} else {
				cfg.DB = "sqlite:" + filepath.Join(dir, "hc.db")
			}
			srv, err := server.New(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			if _, err := srv.EnsureAdmin(context.Background()); err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(srv.Handler())
			defer hs.Close()
			// Its own server, not servertest's: the contract check would be timed too.
			e := &env{Server: &servertest.Server{Client: servertest.NewClient(b, hs.URL), App: srv}, t: b}
			admin := e.Admin()
			platform := e.org(admin, "ride_hailing", "基准网约车平台", "MA2N8Q3C", "341881002")
			_, key := e.orgKey(admin, platform, map[string]any{"name": "派单", "scopes": []string{"ride.check"}, "daily_quota": 100_000_000})
			handles := seedDrivers(b, srv, platform, drivers)
			body, _ := json.Marshal(map[string]any{"handles": handles})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest("POST", hs.URL+"/gateway/v1/ride/check/batch", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var out struct{ Checked, Unknown int }
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || out.Checked != drivers || out.Unknown != 0 {
					b.Fatalf("batch: %d %+v %v", res.StatusCode, out, err)
				}
			}
			b.ReportMetric(float64(b.N*drivers)/b.Elapsed().Seconds(), "drivers/s")
		})
	}
}

// seedDrivers inserts n persons, each with a handle in use with the
// platform, in big statements, and returns the handles in no order the
// index knows.
func seedDrivers(b *testing.B, srv *server.Server, platform string, n int) []string {
	b.Helper()
	ctx := context.Background()
	var handles []string
	err := srv.DB.InTx(ctx, func(tx db.Tx) error {
		last, err := db.NextVal(ctx, tx, "persons", int64(n))
		if err != nil {
			return err
		}
		persons := db.Insert{Head: `INSERT INTO persons (num, id, id_type, id_hash, id_enc, name_hash, name_enc, region_code, birth_year,
			created_at, created_by) VALUES `, Cols: 11}
		hs := db.Insert{Head: `INSERT INTO ride_handles (handle, org_id, person_num, granted_at, granted_by) VALUES `, Cols: 5}
		var pargs, hargs []any
		digits := strings.NewReplacer("0", "a", "1", "b", "8", "c", "9", "d")
		for num := last - int64(n) + 1; num <= last; num++ {
			pargs = append(pargs, num, fmt.Sprintf("p%019d", num), "passport", []byte(fmt.Sprint(num)), []byte{1}, []byte{1}, []byte{1},
				"341881002", 1980, 0, "bench")
			h := "hch_" + digits.Replace(fmt.Sprintf("%020d", num))
			hargs = append(hargs, h, platform, num, 0, "bench")
			handles = append(handles, h)
		}
		if _, err := persons.Exec(ctx, tx, srv.DB.Engine(), pargs); err != nil {
			return err
		}
		_, err = hs.Exec(ctx, tx, srv.DB.Engine(), hargs)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range handles {
		j := (i*7919 + 13) % len(handles)
		handles[i], handles[j] = handles[j], handles[i]
	}
	return handles
}
