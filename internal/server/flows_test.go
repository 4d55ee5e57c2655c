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
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		res, body := e.Get("/healthz")
		if res.StatusCode != 200 || !strings.Contains(string(body), "ok") {
			t.Fatalf("healthz: %d %s", res.StatusCode, body)
		}
		e.Do("GET", "/api/v1/me", "", nil)
		res, body = e.Get("/metrics")
		if res.StatusCode != 200 || !strings.Contains(string(body), `healthcode_http_requests_total{code="401",route="GET /api/v1/me"} 1`) {
			t.Fatalf("metrics do not count the request: %s", body)
		}
	})
}

func TestResidentRegistersAndManagesDependents(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		tok := e.ResidentToken("13900000001")
		e.Want(e.Do("GET", "/api/v1/me", tok, nil), 404, "not_registered")
		me := e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 31), "region": "341881001"}), 201, "")
		if me.Str("name") != "张*丰" || me.Str("id_number") != "3418**********"+rid("19850312", 31)[14:] || me.Str("phone") != "139****0001" {
			t.Fatalf("register answer is not masked as expected: %s", me.Raw)
		}
		if me.Str("region_name") != "安徽省宣城市宁国市西津街道" {
			t.Fatalf("region_name = %q", me.Str("region_name"))
		}
		got := e.Want(e.Do("GET", "/api/v1/me", tok, nil), 200, "")
		if got.Str("id") != me.Str("id") {
			t.Fatalf("/me id %q, registered %q", got.Str("id"), me.Str("id"))
		}
		e.Want(e.Do("POST", "/api/v1/me/register", tok, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 32)}), 409, "already_registered")

		// Dependents, up to the limit of 4.
		for i, name := range []string{"张老一", "张老二", "张老三", "张老四"} {
			e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
				"name": name, "id_type": "resident_id", "id_number": rid("19480101", 10+i), "relation": "parent"}), 201, "")
		}
		e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "张小宝", "id_type": "resident_id", "id_number": rid("20180606", 22), "relation": "child"}), 422, "dependents_limit")
		list := e.Want(e.Do("GET", "/api/v1/me/dependents", tok, nil), 200, "")
		deps := list.Body["dependents"].([]any)
		if len(deps) != 4 || deps[0].(map[string]any)["relation"] != "parent" {
			t.Fatalf("dependents: %s", list.Raw)
		}
		first := deps[0].(map[string]any)["id"].(string)

		// Another resident cannot remove or see them; the owner can remove.
		other := e.ResidentToken("13900000002")
		e.Want(e.Do("DELETE", "/api/v1/me/dependents/"+first, other, nil), 404, "person_not_found")
		e.Want(e.Do("DELETE", "/api/v1/me/dependents/"+first, tok, nil), 204, "")
		if n := len(e.Want(e.Do("GET", "/api/v1/me/dependents", tok, nil), 200, "").Body["dependents"].([]any)); n != 3 {
			t.Fatalf("%d dependents after removal, want 3", n)
		}
		// A family member can ask to manage the same (phone-less) dependent, name and number
		// matching; one of its managers consents (TestManagingSomeoneManagedNeedsConsent).
		e.Want(e.Do("POST", "/api/v1/me/dependents", other, map[string]any{
			"name": "张老二", "id_type": "resident_id", "id_number": rid("19480101", 11), "relation": "parent"}), 202, "")
		// But not a person who registered with their own phone.
		e.Want(e.Do("POST", "/api/v1/me/dependents", other, map[string]any{
			"name": "张三丰", "id_type": "resident_id", "id_number": rid("19850312", 31)}), 409, "person_exists")
	})
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		tok := e.ResidentToken("13900000003")
		valid := func() map[string]any {
			return map[string]any{"name": "李秀英", "id_type": "resident_id", "id_number": rid("19900721", 42)}
		}
		with := func(k string, v any) map[string]any { m := valid(); m[k] = v; return m }
		persons := e.Count("persons")
		audits := e.Count("audit_log")
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
				e.Want(e.Do("POST", "/api/v1/me/register", tok, c.body), c.status, c.code)
			})
		}
		e.Want(e.Do("POST", "/api/v1/me/register", "", valid()), 401, "unauthenticated")
		e.Want(e.Do("POST", "/api/v1/me/register", "hcr_forged", valid()), 401, "token_invalid")
		e.Want(e.Do("POST", "/api/v1/me/register", e.Admin(), valid()), 403, "resident_only")
		if e.Count("persons") != persons || e.Count("audit_log") != audits+1 { // +1: the admin login above
			t.Fatalf("refused requests wrote: persons %d -> %d, audit %d -> %d", persons, e.Count("persons"), audits, e.Count("audit_log"))
		}
		// A duplicate ID number is refused even for another phone.
		e.Want(e.Do("POST", "/api/v1/me/register", tok, valid()), 201, "")
		tok2 := e.ResidentToken("13900000004")
		e.Want(e.Do("POST", "/api/v1/me/register", tok2, with("name", "李秀")), 409, "person_exists")
		e.Want(e.Do("POST", "/api/v1/auth/otp", "", map[string]any{"phone": "12345"}), 400, "phone_length")
		e.Want(e.Do("GET", "/api/v1/no/such/thing", "", nil), 404, "route_not_found")
	})
}

func TestOperatorsAreScopedAndAudited(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		xijin := e.NewOperator("xijin", "health_officer", "341881001")
		gangkou := e.NewOperator("gangkou", "viewer", "341881100")

		p := e.Want(e.Do("POST", "/api/v1/admin/persons", xijin, map[string]any{
			"name": "王建国", "id_type": "resident_id", "id_number": rid("19781105", 13), "phone": "13900000005"}), 201, "")
		if p.Str("region") != "341881001" || p.Str("name") != "王建国" {
			t.Fatalf("health officer sees %s", p.Raw)
		}
		id := p.Str("id")
		e.Want(e.Do("POST", "/api/v1/admin/persons", xijin, map[string]any{
			"name": "赵敏", "id_type": "resident_id", "id_number": rid("19880614", 46), "region": "341881100"}), 403, "out_of_scope")
		e.Want(e.Do("POST", "/api/v1/admin/persons", gangkou, map[string]any{
			"name": "赵敏", "id_type": "resident_id", "id_number": rid("19880614", 46)}), 403, "forbidden")

		// Out of scope is indistinguishable from not found.
		e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, gangkou, nil), 404, "person_not_found")
		e.Want(e.Do("GET", "/api/v1/admin/persons/0000000000000", gangkou, nil), 404, "person_not_found")
		full := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, admin, nil), 200, "")
		if full.Str("id_number") != rid("19781105", 13) {
			t.Fatalf("admin should see the full number: %s", full.Raw)
		}
		viewer := e.NewOperator("cityviewer", "viewer", "341881")
		masked := e.Want(e.Do("GET", "/api/v1/admin/persons/"+id, viewer, nil), 200, "")
		if masked.Str("name") != "王*国" || strings.Contains(string(masked.Raw), rid("19781105", 13)) || strings.Contains(string(masked.Raw), "13900000005") {
			t.Fatalf("viewer sees unmasked data: %s", masked.Raw)
		}
		found := e.Want(e.Do("GET", "/api/v1/admin/persons?id_number="+rid("19781105", 13), viewer, nil), 200, "")
		if n := len(found.Body["persons"].([]any)); n != 1 {
			t.Fatalf("search by ID number found %d", n)
		}
		if n := len(e.Want(e.Do("GET", "/api/v1/admin/persons?phone=13900000005", gangkou, nil), 200, "").Body["persons"].([]any)); n != 0 {
			t.Fatalf("search outside scope found %d", n)
		}
		e.Want(e.Do("GET", "/api/v1/admin/persons?id_number=123", viewer, nil), 400, "")

		// Every read was audited, and the chain holds.
		log := e.Want(e.Do("GET", "/api/v1/admin/audit?subject=person:"+id, admin, nil), 200, "")
		reads := 0
		for _, en := range log.Body["entries"].([]any) {
			if en.(map[string]any)["action"] == "person.read" {
				reads++
			}
		}
		if reads != 2 {
			t.Fatalf("%d person.read entries, want 2 (admin, viewer): %s", reads, log.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/admin/audit", viewer, nil), 403, "forbidden")
	})
}

// A page larger than the server's maximum is the maximum, and the answer
// still says where the next page starts.
func TestPersonSearchPages(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		for i := range 52 {
			e.Want(e.Do("POST", "/api/v1/admin/persons", admin, map[string]any{
				"name": fmt.Sprintf("居民%d", i), "id_type": "resident_id", "id_number": rid("19800101", 300+i)}), 201, "")
		}
		page := func(query string) (int, string) {
			t.Helper()
			r := e.Want(e.Do("GET", "/api/v1/admin/persons?"+query, admin, nil), 200, "")
			return len(r.Body["persons"].([]any)), r.Str("next")
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
		e.Want(e.Do("GET", "/api/v1/admin/persons?limit=x", admin, nil), 400, "limit_invalid")
		e.Want(e.Do("GET", "/api/v1/admin/persons?limit=-1", admin, nil), 400, "limit_invalid")
	})
}

func TestVenuesAndCheckpoints(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		admin := e.Admin()
		v := e.Want(e.Do("POST", "/api/v1/admin/venues", admin, map[string]any{
			"name": "西津农贸市场", "kind": "market", "address": "宁国市西津街道", "region": "341881001"}), 201, "")
		token, poster := v.Str("venue_token"), v.Str("poster_url")
		if len(token) < 20 || v.Str("id") == "" || poster == "" {
			t.Fatalf("venue answer: %s", v.Raw)
		}
		res, png := e.Get(poster)
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
		if qr.GetText() != v.Str("checkin_url") || !strings.HasSuffix(qr.GetText(), "/c/"+token) {
			t.Fatalf("poster QR holds %q, want the check-in URL %q", qr.GetText(), v.Str("checkin_url"))
		}
		e.Want(e.Do("POST", "/api/v1/admin/venues", admin, map[string]any{"name": "x", "kind": "castle"}), 400, "kind_invalid")
		e.Want(e.Do("POST", "/api/v1/admin/venues", admin, map[string]any{"name": "x", "unit_uscc": "91340000MA2N0000X0"}), 400, "")
		rot := e.Want(e.Do("POST", "/api/v1/admin/venues/"+v.Str("id")+"/rotate-token", admin, nil), 200, "")
		if rot.Str("venue_token") == token {
			t.Fatal("rotation kept the token")
		}
		res, _ = e.Get(poster)
		if res.StatusCode != 410 {
			t.Fatalf("old poster still served: %d", res.StatusCode)
		}

		c := e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "西津街道办事处", "region": "341881001"}), 201, "")
		if !strings.HasPrefix(c.Str("api_key"), "hck_") {
			t.Fatalf("checkpoint answer: %s", c.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "未建", "built": false, "enabled": true}), 400, "enabled_not_built")
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "负号", "seq": -1}), 400, "seq_invalid")
		no := false
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints", admin, map[string]any{"name": "未建", "built": no, "enabled": no}), 201, "")
		table := e.Want(e.Do("GET", "/api/v1/admin/checkpoints", admin, nil), 200, "")
		if table.Body["total"] != 2.0 || table.Body["built"] != 1.0 || table.Body["enabled"] != 1.0 {
			t.Fatalf("checkpoint table totals: %s", table.Raw)
		}
		// The scanner learns where it stands from its key; an operator is
		// not a scanner.
		key := c.Str("api_key")
		where := e.Want(e.Do("GET", "/api/v1/verify/checkpoint", key, nil), 200, "")
		if where.Str("name") != "西津街道办事处" || where.Str("region") != "341881001" || where.Str("region_name") == "341881001" {
			t.Fatalf("the scanner's checkpoint: %s", where.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/verify/checkpoint", admin, nil), 403, "api_key_only")
		// A new key without disabling: the old one stops, the new one
		// signs in, the checkpoint stays enabled.
		renewed := e.Want(e.Do("POST", "/api/v1/admin/checkpoints/"+c.Str("id")+"/key", admin, nil), 200, "")
		fresh := renewed.Str("api_key")
		if !strings.HasPrefix(fresh, "hck_") || fresh == key || renewed.Body["checkpoint"].(map[string]any)["enabled"] != true {
			t.Fatalf("new key answer: %s", renewed.Raw)
		}
		e.Want(e.Do("GET", "/api/v1/verify/checkpoint", key, nil), 401, "")
		e.Want(e.Do("GET", "/api/v1/verify/checkpoint", fresh, nil), 200, "")
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints/nosuch/key", admin, nil), 404, "checkpoint_not_found")
		// Disabling revokes the key.
		e.Want(e.Do("PATCH", "/api/v1/admin/checkpoints/"+c.Str("id"), admin, map[string]any{"enabled": false}), 200, "")
		e.Want(e.Do("POST", "/api/v1/admin/checkpoints/"+c.Str("id")+"/key", admin, nil), 409, "checkpoint_disabled")
		var revoked int
		e.App.DB.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL`).Scan(&revoked)
		if revoked != 2 {
			t.Fatalf("%d revoked keys, want 2 (the unbuilt one and the disabled one)", revoked)
		}
	})
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	doc := e.Want(e.Do("GET", "/api/v1/openapi.json", "", nil), 200, "")
	paths := doc.Body["paths"].(map[string]any)
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
