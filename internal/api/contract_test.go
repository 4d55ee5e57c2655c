package api

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/rules"
)

// The hot paths write their JSON by hand. These tests hold each to its
// declared type, byte for byte as writeJSON would write that type, and to
// the type's schema in the document.

// encodeLikeWriteJSON is what writeJSON would send for v.
func encodeLikeWriteJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkSchema validates a JSON body against a component of the document.
func checkSchema(t *testing.T, doc *openapi3.T, component string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	s := doc.Components.Schemas[component]
	if s == nil {
		t.Fatalf("no component %s", component)
	}
	if err := s.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s does not match %s: %v", body, component, err)
	}
}

func TestVerifyJSONIsTheDeclaredType(t *testing.T) {
	doc := loadDocument(t)
	exp := time.Date(2022, 4, 1, 8, 3, 0, 0, time.UTC)
	for _, r := range []codes.Result{
		{Valid: true, Admitted: true, Color: rules.Green, MaskedName: "张*离", Kind: "dynamic", Issuer: "341881", ExpiresAt: exp},
		{Valid: true, Color: rules.Red, MaskedName: `a"b<&>`, Kind: "care", Issuer: "341881", ExpiresAt: exp.In(time.FixedZone("CST", 8*3600)),
			Reasons: []string{"fever", "color_red"}},
		{Reasons: []string{"bad_prefix"}},
		{},
		{Valid: true, Admitted: true, Color: rules.Yellow, MaskedName: "x\u2028y", Kind: "id", Issuer: "341881"},
	} {
		got := appendResult(nil, &r)
		want := encodeLikeWriteJSON(t, verifyResponse(&r))
		if !bytes.Equal(got, want) {
			t.Errorf("appendResult writes\n%s\nthe declared VerifyResponse is\n%s", got, want)
		}
		checkSchema(t, doc, "VerifyResponse", got)
	}
}

func TestCodeJSONIsTheDeclaredType(t *testing.T) {
	doc := loadDocument(t)
	at := time.Date(2022, 4, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for _, iss := range []codes.Issued{
		{Code: "JKM1:ABC", Kind: codeformat.KindDynamic, Color: rules.Green, MaskedName: "张*离", IssuedAt: at, ExpiresAt: at.Add(3 * time.Minute)},
		{Code: `JKM1:"\`, Kind: codeformat.KindDynamic, Color: rules.Red, MaskedName: "<b>", IssuedAt: at.UTC(), ExpiresAt: at.Add(time.Minute)},
	} {
		rec := httptest.NewRecorder()
		writeIssued(rec, &iss)
		want := encodeLikeWriteJSON(t, codeResponse(&iss))
		if !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("writeIssued writes\n%s\nthe declared CodeResponse is\n%s", rec.Body.Bytes(), want)
		}
		checkSchema(t, doc, "CodeResponse", rec.Body.Bytes())
	}
}

// TestTrustListIsTheDeclaredType: the trust list is the code format's
// document (docs/CODE-FORMAT.md §9), served as the key store keeps it.
func TestTrustListIsTheDeclaredType(t *testing.T) {
	doc := loadDocument(t)
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := codeformat.TrustList{}
	from := time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC)
	if err := tl.Add(codeformat.PublicKey{KID: codeformat.KeyID{1, 2, 3}, Alg: codeformat.AlgEdDSA, Key: pub, Issuer: "341881",
		NotBefore: from, NotAfter: from.AddDate(0, 3, 0)}); err != nil {
		t.Fatal(err)
	}
	pub2, _, _ := ed25519.GenerateKey(nil)
	if err := tl.Add(codeformat.PublicKey{KID: codeformat.KeyID{4}, Alg: codeformat.AlgEdDSA, Key: pub2, Issuer: "341881"}); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(tl)
	if err != nil {
		t.Fatal(err)
	}
	var declared TrustListResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&declared); err != nil {
		t.Fatalf("the trust list %s does not read as TrustListResponse: %v", body, err)
	}
	again, _ := json.Marshal(declared)
	if !bytes.Equal(body, again) {
		t.Errorf("the trust list is\n%s\nthe declared TrustListResponse writes\n%s", body, again)
	}
	checkSchema(t, doc, "TrustListResponse", body)
}

// TestRuleSetIsTheDeclaredType: a rule set is the rules package's document
// (docs/RULES.md); RuleSet declares it for the API, field for field.
func TestRuleSetIsTheDeclaredType(t *testing.T) {
	doc := loadDocument(t)
	body := []byte(`{"rules":[{"id":"r1","color":"yellow","condition":"true","until":"now + duration('24h')",
		"reason":{"zh":"测试","en":"test"},"advice":{"zh":"建议","en":"advice"},
		"valid_from":"2022-04-01T00:00:00Z","valid_to":"2022-05-01T00:00:00Z"}],
		"examples":[{"name":"e","now":"2022-04-02T00:00:00Z","facts":[{"kind":"case.confirmed","at":"2022-04-01T00:00:00Z",
		"until":"2022-04-03T00:00:00Z","attrs":{"a":1},"source":"s","recorded_at":"2022-04-01T00:00:00Z"}],
		"want_color":"yellow","want_rule":"r1","want_next_eval":"2022-04-03T00:00:00Z"}]}`)
	set, err := rules.ParseSet(body)
	if err != nil {
		t.Fatal(err)
	}
	fromRules, _ := json.Marshal(set)
	fromAPI, _ := json.Marshal(ruleSet(set))
	if !bytes.Equal(fromRules, fromAPI) {
		t.Errorf("rules writes\n%s\nthe declared RuleSet writes\n%s", fromRules, fromAPI)
	}
	checkSchema(t, doc, "RuleSet", fromAPI)
}

func TestRouteWithoutContractIsRefused(t *testing.T) {
	h := (&Server{}).openAPI
	for _, c := range []struct {
		name string
		rt   route
	}{
		{"no summary", route{Method: "GET", Path: "/x", Out: replies(ok(RegionResponse{})), h: h}},
		{"no answer", route{Method: "GET", Path: "/x", Summary: "x", h: h}},
		{"no handler", route{Method: "GET", Path: "/x", Summary: "x", Out: replies(ok(RegionResponse{}))}},
		{"a map body", route{Method: "GET", Path: "/x", Summary: "x", Out: replies(ok(map[string]any{})), h: h}},
		{"a feature's type", route{Method: "POST", Path: "/x", Summary: "x", In: codes.Result{}, Out: replies(noContent), h: h}},
	} {
		if err := c.rt.check(); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	for _, rt := range (&Server{}).routeTable() {
		if err := rt.check(); err != nil {
			t.Error(err)
		}
	}
}
