package codeformat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTrustListJSON(t *testing.T) {
	tl := trustFor(t, testSigner(t, AlgEdDSA, "a"), testSigner(t, AlgES256, "a"), testSigner(t, AlgSM2, "a"))
	for kid, k := range tl {
		k.NotBefore = testIAT.Add(-24 * time.Hour)
		k.NotAfter = testIAT.Add(24 * time.Hour)
		tl[kid] = k
	}
	b, err := json.Marshal(tl)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"keys":[`, `"alg":"EdDSA"`, `"alg":"ES256"`, `"alg":"SM2"`, `"issuer":"341881"`, `"not_before":"2022-03-31T08:00:00Z"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("trust list JSON lacks %s: %s", want, b)
		}
	}
	var back TrustList
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 {
		t.Fatalf("%d keys back", len(back))
	}
	for kid, k := range tl {
		g := back[kid]
		if g.Alg != k.Alg || g.Issuer != k.Issuer || !g.NotBefore.Equal(k.NotBefore) || !g.NotAfter.Equal(k.NotAfter) {
			t.Errorf("%x: %+v, want %+v", kid, g, k)
		}
		if ka, _ := KeyIDFor(g.Key); ka != kid {
			t.Errorf("%x: key changed", kid)
		}
	}
	again, _ := json.Marshal(back)
	if string(again) != string(b) {
		t.Errorf("not deterministic:\n%s\n%s", b, again)
	}
	// A code verifies against the list read back.
	s := testSigner(t, AlgSM2, "a")
	if r := NewVerifier(back, Options{}).Verify(mustEncode(t, testClaims(), s, nil), testIAT); !r.Valid {
		t.Errorf("verify with parsed list: %v", r.Reasons)
	}
}

func TestTrustListRejects(t *testing.T) {
	good, _ := json.Marshal(trustFor(t, testSigner(t, AlgEdDSA, "a")))
	var doc map[string][]map[string]any
	_ = json.Unmarshal(good, &doc)
	entry := doc["keys"][0]
	for name, edit := range map[string]func(map[string]any){
		"short kid":   func(e map[string]any) { e["kid"] = "AAAA" },
		"padded kid":  func(e map[string]any) { e["kid"] = e["kid"].(string) + "=" },
		"wrong alg":   func(e map[string]any) { e["alg"] = "ES256" },
		"unknown alg": func(e map[string]any) { e["alg"] = "PS256" },
		"no issuer":   func(e map[string]any) { e["issuer"] = "" },
		"junk key":    func(e map[string]any) { e["public_key"] = "AAAA" },
		"bad time":    func(e map[string]any) { e["not_after"] = "tomorrow" },
		"ends earlier": func(e map[string]any) {
			e["not_before"] = "2022-02-01T00:00:00Z"
			e["not_after"] = "2022-01-01T00:00:00Z"
		},
	} {
		e := map[string]any{}
		for k, v := range entry {
			e[k] = v
		}
		edit(e)
		b, _ := json.Marshal(map[string]any{"keys": []any{e}})
		var tl TrustList
		if err := json.Unmarshal(b, &tl); err == nil {
			t.Errorf("%s: accepted %s", name, b)
		}
	}
	dup, _ := json.Marshal(map[string]any{"keys": []any{entry, entry}})
	var tl TrustList
	if err := json.Unmarshal(dup, &tl); err == nil {
		t.Error("accepted a duplicate kid")
	}
}
