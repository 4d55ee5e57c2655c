package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/server/servertest"
)

// Appeals with outside evidence: a resident of Ningguo (B), red after a
// close contact, appeals with a negative test certificate and a health code
// issued by region A and with an EU DCC; each is verified by signature
// (A's through the hub's bundle, the DCC under the trust B imported), a
// forged or untrusted one is shown as not verified with its reason, and the
// reviewer reads it all in the queue and on the console page. A list that
// cannot be checked is refused and nothing is stored.
func TestAppealWithOutsideEvidence(t *testing.T) {
	t.Parallel()
	e := newFedEnv(t)
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)

	tok, personB := e.b.Resident("13900001201", "周小雨", ridIn(regionB, "19950505", 21), "")
	e.b.Want(e.b.Do("POST", "/api/v1/admin/facts", e.b.Admin(), map[string]any{"person_id": personB, "kind": "contact.close",
		"at": now.Add(-48 * time.Hour).Format(time.RFC3339)}), 201, "")

	// A test certificate region A issued to the same person, signed with A's
	// code key (as A's sampling sites issue them).
	sampled := now.Add(-20 * time.Hour)
	certA, err := codeformat.Encode(codeformat.Claims{Issuer: regionA, IssuedAt: now.Add(-time.Minute), Expires: now.Add(6 * 24 * time.Hour),
		ID: codeformat.NewID(), Handle: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, MaskedName: "周*雨", Kind: codeformat.KindCertificate,
		Result: codeformat.TestNegative, SampledAt: sampled, Site: "宣州采样点"}, e.a.App.CodeKeys.SignerAt(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same certificate signed by a key no region published.
	_, stray, _ := ed25519.GenerateKey(rand.Reader)
	straySigner, err := codeformat.NewSigner(stray)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := codeformat.Encode(codeformat.Claims{Issuer: regionA, IssuedAt: now.Add(-time.Minute), Expires: now.Add(6 * 24 * time.Hour),
		ID: codeformat.NewID(), Handle: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, MaskedName: "周*雨", Kind: codeformat.KindCertificate,
		Result: codeformat.TestNegative, SampledAt: sampled, Site: "宣州采样点"}, straySigner, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A's own health code of a resident of A: green, live through the hub.
	tokA, _ := e.a.Resident("13900001202", "周小雨", ridIn(regionA, "19950505", 22), "")
	codeA := e.a.Want(e.a.Do("GET", "/api/v1/me/code", tokA, nil), 200, "").Str("code")
	// A DCC under a signer B imported, and one under a signer it did not.
	key, cert, err := foreign.NewSigner("DE", foreign.KindTest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.App.Entry.ImportCertificates(ctx, "test", []byte(pemOf(cert.Raw))); err != nil {
		t.Fatal(err)
	}
	dcc := func(key *ecdsa.PrivateKey, c *x509.Certificate, country string) string {
		t.Helper()
		s, err := foreign.IssueDCC(key, c, foreign.DCC{Country: country, IssuedAt: now.Add(-time.Hour), Expires: now.Add(48 * time.Hour),
			Payload: foreign.TestDCC(country, "Zhou", "Xiaoyu", "1995-05-05", now.Add(-6*time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stranger, strangerCert, err := foreign.NewSigner("FR", foreign.KindTest)
	if err != nil {
		t.Fatal(err)
	}
	trusted, untrusted := dcc(key, cert, "DE"), dcc(stranger, strangerCert, "FR")

	// What cannot be checked is refused; nothing is stored.
	appeals := e.b.Count("appeals")
	for _, bad := range [][]string{{""}, {certA, certA}, {certA, codeA, trusted, untrusted, forged, "JKM1:x"}} {
		e.b.Want(e.b.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "外地检测阴性", "credentials": bad}), 400, "evidence_invalid")
	}
	if n := e.b.Count("appeals"); n != appeals {
		t.Fatalf("refused appeals stored %d rows", n-appeals)
	}

	r := e.b.Want(e.b.Do("POST", "/api/v1/me/appeals", tok, map[string]any{"reason": "我在宣州区做了核酸检测，结果阴性",
		"credentials": []string{certA, codeA + "\r\n", trusted, untrusted, forged}}), 201, "")
	if a := r.Body["appeal"].(map[string]any); a["state"] != "pending" || len(a["credentials"].([]any)) != 5 {
		t.Fatalf("the appeal: %s", r.Raw)
	}
	q := e.b.Want(e.b.Do("GET", "/api/v1/admin/appeals?state=pending", e.b.Admin(), nil), 200, "")
	var creds []map[string]any
	for _, a := range q.Body["appeals"].([]any) {
		if a.(map[string]any)["person_id"] == personB {
			for _, c := range a.(map[string]any)["credentials"].([]any) {
				creds = append(creds, c.(map[string]any))
			}
		}
	}
	if len(creds) != 5 {
		t.Fatalf("the reviewer's queue: %s", q.Raw)
	}
	reasons := func(c map[string]any) []string {
		var out []string
		for _, x := range c["reasons"].([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	for i, want := range []struct {
		format, issuer, kind string
		verified             bool
		reason               string
		check                func(map[string]any) bool
	}{
		{"health_code", regionA, "certificate", true, "", func(c map[string]any) bool {
			return c["result"] == "negative" && c["result_at"] == sampled.UTC().Format(time.RFC3339) && c["holder"] == "周*雨"
		}},
		{"health_code", regionA, "dynamic", true, "", func(c map[string]any) bool { return c["color"] == "green" && c["color_source"] == "live" }},
		{"eu_dcc", "DE", "test", true, "", func(c map[string]any) bool { return c["result"] == "negative" && c["birth_date"] == "1995-05-05" }},
		{"eu_dcc", "", "", false, "unknown_key", nil},
		{"health_code", "", "", false, "unknown_key", func(c map[string]any) bool { return c["result"] == nil && c["holder"] == nil }},
	} {
		c := creds[i]
		if c["format"] != want.format || c["verified"] != want.verified || (want.issuer != "" && c["issuer"] != want.issuer) ||
			(want.kind != "" && c["kind"] != want.kind) || (want.reason != "" && !slices.Contains(reasons(c), want.reason)) ||
			(want.check != nil && !want.check(c)) || (want.verified && len(reasons(c)) != 0) {
			t.Errorf("credential %d: %v, want %+v", i, c, want)
		}
	}

	// The console's queue shows the same to the reviewing operator.
	page := (&env{Server: e.b, t: t}).console("admin", servertest.AdminPassword).Do("GET", "/console/appeals", nil)
	if strings.Count(page.Body, "签名已核验") != 3 || strings.Count(page.Body, "未通过核验") != 2 || !strings.Contains(page.Body, "检测证明 · 阴性") || !strings.Contains(page.Body, "签发机构不在信任列表中") || !strings.Contains(page.Body, "签发机构不可信或密钥已失效") {
		t.Fatalf("the console's appeal queue:\n%s", page.Body)
	}
}
