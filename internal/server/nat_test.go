package server_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/nat/nattest"
	"github.com/healthcode/healthcode/internal/rules"
)

// The nat tests wire in-memory stand-ins for the status engine (a recorder
// evaluated with the real default rules) and the codes service (real signed
// codes); e2e_test.go runs the same flows with the real services.

type natEnv struct {
	*env
	rec   *nattest.Recorder
	codes *nattest.Codes
}

func newNATEnv(t *testing.T, e *env) *natEnv {
	n := &natEnv{env: e, rec: nattest.NewRecorder(time.Now), codes: nattest.NewCodes(e.App.Persons.Handles())}
	e.App.NAT.Wire(nat.Deps{Facts: n.rec, Codes: n.codes, Keys: n.codes})
	return n
}

// resident logs a phone in and registers a person; it returns the token
// and the person's number.
func (n *natEnv) resident(phone, name, idNumber string) (string, int64) {
	n.t.Helper()
	tok := n.ResidentToken(phone)
	me := n.Want(n.Do("POST", "/api/v1/me/register", tok, map[string]any{"name": name, "id_type": "resident_id",
		"id_number": idNumber, "region": "341881001"}), 201, "")
	num, err := n.App.Persons.Handles().ParseID(me.Str("id"))
	if err != nil {
		n.t.Fatal(err)
	}
	return tok, num
}

func (n *natEnv) color(num int64) rules.Color { return n.rec.Color(num, time.Now()) }

func (n *natEnv) scan(num int64) string {
	return n.codes.Issue(num, codeformat.KindDynamic, time.Now(), 3*time.Minute)
}

func TestNATSitesAreOpenData(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		officer := e.NewOperator("cdc", "health_officer", "341881")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "宁国市人民医院采样点", "address": "宁国市人民路1号",
			"phone": "0563-4012345", "hours": "08:00-17:30", "lat": 30.6335, "lng": 118.9830, "region": "341881001"}), 201, "")
		e.Want(e.Do("POST", "/api/v1/admin/sites", viewer, map[string]any{"name": "x"}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "x", "address": "y", "lat": 118.98, "lng": 30.63}), 400, "site_lat_invalid")
		e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "x", "address": "y", "lat": 30.6, "lng": 118.9, "region": "110101"}), 403, "out_of_scope")
		e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "x", "address": "y", "lat": 30.6, "lng": 118.9, "colour": "red"}), 400, "unknown_field")

		imp := e.Send("POST", "/api/v1/admin/sites/import", officer, "text/csv",
			"name,address,phone,hours,lat,lng,region\n"+
				"南山街道卫生服务中心,南山路2号,0563-4022222,07:30-11:30,30.6100,118.9900,341881002\n"+
				"港口镇卫生院,港口镇,0563-4033333,08:00-16:00,30.7400,119.0500,341881100\n"+
				"坏行,某路,,,abc,118.9,341881002\n")
		e.Want(imp, 200, "")
		if imp.Body["created"] != 2.0 || imp.Body["refused"] != 1.0 {
			t.Fatalf("import: %s", imp.Raw)
		}
		e.Want(e.Send("POST", "/api/v1/admin/sites/import", officer, "application/json", "{}"), 415, "unsupported_media_type")
		// Closing a site.
		e.Want(e.Do("PATCH", "/api/v1/admin/sites/"+site.Str("id"), officer, map[string]any{"open": false}), 200, "")
		e.Want(e.Do("PATCH", "/api/v1/admin/sites/nosuch", officer, map[string]any{"open": false}), 404, "site_not_found")

		// Published without logging in.
		all := e.Want(e.Do("GET", "/api/v1/sites", "", nil), 200, "")
		if all.Body["count"] != 3.0 {
			t.Fatalf("sites: %s", all.Raw)
		}
		open := e.Want(e.Do("GET", "/api/v1/sites?open=true&region=341881", "", nil), 200, "")
		if open.Body["count"] != 2.0 {
			t.Fatalf("open sites: %s", open.Raw)
		}
		near := e.Want(e.Do("GET", "/api/v1/sites?near=30.6050,118.9900&limit=2", "", nil), 200, "")
		list := near.Body["sites"].([]any)
		first := list[0].(map[string]any)
		if len(list) != 2 || first["name"] != "南山街道卫生服务中心" || first["distance_m"].(float64) < 550 || first["distance_m"].(float64) > 562 {
			t.Fatalf("nearest: %s", near.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/sites?near=north", "", nil), 400, "near_invalid")
		e.Want(e.Do("GET", "/api/v1/sites?format=xml", "", nil), 400, "format_unknown")
		e.Want(e.Do("GET", "/api/v1/sites?region=99", "", nil), 400, "region_unknown")
		e.Want(e.Do("GET", "/api/v1/sites/"+site.Str("id"), "", nil), 200, "")

		// CSV.
		res, body := e.Get("/api/v1/sites?format=csv")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][0] != "id" || recs[0][5] != "lat" || recs[0][6] != "lng" {
			t.Fatalf("csv body: %v %v", recs, err)
		}
		// GeoJSON: valid RFC 7946, positions [lng, lat].
		res, body = e.Get("/api/v1/sites?format=geojson&region=341881001")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/geo+json" {
			t.Fatalf("geojson: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Type     string `json:"type"`
				Geometry struct {
					Type        string    `json:"type"`
					Coordinates []float64 `json:"coordinates"`
				} `json:"geometry"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
			t.Fatalf("geojson body: %s %v", body, err)
		}
		ft := fc.Features[0]
		if ft.Type != "Feature" || ft.Geometry.Type != "Point" || len(ft.Geometry.Coordinates) != 2 ||
			ft.Geometry.Coordinates[0] != 118.9830 || ft.Geometry.Coordinates[1] != 30.6335 || ft.Properties["open"] != false {
			t.Fatalf("feature: %+v", ft)
		}
	})
}

func TestNATSamplingResultsAndColors(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		n := newNATEnv(t, e)
		officer := e.NewOperator("cdc", "health_officer", "341881")
		sampler := e.NewOperator("sampler", "sampler", "341881")
		lab := e.NewOperator("lab", "lab", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "西津采样点", "address": "西津路",
			"lat": 30.6335, "lng": 118.9830, "region": "341881001"}), 201, "").Str("id")

		type resident struct {
			tok string
			num int64
		}
		var rs []resident
		for i := 0; i < 11; i++ {
			tok, num := n.resident(fmt.Sprintf("1390000%04d", i), fmt.Sprintf("李四%d", i), rid("19900101", 100+i))
			rs = append(rs, resident{tok, num})
		}

		// A 10-in-1 tube.
		e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": "NG20220410001", "capacity": 20, "site_id": "nosuch"}), 404, "site_not_found")
		e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": "NG20220410001", "capacity": 7, "site_id": site}), 400, "capacity_invalid")
		e.Want(e.Do("POST", "/api/v1/nat/tubes", lab, map[string]any{"barcode": "NG20220410001", "capacity": 10, "site_id": site}), 403, "forbidden")
		tube := e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": "NG20220410001", "capacity": 10, "site_id": site}), 201, "")
		if tube.Str("state") != "open" {
			t.Fatalf("tube: %s", tube.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/samples", sampler, map[string]any{"code": "JKM1:GARBAGE"}), 422, "code_invalid")
		for i, r := range rs[:10] {
			smp := e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/samples", sampler, map[string]any{"code": n.scan(r.num)}), 201, "")
			if smp.Body["position"] != float64(i+1) || smp.Body["full"] != (i == 9) {
				t.Fatalf("sample %d: %s", i, smp.Raw)
			}
			if i == 0 {
				e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/samples", sampler, map[string]any{"code": n.scan(r.num)}), 409, "sample_duplicate")
			}
		}
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/samples", sampler, map[string]any{"code": n.scan(rs[10].num)}), 409, "tube_full")
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NG20220410001", "result": "positive"}), 409, "tube_unsealed")
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/seal", sampler, nil), 200, "")
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NG20220410001/samples", sampler, map[string]any{"code": n.scan(rs[10].num)}), 409, "tube_sealed")
		tr := e.Want(e.Do("POST", "/api/v1/nat/transfers", sampler, map[string]any{"barcodes": []string{"NG20220410001"}, "lab": "宁国市人民医院检验科"}), 201, "")
		e.Want(e.Do("GET", "/api/v1/nat/transfers/"+tr.Str("id"), lab, nil), 200, "")

		// Positive: everyone in it is red, with a retest task.
		rep := e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NG20220410001", "result": "positive"}), 201, "")
		if rep.Str("status") != "accepted" || rep.Body["persons"] != 10.0 {
			t.Fatalf("result: %s", rep.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NG20220410001", "result": "positive"}), 200, "")
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NG20220410001", "result": "negative"}), 409, "result_exists")
		for _, r := range rs[:10] {
			if n.color(r.num) == rules.Green {
				t.Fatal("green after a positive mixed tube")
			}
		}
		tasks := e.Want(e.Do("GET", "/api/v1/admin/nat/tasks?open=true&kind=retest", officer, nil), 200, "")
		if len(tasks.Body["tasks"].([]any)) != 10 {
			t.Fatalf("tasks: %s", tasks.Raw)
		}
		mine := e.Want(e.Do("GET", "/api/v1/me/tests", rs[0].tok, nil), 200, "")
		tests := mine.Body["tests"].([]any)
		if len(tests) != 1 || tests[0].(map[string]any)["result"] != "mixed_positive" || len(mine.Body["tasks"].([]any)) != 1 {
			t.Fatalf("resident's tests: %s", mine.Raw)
		}
		firstTest := tests[0].(map[string]any)["id"].(string)
		e.Want(e.Do("GET", "/api/v1/me/tests/"+firstTest+"/certificate", rs[0].tok, nil), 409, "result_not_negative")

		// Single-tube retests, through a lab file: rs[0] and rs[1] negative,
		// plus lines the lab got wrong.
		for i, r := range rs[:2] {
			b := fmt.Sprintf("NGS%07d", i)
			e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": b, "capacity": 1, "site_id": site}), 201, "")
			e.Want(e.Do("POST", "/api/v1/nat/tubes/"+b+"/samples", sampler, map[string]any{"code": n.scan(r.num)}), 201, "")
			e.Want(e.Do("POST", "/api/v1/nat/tubes/"+b+"/seal", sampler, nil), 200, "")
		}
		up := e.Send("POST", "/api/v1/nat/results/upload?lab=宁国市人民医院检验科", lab, "text/csv; charset=utf-8",
			"barcode,result\nNGS0000000,negative\nNGS0000001,阴性\nNGS0000002,negative\nbad barcode!,negative\nNGS0000000,negative\n")
		e.Want(up, 200, "")
		if up.Body["accepted"] != 2.0 || up.Body["refused"] != 3.0 {
			t.Fatalf("upload: %s", up.Raw)
		}
		report := up.Body["report"].([]any)
		if l := report[2].(map[string]any); l["line"] != 4.0 || l["code"] != "tube_unknown" {
			t.Fatalf("line 4: %v", l)
		}
		for i, r := range rs[:10] {
			want := rules.Red
			if i < 2 {
				want = rules.Green
			}
			if got := n.color(r.num); got != want {
				t.Fatalf("resident %d: %s, want %s", i, got, want)
			}
		}
		if open := e.Want(e.Do("GET", "/api/v1/admin/nat/tasks?open=true", officer, nil), 200, "").Body["tasks"].([]any); len(open) != 8 {
			t.Fatalf("%d open tasks after 2 retests", len(open))
		}

		// A lab corrects the mixed tube: negative after all.
		e.Want(e.Do("POST", "/api/v1/nat/results/NG20220410001/correction", lab, map[string]any{"result": "negative"}), 400, "reason_invalid")
		e.Want(e.Do("POST", "/api/v1/nat/results/NG20220410001/correction", sampler, map[string]any{"result": "negative", "reason": "x"}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/nat/results/NG20220410001/correction", lab, map[string]any{"result": "negative", "reason": "样本编号录入错误"}), 200, "")
		for i, r := range rs[:10] {
			if n.color(r.num) != rules.Green {
				t.Fatalf("resident %d not green after the correction", i)
			}
		}
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=tube:NG20220410001", e.Admin(), nil), 200, "")
		if entries := audit.Body["entries"].([]any); len(entries) != 1 || entries[0].(map[string]any)["action"] != "nat.result.correct" {
			t.Fatalf("audit: %s", audit.Raw)
		}

		// Now the first test is negative: a certificate, verifiable offline.
		cert := e.Want(e.Do("GET", "/api/v1/me/tests/"+firstTest+"/certificate", rs[0].tok, nil), 200, "")
		v := codeformat.NewVerifier(n.codes.TrustList(), codeformat.Options{Kinds: []codeformat.Kind{codeformat.KindCertificate}})
		r := v.Verify(cert.Str("code"), time.Now())
		if !r.Valid || r.Claims.Result != codeformat.TestNegative || r.Claims.Site != "西津采样点" || r.Claims.MaskedName != "李*0" ||
			n.App.Persons.Handles().Num(r.Claims.Handle) != rs[0].num || cert.Str("kind") != "certificate" {
			t.Fatalf("certificate: %s → %+v", cert.Raw, r)
		}
		hres, png := e.GetAuth("/api/v1/me/tests/"+firstTest+"/certificate.png", rs[0].tok)
		if hres.StatusCode != 200 || hres.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("png: %d", hres.StatusCode)
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		qr, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			// gozxing's finder-pattern search misses ~2% of clean symbols
			// (see internal/codeformat/qr_test.go); a clean render reads in
			// pure-barcode mode.
			qr, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
		}
		if err != nil || !v.Verify(qr.GetText(), time.Now()).Valid {
			t.Fatalf("certificate QR does not decode to a valid certificate: %v", err)
		}
		// Someone else's test is not found.
		e.Want(e.Do("GET", "/api/v1/me/tests/"+firstTest+"/certificate", rs[1].tok, nil), 404, "test_not_found")
		e.Want(e.Do("GET", "/api/v1/me/tests", "", nil), 401, "")
	})
}

// People without a phone: a dependent bound by identity number (audited),
// whose results and certificate the family member sees; a single positive
// alerts the health officers; coverage lists who is untested.
func TestNATDependentsAlertsAndCoverage(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		n := newNATEnv(t, e)
		officer := e.NewOperator("cdc", "health_officer", "341881")
		sampler := e.NewOperator("sampler", "sampler", "341881")
		lab := e.NewOperator("lab", "lab", "341881")
		site := e.Want(e.Do("POST", "/api/v1/admin/sites", officer, map[string]any{"name": "西津采样点", "address": "西津路",
			"lat": 30.6335, "lng": 118.9830, "region": "341881001"}), 201, "").Str("id")
		tok, self := n.resident("13900001111", "王五", rid("19800202", 11))
		grandma := rid("19400303", 12)
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{"name": "王奶奶", "id_type": "resident_id",
			"id_number": grandma, "relation": "grandparent", "region": "341881001"}), 201, "").Str("id")
		_, untested := n.resident("13900002222", "赵六", rid("19850505", 13))

		for _, b := range []string{"NGA0000001", "NGA0000002"} {
			e.Want(e.Do("POST", "/api/v1/nat/tubes", sampler, map[string]any{"barcode": b, "capacity": 1, "site_id": site}), 201, "")
		}
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NGA0000001/samples", sampler, map[string]any{"id_type": "resident_id", "id_number": grandma}), 201, "")
		e.Want(e.Do("POST", "/api/v1/nat/tubes/NGA0000002/samples", sampler, map[string]any{"code": n.scan(self)}), 201, "")
		for _, b := range []string{"NGA0000001", "NGA0000002"} {
			e.Want(e.Do("POST", "/api/v1/nat/tubes/"+b+"/seal", sampler, nil), 200, "")
		}
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NGA0000001", "result": "negative"}), 201, "")
		e.Want(e.Do("POST", "/api/v1/nat/results", lab, map[string]any{"barcode": "NGA0000002", "result": "positive"}), 201, "")

		// The dependent's tests and certificate, through the family member.
		dt := e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/tests", tok, nil), 200, "")
		tests := dt.Body["tests"].([]any)
		if len(tests) != 1 || tests[0].(map[string]any)["result"] != "negative" || tests[0].(map[string]any)["certificate"] != true {
			t.Fatalf("dependent's tests: %s", dt.Raw)
		}
		test := tests[0].(map[string]any)["id"].(string)
		cert := e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/tests/"+test+"/certificate", tok, nil), 200, "")
		if cert.Str("masked_name") != "王*奶" {
			t.Fatalf("dependent's certificate: %s", cert.Raw)
		}
		other := e.ResidentToken("13900003333")
		e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/tests", other, nil), 404, "")
		// Their own certificate path does not reach a dependent's test.
		e.Want(e.Do("GET", "/api/v1/me/tests/"+test+"/certificate", tok, nil), 404, "test_not_found")

		// The positive alerts the officer.
		al := e.Want(e.Do("GET", "/api/v1/admin/nat/alerts?open=true", officer, nil), 200, "")
		alerts := al.Body["alerts"].([]any)
		if len(alerts) != 1 || alerts[0].(map[string]any)["person"].(map[string]any)["name"] != "王*" {
			t.Fatalf("alerts: %s", al.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/nat/alerts", lab, nil), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/nat/alerts/"+alerts[0].(map[string]any)["id"].(string)+"/ack", officer, nil), 204, "")
		if n.color(self) != rules.Red {
			t.Fatal("a single positive is not red")
		}

		// Coverage: of the three registered, only grandma has a negative.
		cov := e.Want(e.Do("GET", "/api/v1/admin/nat/coverage?region=341881&hours=48", officer, nil), 200, "")
		total := cov.Body["total"].(map[string]any)
		if total["residents"] != 3.0 || total["negative"] != 1.0 || total["untested"] != 2.0 {
			t.Fatalf("coverage: %s", cov.Raw)
		}
		ids := map[string]bool{}
		for _, u := range cov.Body["untested"].([]any) {
			ids[u.(map[string]any)["id"].(string)] = true
		}
		if len(ids) != 2 || !ids[e.App.Persons.Handles().ID(self)] || !ids[e.App.Persons.Handles().ID(untested)] {
			t.Fatalf("untested: %s", cov.Raw)
		}
		// A negative result posted as a fact (another lab's) counts as
		// tested: 赵六 leaves the list and the counts.
		e.Want(e.Do("POST", "/api/v1/admin/facts", e.Admin(), map[string]any{"person_id": e.App.Persons.Handles().ID(untested),
			"kind": "nat.result", "at": time.Now().Add(-3 * time.Hour).Format(time.RFC3339), "attrs": map[string]any{"result": "negative"}}), 201, "")
		cov = e.Want(e.Do("GET", "/api/v1/admin/nat/coverage?region=341881&hours=48", officer, nil), 200, "")
		total = cov.Body["total"].(map[string]any)
		if total["residents"] != 3.0 || total["negative"] != 2.0 || total["untested"] != 1.0 || len(cov.Body["untested"].([]any)) != 1 {
			t.Fatalf("coverage after a posted negative: %s", cov.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/nat/coverage?hours=0", officer, nil), 400, "hours_invalid")
		narrow := e.NewOperator("xijin", "viewer", "341881002")
		e.Want(e.Do("GET", "/api/v1/admin/nat/coverage?region=341881001", narrow, nil), 404, "region_not_found")
		// The ID-number binding is in the audit log.
		log := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+dep, e.Admin(), nil), 200, "")
		found := false
		for _, x := range log.Body["entries"].([]any) {
			found = found || x.(map[string]any)["action"] == "nat.sample.id_number"
		}
		if !found {
			t.Fatalf("binding by ID number not audited: %s", log.Raw)
		}
	})
}
