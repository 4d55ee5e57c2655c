package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/rules"
	"github.com/healthcode/healthcode/internal/server"
	"github.com/healthcode/healthcode/internal/server/servertest"
	"github.com/healthcode/healthcode/internal/status"
)

// fakeStatus stands in for the status engine: colors set by the test,
// facts validated as the engine would and kept.
type fakeStatus struct {
	mu      sync.Mutex
	colors  map[int64]rules.Color
	version map[int64]uint64
	facts   []status.NewFact
	keys    map[string]bool
}

func newFakeStatus() *fakeStatus {
	return &fakeStatus{colors: map[int64]rules.Color{}, version: map[int64]uint64{}, keys: map[string]bool{}}
}

func (f *fakeStatus) Color(num int64) (rules.Color, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.colors[num]; ok {
		return c, f.version[num]
	}
	return rules.Green, 0
}

func (f *fakeStatus) set(num int64, c rules.Color) {
	f.mu.Lock()
	f.colors[num] = c
	f.version[num]++
	f.mu.Unlock()
}

func (f *fakeStatus) Record(_ context.Context, facts ...status.NewFact) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, nf := range facts {
		if err := nf.Fact.Validate(); err != nil {
			return 0, err
		}
		if nf.Key != "" && f.keys[nf.Key] {
			continue
		}
		f.keys[nf.Key] = true
		f.facts = append(f.facts, nf)
		n++
	}
	return n, nil
}

func (f *fakeStatus) recorded() []status.NewFact {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]status.NewFact(nil), f.facts...)
}

// fakeCheckins stands in for the check-in recorder's group commit.
type fakeCheckins struct {
	mu sync.Mutex
	vs []checkin.Verification
}

func (f *fakeCheckins) RecordVerification(_ context.Context, v checkin.Verification) error {
	f.mu.Lock()
	f.vs = append(f.vs, v)
	f.mu.Unlock()
	return nil
}

func (f *fakeCheckins) last() checkin.Verification {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.vs) == 0 {
		return checkin.Verification{}
	}
	return f.vs[len(f.vs)-1]
}

type codesEnv struct {
	*env
	status   *fakeStatus
	checkins *fakeCheckins
}

func withFakes(st *fakeStatus, ck *fakeCheckins) func(*server.Config) {
	return func(c *server.Config) { c.Colors, c.Facts, c.Verifications = st, st, ck }
}

// forEachCodes runs fn on a fresh server on each engine, with the status
// engine and the check-in recorder faked.
func forEachCodes(t *testing.T, fn func(t *testing.T, e *codesEnv)) {
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			st, ck := newFakeStatus(), &fakeCheckins{}
			fn(t, &codesEnv{env: newEnv(t, engine, withFakes(st, ck)), status: st, checkins: ck})
		})
	}
}

// resident logs a phone in and registers its person; it returns the token
// and the person's public id.
func (e *codesEnv) resident(phone, name, id string) (token, personID string) {
	e.t.Helper()
	return e.Resident(phone, name, id, "")
}

func (e *codesEnv) num(personID string) int64 {
	e.t.Helper()
	n, err := e.App.Persons.Handles().ParseID(personID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// checkpoint adds a checkpoint and returns its id and API key.
func (e *codesEnv) checkpoint(name string, scopes ...string) (id, key string) {
	e.t.Helper()
	return e.Checkpoint(e.Admin(), name, "341881001", scopes...)
}

// verify posts a code (and a temperature, if not nil) with the key.
func (e *codesEnv) verify(key, c string, temp any) resp {
	e.t.Helper()
	body := map[string]any{"code": c}
	if temp != nil {
		body["temperature"] = temp
	}
	return e.Want(e.Do("POST", "/api/v1/verify", key, body), 200, "")
}

func reasons(r resp) []string {
	var out []string
	for _, x := range r.Body["reasons"].([]any) {
		out = append(out, x.(string))
	}
	return out
}

func (e *codesEnv) wantVerdict(r resp, valid, admitted bool, color string, why ...string) {
	e.t.Helper()
	got := reasons(r)
	if r.Body["valid"] != valid || r.Body["admitted"] != admitted || fmt.Sprint(got) != fmt.Sprint(why) ||
		(color == "" && r.Body["color"] != nil) || (color != "" && r.Str("color") != color) {
		e.t.Fatalf("verify answered %s, want valid=%v admitted=%v color=%q reasons=%v", r.Raw, valid, admitted, color, why)
	}
}

// readQR decodes a PNG with gozxing, a decoder independent of the encoder.
func readQR(t testing.TB, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		// gozxing's finder search misses a few clean symbols of these
		// versions (see internal/codeformat/qr_test.go); the pure-barcode mode
		// reads a clean render without it.
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		t.Fatalf("gozxing cannot read the QR: %v", err)
	}
	return res.GetText()
}

// getPNG fetches an image with a token.
func (e *codesEnv) getPNG(path, token string) (string, http.Header) {
	e.t.Helper()
	res, b := e.GetAuth(path, token)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		e.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return readQR(e.t, b), res.Header
}

// trustList fetches GET /trust-list, as an offline verifier would.
func (e *codesEnv) trustList() codeformat.TrustList {
	e.t.Helper()
	res, body := e.Get("/api/v1/trust-list")
	var tl codeformat.TrustList
	if res.StatusCode != 200 {
		e.t.Fatalf("trust list: %d %s", res.StatusCode, body)
	}
	if err := json.Unmarshal(body, &tl); err != nil {
		e.t.Fatalf("trust list: %v\n%s", err, body)
	}
	return tl
}

func offline(tl codeformat.TrustList, c string, at time.Time) codeformat.Result {
	return codeformat.NewVerifier(tl, codeformat.Options{}).Verify(c, at)
}

// alter changes one byte of the signed payload and packs the code again
// without signing it: what a forger who edits a colour or a name makes.
func alter(t *testing.T, c string) string {
	t.Helper()
	z, err := codeformat.Base45Decode(strings.TrimPrefix(c, codeformat.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	cose, err := codeformat.Decompress(z)
	if err != nil {
		t.Fatal(err)
	}
	d, err := codeformat.Decode(c)
	if err != nil {
		t.Fatal(err)
	}
	// The masked name in the signed payload; a lone '*' byte could as well
	// be in the unsigned MAC.
	name := []byte(d.Claims.MaskedName)
	i := bytes.Index(cose, name)
	if i < 0 || bytes.Count(cose, name) != 1 {
		t.Fatal("the masked name is not once in the code")
	}
	cose[i+bytes.IndexByte(name, '*')] = '_'
	return codeformat.Prefix + codeformat.Base45Encode(codeformat.Compress(cose))
}

func TestResidentCodeVerifiesOnlineAndOffline(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		tok, pid := e.resident("13900000101", "张三丰", rid("19850312", 101))
		num := e.num(pid)
		cpID, key := e.checkpoint("西津街道卡口")

		got := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "")
		exp, _ := time.Parse(time.RFC3339, got.Str("expires_at"))
		if !strings.HasPrefix(got.Str("code"), "JKM1:") || got.Str("kind") != "dynamic" || got.Str("color") != "green" ||
			got.Str("masked_name") != "张*丰" || time.Until(exp) < 2*time.Minute || time.Until(exp) > 3*time.Minute {
			t.Fatalf("GET /me/code: %s", got.Raw)
		}

		// The PNG holds a code that an independent QR decoder reads, and
		// that verifies online and offline.
		scanned, hdr := e.getPNG("/api/v1/me/code.png", tok)
		if !strings.HasPrefix(scanned, "JKM1:") || hdr.Get("X-Code-Expires-At") == "" || hdr.Get("Cache-Control") != "no-store" {
			t.Fatalf("QR holds %q, headers %v", scanned, hdr)
		}
		r := e.verify(key, scanned, nil)
		e.wantVerdict(r, true, true, "green")
		if r.Str("masked_name") != "张*丰" || r.Str("kind") != "dynamic" || r.Str("issuer") != "341881" || r.Str("expires_at") == "" {
			t.Fatalf("verify: %s", r.Raw)
		}
		if v := e.checkins.last(); v.Checkpoint != cpID || v.Person != num || !v.Valid || v.Color != rules.Green || v.Kind != "dynamic" {
			t.Fatalf("verification event %+v", v)
		}
		tl := e.trustList()
		if len(tl) != 1 {
			t.Fatalf("trust list has %d keys", len(tl))
		}
		if res := offline(tl, scanned, time.Now()); !res.Valid || res.ByMAC {
			t.Fatalf("offline: %+v", res)
		}
		// A scanner gun's CR/LF is trimmed.
		e.wantVerdict(e.verify(key, scanned+"\r\n", nil), true, true, "green")

		// A colour change shows at the next online verify of the same code.
		e.status.set(num, rules.Red)
		e.wantVerdict(e.verify(key, scanned, nil), true, false, "red", "color_red")
		if v := e.checkins.last(); v.Color != rules.Red {
			t.Fatalf("event colour %v, want red", v.Color)
		}
		e.status.set(num, rules.Yellow)
		e.wantVerdict(e.verify(key, scanned, nil), true, false, "yellow", "color_yellow")
		e.status.set(num, rules.Green)

		// Altered, expired, foreign-key and garbage codes, each with its reason.
		e.wantVerdict(e.verify(key, alter(t, scanned), nil), false, false, "", "bad_signature")
		if v := e.checkins.last(); v.Valid || v.Person != 0 || v.Reason != "bad_signature" {
			t.Fatalf("event of a forged code %+v", v)
		}
		if res := offline(tl, alter(t, scanned), time.Now()); res.Valid || res.Reasons[0] != codeformat.ReasonBadSignature {
			t.Fatalf("offline altered: %+v", res)
		}
		later := time.Now().Add(4 * time.Minute)
		e.App.Codes.SetClock(func() time.Time { return later })
		r = e.verify(key, scanned, nil)
		e.wantVerdict(r, false, false, "", "expired")
		if r.Str("masked_name") != "张*丰" {
			t.Fatalf("an expired code still shows whose it is: %s", r.Raw)
		}
		e.App.Codes.SetClock(time.Now)
		foreignKey, _ := codeformat.GenerateKey(codeformat.AlgEdDSA)
		foreign, _ := codeformat.NewSigner(foreignKey)
		now := time.Now()
		forged, err := codeformat.Encode(codeformat.Claims{Issuer: "341881", IssuedAt: now, Expires: now.Add(time.Minute), ID: codeformat.NewID(),
			Handle: e.App.Persons.Handles().Handle(num), Color: codeformat.ColorGreen, MaskedName: "张*丰", Kind: codeformat.KindDynamic}, foreign, nil)
		if err != nil {
			t.Fatal(err)
		}
		r = e.verify(key, forged, nil)
		e.wantVerdict(r, false, false, "", "unknown_key")
		if r.Body["masked_name"] != nil {
			t.Fatalf("a forged code's claims are shown: %s", r.Raw)
		}
		e.wantVerdict(e.verify(key, "hello", nil), false, false, "", "bad_prefix")
		e.wantVerdict(e.verify(key, "JKM1:lower", nil), false, false, "", "bad_base45")

		// Temperature: 37.3 °C or more is not admitted and is a fact.
		fixed := time.Now()
		e.App.Codes.SetClock(func() time.Time { return fixed })
		e.wantVerdict(e.verify(key, scanned, 36.6), true, true, "green")
		e.wantVerdict(e.verify(key, scanned, 37.3), true, false, "green", "fever")
		e.verify(key, scanned, 37.3) // a scanner's retry is not a second reading
		facts := e.status.recorded()
		if len(facts) != 1 || facts[0].Person != num || facts[0].Fact.Kind != fact.Temperature ||
			facts[0].Fact.Attrs["celsius"] != 37.3 || facts[0].Fact.Attrs["checkpoint"] != cpID || !strings.HasPrefix(facts[0].RecordedBy, "apikey:") {
			t.Fatalf("temperature facts %+v", facts)
		}
		e.wantVerdict(e.verify(key, "hello", 38.0), false, false, "", "bad_prefix", "fever")
		if len(e.status.recorded()) != 1 {
			t.Fatal("a fever with an invalid code was attributed to someone")
		}
		e.App.Codes.SetClock(time.Now)

		// Resolve, for features that bind a person by their code.
		if n, k, err := e.App.Codes.Resolve(context.Background(), scanned+"\n"); err != nil || n != num || k != codeformat.KindDynamic {
			t.Fatalf("Resolve: %d %v %v", n, k, err)
		}
		if _, _, err := e.App.Codes.Resolve(context.Background(), alter(t, scanned)); !errors.Is(err, codes.ErrCodeInvalid) || !strings.Contains(err.Error(), "bad_signature") {
			t.Fatalf("Resolve of an altered code: %v", err)
		}
	})
}

func TestVerifyRefusesBadRequests(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		tok, _ := e.resident("13900000102", "李四", rid("19900101", 102))
		_, key := e.checkpoint("卡口")
		_, idOnly := e.checkpoint("身份证核验点", auth.ScopeVerifyID)
		c := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
		for _, tc := range []struct {
			name   string
			token  string
			body   any
			status int
			code   string
		}{
			{"no credential", "", map[string]any{"code": c}, 401, "unauthenticated"},
			{"a resident", tok, map[string]any{"code": c}, 403, "api_key_only"},
			{"a key without the scope", idOnly, map[string]any{"code": c}, 403, "scope_missing"},
			{"empty body", key, "", 400, "empty_body"},
			{"not an object", key, `["x"]`, 400, "invalid_json"},
			{"truncated", key, `{"code":"JKM1:`, 400, "invalid_json"},
			{"trailing data", key, `{"code":"x"} {}`, 400, "invalid_json"},
			{"code not a string", key, `{"code":5}`, 400, "invalid_field"},
			{"unknown field", key, `{"code":"x","colour":"green"}`, 400, "unknown_field"},
			{"repeated field", key, `{"code":"x","code":"y"}`, 400, "duplicate_field"},
			{"no code", key, `{"temperature":36.5}`, 400, "code_missing"},
			{"only CR/LF", key, `{"code":"\r\n"}`, 400, "code_missing"},
			{"temperature text", key, `{"code":"x","temperature":"37"}`, 400, "invalid_field"},
			{"temperature too high", key, map[string]any{"code": c, "temperature": 50}, 400, "temperature_out_of_range"},
			{"temperature too low", key, map[string]any{"code": c, "temperature": 3.65}, 400, "temperature_out_of_range"},
			{"temperature overflow", key, `{"code":"x","temperature":1e999}`, 400, "temperature_out_of_range"},
			{"huge body", key, `{"code":"` + strings.Repeat("A", 9000) + `"}`, 413, "body_too_large"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.Want(e.Do("POST", "/api/v1/verify", tc.token, tc.body), tc.status, tc.code)
			})
		}
		// A body declared as something other than JSON.
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/verify", strings.NewReader(c))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "text/plain")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 415 {
			t.Fatalf("text/plain body: %d", res.StatusCode)
		}
		// An escaped code is read as the code it spells.
		esc := strings.Replace(c, "JKM1:", `JKM1\u003a`, 1)
		e.wantVerdict(e.Want(e.Do("POST", "/api/v1/verify", key, `{"temperature":null,"code":"`+esc+`"}`), 200, ""), true, true, "green")
	})
}

func TestDependentCodes(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		tok, _ := e.resident("13900000103", "王五", rid("19800101", 103))
		_, key := e.checkpoint("卡口")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "王老太", "id_type": "resident_id", "id_number": rid("19400101", 104), "relation": "parent"}), 201, "").Str("id")
		c := e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/code", tok, nil), 200, "")
		if c.Str("masked_name") != "王*太" {
			t.Fatalf("dependent code: %s", c.Raw)
		}
		r := e.verify(key, c.Str("code"), nil)
		e.wantVerdict(r, true, true, "green")
		if r.Str("masked_name") != "王*太" {
			t.Fatalf("verify: %s", r.Raw)
		}
		scanned, _ := e.getPNG("/api/v1/me/dependents/"+dep+"/code.png", tok)
		e.wantVerdict(e.verify(key, scanned, nil), true, true, "green")

		other := e.ResidentToken("13900000104")
		e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/code", other, nil), 404, "person_not_found")
		e.Want(e.Do("GET", "/api/v1/me/code", other, nil), 404, "not_registered")
		e.Want(e.Do("GET", "/api/v1/me/code.png?size=5", tok, nil), 400, "size_invalid")
	})
}

func TestCareCodes(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		tok, _ := e.resident("13900000105", "赵六", rid("19750101", 105))
		_, key := e.checkpoint("卡口")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "赵老汉", "id_type": "resident_id", "id_number": rid("19450101", 106), "relation": "parent"}), 201, "").Str("id")
		num := e.num(dep)

		cc := e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-code", tok, nil), 201, "")
		exp, _ := time.Parse(time.RFC3339, cc.Str("expires_at"))
		if cc.Str("kind") != "care" || cc.Str("state") != "valid" || cc.Str("masked_name") != "赵*汉" ||
			time.Until(exp) < 14*24*time.Hour-time.Minute || time.Until(exp) > 14*24*time.Hour {
			t.Fatalf("care code: %s", cc.Raw)
		}
		care, id := cc.Str("code"), cc.Str("id")
		// Printed: the QR holds the same code.
		if scanned, _ := e.getPNG("/api/v1/me/dependents/"+dep+"/care-codes/"+id+"/qr.png", tok); scanned != care {
			t.Fatal("the printed QR does not hold the care code")
		}
		// Online it is valid and shows the current colour, which it does not carry.
		r := e.verify(key, care, nil)
		e.wantVerdict(r, true, true, "green")
		if r.Str("kind") != "care" || r.Str("masked_name") != "赵*汉" {
			t.Fatalf("verify care: %s", r.Raw)
		}
		e.status.set(num, rules.Yellow)
		e.wantVerdict(e.verify(key, care, nil), true, false, "yellow", "color_yellow")
		e.status.set(num, rules.Green)
		// Offline it is never valid.
		if res := offline(e.trustList(), care, time.Now()); res.Valid || fmt.Sprint(res.Reasons) != "[wrong_kind]" {
			t.Fatalf("offline care code: %+v", res)
		}
		// Two weeks on it has expired.
		e.App.Codes.SetClock(func() time.Time { return time.Now().Add(14*24*time.Hour + time.Minute) })
		e.wantVerdict(e.verify(key, care, nil), false, false, "", "expired")
		e.App.Codes.SetClock(time.Now)

		// Only the family that manages the dependent can see or revoke it.
		other := e.ResidentToken("13900000106")
		e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/"+id+"/revoke", other, nil), 404, "person_not_found")
		list := e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/care-codes", tok, nil), 200, "")
		if cs := list.Body["care_codes"].([]any); len(cs) != 1 || cs[0].(map[string]any)["code"] != nil {
			t.Fatalf("list: %s", list.Raw)
		}
		rv := e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/"+id+"/revoke", tok, nil), 200, "")
		if rv.Str("state") != "revoked" || rv.Str("revoked_at") == "" {
			t.Fatalf("revoke: %s", rv.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/"+id+"/revoke", tok, nil), 200, "")
		e.wantVerdict(e.verify(key, care, nil), false, false, "", "revoked")
		e.Want(e.Do("GET", "/api/v1/me/dependents/"+dep+"/care-codes/"+id+"/qr.png", tok, nil), 422, "care_code_revoked")
		e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/0000000000000000/revoke", tok, nil), 404, "care_code_not_found")
		e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/nothex/revoke", tok, nil), 404, "care_code_not_found")

		// At a service desk: an operator with person.write in scope issues
		// one for someone without a phone; it is audited and revocable.
		admin := e.Admin()
		p := e.Want(e.Do("POST", "/api/v1/admin/persons", admin, map[string]any{
			"name": "钱七", "id_type": "resident_id", "id_number": rid("19500101", 107), "region": "341881001"}), 201, "").Str("id")
		xijin := e.NewOperator("xijin", "sampler", "341881001")
		gangkou := e.NewOperator("gangkou", "health_officer", "341881100")
		viewer := e.NewOperator("viewer", "viewer", "341881")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", viewer, nil), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", gangkou, nil), 404, "person_not_found")
		desk := e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", xijin, nil), 201, "")
		// A person holds at most three valid care codes at once.
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", xijin, nil), 201, "")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", xijin, nil), 201, "")
		e.Want(e.Do("POST", "/api/v1/admin/persons/"+p+"/care-code", xijin, nil), 422, "care_codes_limit")
		e.wantVerdict(e.verify(key, desk.Str("code"), nil), true, true, "green")
		if scanned, _ := e.getPNG("/api/v1/admin/care-codes/"+desk.Str("id")+"/qr.png", xijin); scanned != desk.Str("code") {
			t.Fatal("the reprinted QR does not hold the care code")
		}
		e.Want(e.Do("GET", "/api/v1/admin/care-codes/"+desk.Str("id")+"/qr.png", gangkou, nil), 404, "care_code_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/care-codes/"+desk.Str("id")+"/revoke", gangkou, nil), 404, "care_code_not_found")
		e.Want(e.Do("POST", "/api/v1/admin/care-codes/"+desk.Str("id")+"/revoke", viewer, nil), 403, "forbidden")
		e.Want(e.Do("POST", "/api/v1/admin/care-codes/"+desk.Str("id")+"/revoke", xijin, nil), 200, "")
		e.wantVerdict(e.verify(key, desk.Str("code"), nil), false, false, "", "revoked")
		listed := e.Want(e.Do("GET", "/api/v1/admin/persons/"+p+"/care-codes", viewer, nil), 200, "")
		states := map[string]int{}
		for _, c := range listed.Body["care_codes"].([]any) {
			states[c.(map[string]any)["state"].(string)]++
		}
		if states["valid"] != 2 || states["revoked"] != 1 || len(states) != 2 {
			t.Fatalf("admin list: %s", listed.Raw)
		}
		var audits int
		e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN
			('care_code.issue', 'care_code.revoke', 'care_code.print')`).Scan(&audits)
		if audits != 7 { // four issued, two revoked, one reprint
			t.Fatalf("%d care-code audit entries, want 7", audits)
		}
	})
}

func TestVerifyByIDNumber(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		_, pid := e.resident("13900000108", "孙八", rid("19600101", 108))
		cpID, key := e.checkpoint("身份证核验点")
		_, codeOnly := e.checkpoint("扫码卡口", auth.ScopeVerify)
		body := map[string]any{"id_type": "resident_id", "id_number": rid("19600101", 108)}
		e.Want(e.Do("POST", "/api/v1/verify/id", codeOnly, body), 403, "scope_missing")
		r := e.Want(e.Do("POST", "/api/v1/verify/id", key, body), 200, "")
		e.wantVerdict(r, true, true, "green")
		if r.Str("kind") != "id" || r.Str("masked_name") != "孙*" || r.Body["expires_at"] != nil {
			t.Fatalf("verify/id: %s", r.Raw)
		}
		if v := e.checkins.last(); v.Kind != "id" || v.Person != e.num(pid) || v.Checkpoint != cpID {
			t.Fatalf("event %+v", v)
		}
		e.status.set(e.num(pid), rules.Red)
		body["temperature"] = 38.2
		e.wantVerdict(e.Want(e.Do("POST", "/api/v1/verify/id", key, body), 200, ""), true, false, "red", "fever", "color_red")
		if fs := e.status.recorded(); len(fs) != 1 || fs[0].Person != e.num(pid) {
			t.Fatalf("facts %+v", fs)
		}
		e.Want(e.Do("POST", "/api/v1/verify/id", key, map[string]any{"id_type": "resident_id", "id_number": rid("19600101", 109)}), 404, "id_not_registered")
		e.Want(e.Do("POST", "/api/v1/verify/id", key, map[string]any{"id_type": "resident_id", "id_number": badCheck("19600101", 108)}), 400, "")
		e.Want(e.Do("POST", "/api/v1/verify/id", key, map[string]any{"id_type": "library_card", "id_number": "1"}), 400, "")
		var found, missed int
		e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'person.verify_id' AND subject = $1`, "person:"+pid).Scan(&found)
		e.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'person.verify_id' AND subject = ''`).Scan(&missed)
		if found != 2 || missed != 1 {
			t.Fatalf("audited %d lookups and %d misses, want 2 and 1", found, missed)
		}
		var detail string
		e.App.DB.QueryRowContext(context.Background(), `SELECT detail FROM audit_log WHERE action = 'person.verify_id' AND subject = ''`).Scan(&detail)
		if strings.Contains(detail, rid("19600101", 109)) {
			t.Fatalf("the audit log holds an unmasked ID number: %s", detail)
		}
	})
}

func TestTrustListAndRotationThroughTheAPI(t *testing.T) {
	t.Parallel()
	forEachCodes(t, func(t *testing.T, e *codesEnv) {
		ctx := context.Background()
		tok, _ := e.resident("13900000110", "周九", rid("19700101", 110))
		_, key := e.checkpoint("卡口")
		dep := e.Want(e.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
			"name": "周奶奶", "id_type": "resident_id", "id_number": rid("19420101", 111)}), 201, "").Str("id")
		// A fresh server made an Ed25519 key.
		tl := e.trustList()
		first := e.App.CodeKeys.Signer()
		if len(tl) != 1 || first.Alg() != codeformat.AlgEdDSA || tl[first.KeyID()].Issuer != "341881" {
			t.Fatalf("fresh trust list: %v", tl)
		}
		_, raw := e.Get("/api/v1/trust-list")
		for _, field := range []string{`"kid":"` + keys.KID(first.KeyID()) + `"`, `"alg":"EdDSA"`, `"public_key":"`, `"issuer":"341881"`, `"not_before":"`} {
			if !bytes.Contains(raw, []byte(field)) {
				t.Fatalf("trust list lacks %s: %s", field, raw)
			}
		}
		care := e.Want(e.Do("POST", "/api/v1/me/dependents/"+dep+"/care-code", tok, nil), 201, "").Str("code")

		// Rotate through each algorithm: every one issues codes that
		// verify online and offline.
		now := time.Now()
		clock := func() time.Time { return now }
		e.App.CodeKeys.SetClock(clock)
		e.App.Codes.SetClock(clock)
		for _, alg := range []codeformat.Alg{codeformat.AlgSM2, codeformat.AlgES256, codeformat.AlgEdDSA} {
			r, err := e.App.CodeKeys.Rotate(ctx, alg, "test")
			if err != nil {
				t.Fatal(err)
			}
			now = r.SwitchAt
			c := e.Want(e.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
			d, err := codeformat.Decode(c)
			if err != nil || d.Alg != alg || keys.KID(d.KeyID) != r.New.KID {
				t.Fatalf("after rotating to %v the code is signed with %v (%v)", alg, d.Alg, err)
			}
			e.wantVerdict(e.verify(key, c, nil), true, true, "green")
			if res := offline(e.trustList(), c, now); !res.Valid {
				t.Fatalf("%v offline: %v", alg, res.Reasons)
			}
			// The first care code, signed by the first key, still verifies.
			e.wantVerdict(e.verify(key, care, nil), true, true, "green")
		}
		if n := len(e.trustList()); n != 4 {
			t.Fatalf("trust list has %d keys after three rotations, want 4", n)
		}
		// Once every code the old keys signed has expired they drop out.
		now = now.Add(14*24*time.Hour + 10*time.Minute)
		if err := e.App.CodeKeys.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		tl = e.trustList()
		if _, ok := tl[first.KeyID()]; ok || len(tl) != 1 {
			t.Fatalf("retired keys still published: %d keys", len(tl))
		}
		e.wantVerdict(e.verify(key, care, nil), false, false, "", "unknown_key", "expired")
	})
}

// TestSecondNodeFollows runs two servers on one store: a rotation and a
// revocation made on one reach the other at its periodic reload.
func TestSecondNodeFollows(t *testing.T) {
	t.Parallel()
	for _, engine := range dbtest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			st, ck := newFakeStatus(), &fakeCheckins{}
			a := &codesEnv{env: newEnv(t, engine, withFakes(st, ck)), status: st, checkins: ck}
			b := secondNode(t, a.env)
			ctx := context.Background()
			tok, _ := a.resident("13900000112", "吴十", rid("19650101", 112))
			_, key := a.checkpoint("卡口")
			dep := a.Want(a.Do("POST", "/api/v1/me/dependents", tok, map[string]any{
				"name": "吴爷爷", "id_type": "resident_id", "id_number": rid("19380101", 113)}), 201, "").Str("id")
			cc := a.Want(a.Do("POST", "/api/v1/me/dependents/"+dep+"/care-code", tok, nil), 201, "")
			b.wantVerdict(b.verify(key, cc.Str("code"), nil), true, true, "green")
			a.Want(a.Do("POST", "/api/v1/me/dependents/"+dep+"/care-codes/"+cc.Str("id")+"/revoke", tok, nil), 200, "")
			a.wantVerdict(a.verify(key, cc.Str("code"), nil), false, false, "", "revoked")
			if err := b.App.Codes.RefreshRevocations(ctx); err != nil {
				t.Fatal(err)
			}
			b.wantVerdict(b.verify(key, cc.Str("code"), nil), false, false, "", "revoked")

			r, err := a.App.CodeKeys.Rotate(ctx, codeformat.AlgSM2, "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(b.trustList()) != 1 {
				t.Fatal("node b changed before reloading")
			}
			if err := b.App.CodeKeys.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if len(b.trustList()) != 2 {
				t.Fatal("node b does not publish the new key after reloading")
			}
			switched := func() time.Time { return r.SwitchAt }
			for _, n := range []*codesEnv{a, b} {
				n.App.CodeKeys.SetClock(switched)
				n.App.Codes.SetClock(switched)
			}
			// Codes of either node verify on the other, by MAC.
			c := b.Want(b.Do("GET", "/api/v1/me/code", tok, nil), 200, "").Str("code")
			if d, _ := codeformat.Decode(c); keys.KID(d.KeyID) != r.New.KID {
				t.Fatal("node b does not sign with the new key after the switch")
			}
			a.wantVerdict(a.verify(key, c, nil), true, true, "green")
		})
	}
}

// secondNode starts another server on the store and master key of first.
func secondNode(t *testing.T, first *env) *codesEnv {
	t.Helper()
	st, ck := newFakeStatus(), &fakeCheckins{}
	return &codesEnv{env: &env{Server: first.Another(t, servertest.WithConfig(withFakes(st, ck))), t: t}, status: st, checkins: ck}
}

// Benchmarks of the hot paths against a bare net/http handler, in one
// process over loopback with the same client: the design asks /verify for
// at least 50% and GET /me/code for at least 40% of the bare rate.

type benchEnv struct {
	url, resident, apiKey, code string
	client                      *http.Client
	bare                        *httptest.Server
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	// The product's own services: colors from the status cache, and every
	// scan recorded durably through the group commit, as in production.
	s := servertest.Start(b, db.SQLite)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	b.Cleanup(bare.Close)
	be := &benchEnv{url: s.URL, bare: bare,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
	be.resident, _ = s.Resident("13900000199", "张三丰", rid("19850312", 199), "")
	_, be.apiKey = s.Checkpoint(s.Admin(), "卡口", "341881001")
	be.code = s.Want(s.Do("GET", "/api/v1/me/code", be.resident, nil), 200, "").Str("code")
	return be
}

func (be *benchEnv) do(b *testing.B, method, url, token string, body []byte, want int) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// b.Error, not b.Fatal: this runs on RunParallel's goroutines.
	res, err := be.client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want || n == 0 {
		b.Errorf("%s %s: %d", method, url, res.StatusCode)
	}
}

func (be *benchEnv) bareReq(b *testing.B) { be.do(b, "POST", be.bare.URL, "", []byte(`{"x":1}`), 200) }
func (be *benchEnv) verifyReq(b *testing.B, body []byte) {
	be.do(b, "POST", be.url+"/api/v1/verify", be.apiKey, body, 200)
}
func (be *benchEnv) codeReq(b *testing.B) {
	be.do(b, "GET", be.url+"/api/v1/me/code", be.resident, nil, 200)
}

// BenchmarkHotPaths measures each path alone (requests/s from the ns/op of
// parallel clients).
func BenchmarkHotPaths(b *testing.B) {
	be := newBenchEnv(b)
	body, _ := json.Marshal(map[string]any{"code": be.code + "\r\n"})
	paths := []struct {
		name string
		req  func(*testing.B)
	}{
		{"bare", be.bareReq},
		{"verify", func(b *testing.B) { be.verifyReq(b, body) }},
		{"me_code", be.codeReq},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.req(b)
				}
			})
		})
	}
}

// BenchmarkHotPathsVsBare alternates short bursts of bare requests and of
// hot-path requests (each burst: the same number of requests from the same
// concurrent clients), so that both rates are taken under the same machine
// load, and reports the hot path's rate as a percentage of the bare
// handler's. One op is one burst of each.
func BenchmarkHotPathsVsBare(b *testing.B) {
	be := newBenchEnv(b)
	body, _ := json.Marshal(map[string]any{"code": be.code + "\r\n"})
	const clients, perClient = 4, 16
	burst := func(req func(*testing.B)) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perClient {
					req(b)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	for _, p := range []struct {
		name string
		req  func(*testing.B)
	}{
		{"verify", func(b *testing.B) { be.verifyReq(b, body) }},
		{"me_code", be.codeReq},
	} {
		b.Run(p.name, func(b *testing.B) {
			var bareT, pathT time.Duration
			for b.Loop() {
				bareT += burst(be.bareReq)
				pathT += burst(p.req)
			}
			n := float64(b.N * clients * perClient)
			b.ReportMetric(n/bareT.Seconds(), "bare-req/s")
			b.ReportMetric(n/pathT.Seconds(), p.name+"-req/s")
			b.ReportMetric(100*bareT.Seconds()/pathT.Seconds(), "%-of-bare")
		})
	}
}
