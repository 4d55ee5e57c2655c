package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/idnum"
)

// org registers an organisation through the API and returns its id.
func (e *env) org(token, kind, name, body, region string) string {
	e.t.Helper()
	uscc, err := idnum.BuildUSCC("91", "341881", body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.Want(e.Do("POST", "/api/v1/admin/orgs", token, map[string]any{"kind": kind, "name": name, "uscc": uscc,
		"region": region}), 201, "").Str("id")
}

// orgKey gives an organisation a key and returns the key's id and secret.
func (e *env) orgKey(token, orgID string, body map[string]any) (string, string) {
	e.t.Helper()
	r := e.Want(e.Do("POST", "/api/v1/admin/orgs/"+orgID+"/keys", token, body), 201, "")
	return r.Str("id"), r.Str("api_key")
}

// myCode is a resident's fresh dynamic code.
func (e *env) myCode(token string) string {
	e.t.Helper()
	return e.Want(e.Do("GET", "/api/v1/me/code", token, nil), 200, "").Str("code")
}

// A pharmacy scans a resident's code and registers a purchase of a watched
// drug; the resident turns yellow by the default rules. The integrator never
// sees the person's id; bad input is a precise 4xx that writes nothing.
func TestPharmacyPurchaseThroughTheGateway(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		ph := e.org(admin, "pharmacy", "国胜大药房", "MA2N7T1D", "341881001")
		other := e.org(admin, "pharmacy", "百姓缘大药房", "MA2N7T2F", "341881002")
		hosp := e.org(admin, "hospital", "宁国市人民医院", "48572011", "341881001")
		keyID, key := e.orgKey(admin, ph, map[string]any{"name": "收银台", "scopes": []string{"scan", "scan_id", "pharmacy.purchase"}})
		_, otherKey := e.orgKey(admin, other, map[string]any{"name": "收银台", "scopes": []string{"scan", "pharmacy.purchase"}})
		_, hospKey := e.orgKey(admin, hosp, map[string]any{"name": "HIS", "scopes": []string{"scan"}})
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+hosp+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"pharmacy.purchase"}}), 400, "scope_not_for_kind")

		tok, me := e.Resident("13900000301", "王小明", rid("19800101", 301), "341881001")
		scan := e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": e.myCode(tok)}), 200, "")
		subject := scan.Str("subject")
		if !strings.HasPrefix(subject, "hcs_") || scan.Str("color") != "green" || scan.Body["admitted"] != true ||
			scan.Str("masked_name") != "王*明" || len(scan.Body["reasons"].([]any)) != 0 {
			t.Fatalf("scan: %s", scan.Raw)
		}
		if bytes.Contains(scan.Raw, []byte(me)) {
			t.Fatalf("the scan gives the integrator the person's id: %s", scan.Raw)
		}
		var scans int
		if err := e.App.Checkins.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM verifications WHERE key_id = $1`, keyID).Scan(&scans)
		if scans != 1 {
			t.Fatalf("%d verification events recorded for the scan", scans)
		}

		before := map[string]int{"pharmacy_purchases": e.Count("pharmacy_purchases"), "facts": e.Count("facts")}
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": subject, "drug_class": "aspirin"}), 400, "drug_class_unknown")
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": subject, "drug_class": "antipyretic",
			"items": []map[string]any{{"name": "", "quantity": 1}}}), 400, "items_invalid")
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", otherKey, map[string]any{"subject": subject, "drug_class": "antipyretic"}), 403, "subject_foreign")
		tampered := []byte(subject)
		tampered[20] ^= 1
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": string(tampered), "drug_class": "antipyretic"}), 400, "subject_invalid")
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": me, "drug_class": "antipyretic"}), 400, "subject_invalid")
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"drug_class": "antipyretic"}), 400, "subject_missing")
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", hospKey, map[string]any{"subject": subject, "drug_class": "antipyretic"}), 403, "scope_missing")
		e.App.Gateway.SetClock(func() time.Time { return time.Now().Add(16 * time.Minute) })
		e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": subject, "drug_class": "antipyretic"}), 410, "subject_expired")
		e.App.Gateway.SetClock(time.Now)
		for tbl, n := range before {
			if got := e.Count(tbl); got != n {
				t.Fatalf("refused purchases wrote to %s: %d rows, %d before", tbl, got, n)
			}
		}

		pu := e.Want(e.Do("POST", "/gateway/v1/pharmacy/purchases", key, map[string]any{"subject": subject, "drug_class": "antipyretic",
			"items": []map[string]any{{"name": "布洛芬缓释胶囊", "quantity": 2}}}), 201, "")
		if pu.Str("color") != "yellow" || pu.Str("masked_name") != "王*明" || pu.Str("drug_class") != "antipyretic" {
			t.Fatalf("purchase: %s", pu.Raw)
		}
		mine := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if colorOf(mine) != "yellow" {
			t.Fatalf("the buyer after the purchase: %s", mine.Raw)
		}
		e.agree(me)
		// The next scan answers yellow, not admitted, and says why.
		again := e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": e.myCode(tok)}), 200, "")
		if again.Str("color") != "yellow" || again.Body["admitted"] != false || !strings.Contains(string(again.Raw), "color_yellow") {
			t.Fatalf("scan after the purchase: %s", again.Raw)
		}

		// The pharmacy's day: its own purchases only, as JSON and CSV.
		day := e.Want(e.Do("GET", "/gateway/v1/pharmacy/purchases", key, nil), 200, "")
		if day.Body["total"] != 1.0 || day.Body["buyers"] != 1.0 || day.Body["purchases"].([]any)[0].(map[string]any)["masked_name"] != "王*明" {
			t.Fatalf("the day: %s", day.Raw)
		}
		if d := e.Want(e.Do("GET", "/gateway/v1/pharmacy/purchases", otherKey, nil), 200, ""); d.Body["total"] != 0.0 {
			t.Fatalf("another pharmacy sees %s", d.Raw)
		}
		e.Want(e.Do("GET", "/gateway/v1/pharmacy/purchases?date=yesterday", key, nil), 400, "date_invalid")
		res, body := e.getWith("/gateway/v1/pharmacy/purchases?format=csv", key)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(string(body), "时间,购药人,药品类别") || !strings.Contains(string(body), "退热药") || strings.Contains(string(body), me) {
			t.Fatalf("CSV: %d %s", res.StatusCode, body)
		}
		// The authority: the town's count, and the pharmacy's day.
		sum := e.Want(e.Do("GET", "/api/v1/admin/pharmacy/summary", admin, nil), 200, "")
		towns := sum.Body["towns"].([]any)
		if len(towns) != 1 || towns[0].(map[string]any)["region"] != "341881001" || towns[0].(map[string]any)["total"] != 1.0 ||
			towns[0].(map[string]any)["counts"].(map[string]any)["antipyretic"] != 1.0 {
			t.Fatalf("summary: %s", sum.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/orgs/"+ph+"/pharmacy/purchases", admin, nil), 200, "")
		e.Want(e.Do("GET", "/api/v1/admin/orgs/"+ph+"/pharmacy/purchases", e.NewOperator("nanshan", "viewer", "341881002"), nil), 404, "org_not_found")
		e.Want(e.Do("GET", "/api/v1/admin/pharmacy/summary", key, nil), 403, "forbidden")

		// The same rules as the console's: a viewer registers no
		// organisation and edits no drug class; a town's officer manages
		// only its town's organisations.
		viewer := e.NewOperator("viewer1", "viewer", "341881")
		e.Want(e.Do("POST", "/api/v1/admin/orgs", viewer, map[string]any{"kind": "pharmacy", "name": "x", "uscc": "91341881MA2N7T9R4K"}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/pharmacy/drug-classes", viewer, map[string]any{"code": "x1", "name_zh": "x", "name_en": "x"}), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/pharmacy/drug-classes", key, map[string]any{"code": "x1", "name_zh": "x", "name_en": "x"}), 403, "forbidden")
		nanshan := e.NewOperator("nanshan.officer", "health_officer", "341881002")
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+ph+"/keys", nanshan, map[string]any{"name": "x", "scopes": []string{"scan"}}), 404, "org_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+other+"/keys", nanshan, map[string]any{"name": "x", "scopes": []string{"scan"}}), 201, "")
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+ph+"/keys", key, map[string]any{"name": "x", "scopes": []string{"scan"}}), 404, "org_not_found")
	})
}

// getWith fetches a path with a bearer token and returns the raw answer.
func (e *env) getWith(path, token string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// Scans: codes that are not valid, the ID-number fallback (audited), keys
// and credentials that may not scan, and a key over its limits.
func TestGatewayScans(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		clinic := e.org(admin, "fever_clinic", "宁国市人民医院发热门诊", "48572011", "341881001")
		keyID, key := e.orgKey(admin, clinic, map[string]any{"name": "HIS", "scopes": []string{"scan"}})
		_, deskKey := e.orgKey(admin, clinic, map[string]any{"name": "挂号窗口", "scopes": []string{"scan", "scan_id"}})
		tok, _ := e.Resident("13900000311", "李秀英", rid("19900721", 311), "341881001")

		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": "HELLO WORLD"}), 422, "code_unreadable")
		code := e.myCode(tok)
		e.App.Codes.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": code}), 422, "code_expired")
		e.App.Codes.SetClock(time.Now)
		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{}), 400, "scan_input")
		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": code, "id_type": "resident_id", "id_number": rid("19900721", 311)}), 400, "scan_input")

		// At a desk, by ID number: a key with scan_id; every lookup audited.
		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"id_type": "resident_id", "id_number": rid("19900721", 311)}), 403, "scope_missing")
		byID := e.Want(e.Do("POST", "/gateway/v1/scan", deskKey, map[string]any{"id_type": "resident_id", "id_number": rid("19900721", 311)}), 200, "")
		if byID.Str("kind") != "id" || byID.Str("masked_name") != "李*英" || byID.Str("subject") == "" {
			t.Fatalf("by ID number: %s", byID.Raw)
		}
		e.Want(e.Do("POST", "/gateway/v1/scan", deskKey, map[string]any{"id_type": "resident_id", "id_number": rid("19900721", 312)}), 404, "id_not_registered")
		audit := e.Want(e.Do("GET", "/api/v1/admin/audit", admin, nil), 200, "")
		if n := strings.Count(string(audit.Raw), `"person.verify_id"`); n != 2 {
			t.Fatalf("%d ID lookups audited, want 2: %s", n, audit.Raw)
		}

		// Who may not scan: operators, residents, checkpoint keys, nobody.
		cp := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "西津卡口", "region": "341881001"}), 201, "").Str("api_key")
		for _, who := range []string{admin, tok, cp} {
			e.Want(e.Do("POST", "/gateway/v1/scan", who, map[string]any{"code": code}), 403, "org_only")
		}
		e.Want(e.Do("POST", "/gateway/v1/scan", "", map[string]any{"code": code}), 401, "unauthenticated")
		e.Want(e.Do("POST", "/gateway/v1/nothing", key, nil), 404, "route_not_found")

		// A rotated key's old secret stops; a revoked key stops.
		rot := e.Want(e.Do("POST", "/api/v1/admin/orgs/"+clinic+"/keys/"+keyID+"/rotate", admin, nil), 200, "")
		e.Want(e.Do("POST", "/gateway/v1/scan", key, map[string]any{"code": code}), 401, "api_key_invalid")
		e.Want(e.Do("POST", "/gateway/v1/scan", rot.Str("api_key"), map[string]any{"code": code}), 200, "")
		e.Want(e.Do("POST", "/api/v1/admin/orgs/"+clinic+"/keys/"+keyID+"/revoke", admin, nil), 200, "")
		e.Want(e.Do("POST", "/gateway/v1/scan", rot.Str("api_key"), map[string]any{"code": code}), 401, "api_key_revoked")

		// Over the daily quota: 429 with Retry-After until midnight.
		_, small := e.orgKey(admin, clinic, map[string]any{"name": "试用", "scopes": []string{"scan"}, "daily_quota": 2})
		for range 2 {
			e.Want(e.Do("POST", "/gateway/v1/scan", small, map[string]any{"code": code}), 200, "")
		}
		req, _ := http.NewRequest("POST", e.URL+"/gateway/v1/scan", strings.NewReader(`{"code":"`+code+`"}`))
		req.Header.Set("Authorization", "Bearer "+small)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error struct{ Code string } }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		after, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		if res.StatusCode != 429 || body.Error.Code != "quota_exceeded" || after < 1 || after > 24*3600 {
			t.Fatalf("over the quota: %d %s, Retry-After %q", res.StatusCode, body.Error.Code, res.Header.Get("Retry-After"))
		}
		keys := e.Want(e.Do("GET", "/api/v1/admin/orgs/"+clinic+"/keys", admin, nil), 200, "")
		if strings.Contains(string(keys.Raw), "hck_") {
			t.Fatalf("the key list shows secrets: %s", keys.Raw)
		}
	})
}
