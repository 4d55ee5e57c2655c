package server_test

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/healthcode/healthcode/internal/idnum"
)

// rid is a valid resident ID number born on birth (YYYYMMDD) in Ningguo.
func rid(birth string, seq int) string {
	first17 := fmt.Sprintf("341881%s%03d", birth, seq)
	c, err := idnum.ResidentCheckChar(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// badCheck is rid with a wrong check character.
func badCheck(birth string, seq int) string {
	id := rid(birth, seq)
	last := id[17]
	wrong := byte('0')
	if last == '0' {
		wrong = '1'
	}
	return id[:17] + string(wrong)
}

func TestHealthAndMetrics(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		res, body := e.get("/healthz")
		if res.StatusCode != 200 || !strings.Contains(string(body), "ok") {
			t.Fatalf("healthz: %d %s", res.StatusCode, body)
		}
		e.do("GET", "/api/v1/me", "", nil)
		res, body = e.get("/metrics")
		if res.StatusCode != 200 || !strings.Contains(string(body), `healthcode_http_requests_total{code="401",route="GET /api/v1/me"} 1`) {
			t.Fatalf("metrics do not count the request: %s", body)
		}
	})
}

func TestResidentRegistersAndManagesDependents(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		tok := e.residentToken("13900000001")
		e.want(e.do("GET", "/api/v1/me", tok, nil), 404, "not_registered")
		me := e.want(e.do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 31), "region": "341881001"}), 201, "")
		if me.str("name") != "张*丰" || me.str("id_number") != "3418**********"+rid("19850312", 31)[14:] || me.str("phone") != "139****0001" {
			t.Fatalf("register answer is not masked as expected: %s", me.raw)
		}
		if me.str("region_name") != "安徽省宣城市宁国市西津街道" {
			t.Fatalf("region_name = %q", me.str("region_name"))
		}
		got := e.want(e.do("GET", "/api/v1/me", tok, nil), 200, "")
		if got.str("id") != me.str("id") {
			t.Fatalf("/me id %q, registered %q", got.str("id"), me.str("id"))
		}
		e.want(e.do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 32)}), 409, "already_registered")

		// Dependents, up to the limit of 4.
		for i, name := range []string{"张老一", "张老二", "张老三", "张老四"} {
			e.want(e.do("POST", "/api/v1/me/dependents", tok, map[string]any{
				"name": name, "id_type": "resident_id", "id_number": rid("19480101", 10+i), "relation": "parent"}), 201, "")
		}
		e.want(e.do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "张小宝", "id_type": "resident_id", "id_number": rid("20180606", 22), "relation": "child"}), 422, "dependents_limit")
		list := e.want(e.do("GET", "/api/v1/me/dependents", tok, nil), 200, "")
		deps := list.body["dependents"].([]any)
		if len(deps) != 4 || deps[0].(map[string]any)["relation"] != "parent" {
			t.Fatalf("dependents: %s", list.raw)
		}
		first := deps[0].(map[string]any)["id"].(string)

		// Another resident cannot remove or see them; the owner can remove.
		other := e.residentToken("13900000002")
		e.want(e.do("DELETE", "/api/v1/me/dependents/"+first, other, nil), 404, "person_not_found")
		e.want(e.do("DELETE", "/api/v1/me/dependents/"+first, tok, nil), 204, "")
		if n := len(e.want(e.do("GET", "/api/v1/me/dependents", tok, nil), 200, "").body["dependents"].([]any)); n != 3 {
			t.Fatalf("%d dependents after removal, want 3", n)
		}
		// A family member can manage the same (phone-less) dependent, name and number matching.
		e.want(e.do("POST", "/api/v1/me/dependents", other, map[string]any{
			"name": "张老二", "id_type": "resident_id", "id_number": rid("19480101", 11), "relation": "parent"}), 201, "")
		// But not a person who registered with their own phone.
		e.want(e.do("POST", "/api/v1/me/dependents", other, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 31)}), 409, "person_exists")
	})
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		tok := e.residentToken("13900000003")
		valid := func() map[string]any {
			return map[string]any{"name": "李秀英", "id_type": "resident_id", "id_number": rid("19900721", 42)}
		}
		with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
		persons := e.count("persons")
		audits := e.count("audit_log")
		cases := []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"malformed json", `{"name": "x",`, 400, "invalid_json"},
			{"not an object", `[1,2]`, 400, "invalid_json"},
			{"two objects", `{"name":"a"}{"name":"b"}`, 400, "invalid_json"},
			{"empty body", ``, 400, "empty_body"},
			{"unknown field", with("nickname", "x"), 400, "unknown_field"},
			{"wrong type", with("name", 12), 400, "invalid_field"},
			{"bad check digit", with("id_number", badCheck("19900721", 42)), 400, "id_check_digit"},
			{"unknown id type", with("id_type", "driving_licence"), 400, "id_type_unknown"},
			{"unknown region", with("region", "341881999"), 400, "region_unknown"},
			{"empty name", with("name", " "), 400, "name_invalid"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e.want(e.do("POST", "/api/v1/me/register", tok, c.body), c.status, c.code)
			})
		}
		e.want(e.do("POST", "/api/v1/me/register", "", valid()), 401, "unauthenticated")
		e.want(e.do("POST", "/api/v1/me/register", "hcr_forged", valid()), 401, "token_invalid")
		e.want(e.do("POST", "/api/v1/me/register", e.admin(), valid()), 403, "resident_only")
		if e.count("persons") != persons || e.count("audit_log") != audits+1 { // +1: the admin login above
			t.Fatalf("refused requests wrote: persons %d -> %d, audit %d -> %d", persons, e.count("persons"), audits, e.count("audit_log"))
		}
		// A duplicate ID number is refused even for another phone.
		e.want(e.do("POST", "/api/v1/me/register", tok, valid()), 201, "")
		tok2 := e.residentToken("13900000004")
		e.want(e.do("POST", "/api/v1/me/register", tok2, with("name", "李秀")), 409, "person_exists")
		e.want(e.do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": "12345"}), 400, "phone_length")
		e.want(e.do("GET", "/api/v1/no/such/thing", "", nil), 404, "route_not_found")
	})
}

func TestOperatorsAreScopedAndAudited(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.admin()
		xijin := e.newOperator("xijin", "health_officer", "341881001")
		gangkou := e.newOperator("gangkou", "viewer", "341881100")

		p := e.want(e.do("POST", "/api/v1/admin/persons", xijin, map[string]any{
			"name": "王建国", "id_type": "resident_id", "id_number": rid("19781105", 13), "phone": "13900000005"}), 201, "")
		if p.str("region") != "341881001" || p.str("name") != "王建国" {
			t.Fatalf("health officer sees %s", p.raw)
		}
		id := p.str("id")
		e.want(e.do("POST", "/api/v1/admin/persons", xijin, map[string]any{
			"name": "赵敏", "id_type": "resident_id", "id_number": rid("19880614", 46), "region": "341881100"}), 403, "out_of_scope")
		e.want(e.do("POST", "/api/v1/admin/persons", gangkou, map[string]any{
			"name": "赵敏", "id_type": "resident_id", "id_number": rid("19880614", 46)}), 403, "forbidden")

		// Out of scope is indistinguishable from not found.
		e.want(e.do("GET", "/api/v1/admin/persons/"+id, gangkou, nil), 404, "person_not_found")
		e.want(e.do("GET", "/api/v1/admin/persons/0000000000000", gangkou, nil), 404, "person_not_found")
		full := e.want(e.do("GET", "/api/v1/admin/persons/"+id, admin, nil), 200, "")
		if full.str("id_number") != rid("19781105", 13) {
			t.Fatalf("admin should see the full number: %s", full.raw)
		}
		viewer := e.newOperator("cityviewer", "viewer", "341881")
		masked := e.want(e.do("GET", "/api/v1/admin/persons/"+id, viewer, nil), 200, "")
		if masked.str("name") != "王*国" || strings.Contains(string(masked.raw), rid("19781105", 13)) || strings.Contains(string(masked.raw), "13900000005") {
			t.Fatalf("viewer sees unmasked data: %s", masked.raw)
		}
		found := e.want(e.do("GET", "/api/v1/admin/persons?id_number="+rid("19781105", 13), viewer, nil), 200, "")
		if n := len(found.body["persons"].([]any)); n != 1 {
			t.Fatalf("search by ID number found %d", n)
		}
		if n := len(e.want(e.do("GET", "/api/v1/admin/persons?phone=13900000005", gangkou, nil), 200, "").body["persons"].([]any)); n != 0 {
			t.Fatalf("search outside scope found %d", n)
		}
		e.want(e.do("GET", "/api/v1/admin/persons?id_number=123", viewer, nil), 400, "")

		// Every read was audited, and the chain holds.
		log := e.want(e.do("GET", "/api/v1/admin/audit?subject=person:"+id, admin, nil), 200, "")
		reads := 0
		for _, en := range log.body["entries"].([]any) {
			if en.(map[string]any)["action"] == "person.read" {
				reads++
			}
		}
		if reads != 2 {
			t.Fatalf("%d person.read entries, want 2 (admin, viewer): %s", reads, log.raw)
		}
		e.want(e.do("GET", "/api/v1/admin/audit", viewer, nil), 403, "forbidden")
	})
}

// A page larger than the server's maximum is the maximum, and the answer
// still says where the next page starts.
func TestPersonSearchPages(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.admin()
		for i := range 52 {
			e.want(e.do("POST", "/api/v1/admin/persons", admin, map[string]any{
				"name": fmt.Sprintf("居民%d", i), "id_type": "resident_id", "id_number": rid("19800101", 300+i)}), 201, "")
		}
		page := func(query string) (int, string) {
			t.Helper()
			r := e.want(e.do("GET", "/api/v1/admin/persons?"+query, admin, nil), 200, "")
			return len(r.body["persons"].([]any)), r.str("next")
		}
		if n, next := page("limit=500"); n != 52 || next != "" {
			t.Fatalf("limit=500 (over the maximum of 200): %d persons, next %q; want all 52 and no next page", n, next)
		}
		n, next := page("limit=0")
		if n != 50 || next == "" {
			t.Fatalf("limit=0 (the default page of 50): %d persons, next %q", n, next)
		}
		if n, next := page("after=" + next); n != 2 || next != "" {
			t.Fatalf("second page: %d persons, next %q", n, next)
		}
		e.want(e.do("GET", "/api/v1/admin/persons?limit=x", admin, nil), 400, "limit_invalid")
		e.want(e.do("GET", "/api/v1/admin/persons?limit=-1", admin, nil), 400, "limit_invalid")
	})
}

func TestVenuesAndCheckpoints(t *testing.T) {
	forEach(t, func(t *testing.T, e *env) {
		admin := e.admin()
		v := e.want(e.do("POST", "/api/v1/admin/venues", admin, map[string]any{
			"name": "西津农贸市场", "kind": "market", "address": "宁国市西津街道", "region": "341881001"}), 201, "")
		token, poster := v.str("venue_token"), v.str("poster_url")
		if len(token) < 20 || v.str("id") == "" || poster == "" {
			t.Fatalf("venue answer: %s", v.raw)
		}
		res, png := e.get(poster)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("poster: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		qr, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
		if err != nil {
			t.Fatalf("poster QR does not decode: %v", err)
		}
		if qr.GetText() != v.str("checkin_url") || !strings.HasSuffix(qr.GetText(), "/c/"+token) {
			t.Fatalf("poster QR holds %q, want the check-in URL %q", qr.GetText(), v.str("checkin_url"))
		}
		e.want(e.do("POST", "/api/v1/admin/venues", admin, map[string]any{"name": "x", "kind": "castle"}), 400, "kind_invalid")
		e.want(e.do("POST", "/api/v1/admin/venues", admin, map[string]any{"name": "x", "unit_uscc": "91340000MA2N0000X0"}), 400, "")
		rot := e.want(e.do("POST", "/api/v1/admin/venues/"+v.str("id")+"/rotate-token", admin, nil), 200, "")
		if rot.str("venue_token") == token {
			t.Fatal("rotation kept the token")
		}
		res, _ = e.get(poster)
		if res.StatusCode != 404 {
			t.Fatalf("old poster still served: %d", res.StatusCode)
		}

		c := e.want(e.do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "西津街道办事处", "region": "341881001"}), 201, "")
		if !strings.HasPrefix(c.str("api_key"), "hck_") {
			t.Fatalf("checkpoint answer: %s", c.raw)
		}
		e.want(e.do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "未建", "built": false, "enabled": true}), 400, "enabled_not_built")
		e.want(e.do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "负号", "seq": -1}), 400, "seq_invalid")
		no := false
		e.want(e.do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "未建", "built": no, "enabled": no}), 201, "")
		table := e.want(e.do("GET", "/api/v1/admin/checkpoints", admin, nil), 200, "")
		if table.body["total"] != 2.0 || table.body["built"] != 1.0 || table.body["enabled"] != 1.0 {
			t.Fatalf("checkpoint table totals: %s", table.raw)
		}
		// Disabling revokes the key.
		e.want(e.do("PATCH", "/api/v1/admin/checkpoints/"+c.str("id"), admin, map[string]any{"enabled": false}), 200, "")
		var revoked int
		e.srv.DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL`).Scan(&revoked)
		if revoked != 2 {
			t.Fatalf("%d revoked keys, want 2 (the unbuilt one and the disabled one)", revoked)
		}
	})
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	e := newEnv(t, "sqlite")
	doc := e.want(e.do("GET", "/api/v1/openapi.json", "", nil), 200, "")
	paths := doc.body["paths"].(map[string]any)
	for _, path := range []string{"/api/v1/auth/otp", "/api/v1/me/register", "/api/v1/admin/persons/{id}", "/api/v1/admin/coverage"} {
		if paths[path] == nil {
			t.Errorf("openapi.json lacks %s", path)
		}
	}
	for path, ops := range paths {
		for method, op := range ops.(map[string]any) {
			if op.(map[string]any)["summary"] == "" {
				t.Errorf("%s %s has no summary in the docs table", method, path)
			}
		}
	}
}
