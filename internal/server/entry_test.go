package server_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/foreign"
)

var shcData = filepath.Join("..", "foreign", "testdata", "shc")

const exampleIss = "https://spec.smarthealth.cards/examples/issuer"

// exampleCard issues a SMART Health Card with the example issuer's
// published key (test use only).
func exampleCard(t *testing.T, bundle string, nbf time.Time) string {
	t.Helper()
	var set jose.JSONWebKeySet
	b, err := os.ReadFile(filepath.Join(shcData, "issuer.jwks.private.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &set)
	const kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"
	body, err := os.ReadFile(filepath.Join(shcData, bundle))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := foreign.IssueSHC(set.Key(kid)[0].Key.(*ecdsa.PrivateKey), foreign.Card{Iss: exampleIss, KID: kid, NotBef: nbf, Bundle: body})
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// A signed test certificate of the region is accepted by POST /verify as
// kind certificate, with its result and sampling time, and admitted by the
// holder's colour now.
func TestVerifyTestCertificate(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		_, id := e.Resident("13900009001", "李四", rid("19900101", 21), "")
		num, err := e.App.Persons.Handles().ParseID(id)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Truncate(time.Second)
		sampled := now.Add(-20 * time.Hour)
		code, err := codeformat.Encode(codeformat.Claims{Issuer: "341881", IssuedAt: now.Add(-time.Minute), Expires: now.Add(6 * 24 * time.Hour),
			ID: codeformat.NewID(), Handle: e.App.Persons.Handles().Handle(num), MaskedName: "李*", Kind: codeformat.KindCertificate,
			Result: codeformat.TestNegative, SampledAt: sampled, Site: "西津采样点"}, e.App.CodeKeys.SignerAt(now), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, key := e.Checkpoint(e.Admin(), "西津卡口", "341881")
		r := e.Want(e.Do("POST", "/api/v1/verify", key, map[string]any{"code": code}), 200, "")
		if r.Body["valid"] != true || r.Body["admitted"] != true || r.Str("kind") != "certificate" || r.Str("result") != "negative" ||
			r.Str("result_at") != sampled.UTC().Format(time.RFC3339) || r.Str("color") != "green" {
			t.Fatalf("a test certificate at a checkpoint: %s", r.Raw)
		}
	})
}

// Entry end to end on each engine: trust imported, foreign credentials
// verified by a checkpoint key, an inbound traveller registered by border
// staff with a verified DCC (red for the central quarantine, a local code
// that checkpoints verify), and every refusal writes nothing.
func TestEntryForeignCredentialsAndArrivals(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		pub, _ := os.ReadFile(filepath.Join(shcData, "issuer.jwks.public.json"))
		if _, err := e.App.Entry.ImportJWKS(ctx, "test", exampleIss, "US", pub); err != nil {
			t.Fatal(err)
		}
		key, cert, err := foreign.NewSigner("DE", foreign.KindTest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Entry.ImportCertificates(ctx, "test", []byte(pemOf(cert.Raw))); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		dcc, err := foreign.IssueDCC(key, cert, foreign.DCC{Country: "DE", IssuedAt: now.Add(-time.Hour), Expires: now.Add(48 * time.Hour),
			Payload: foreign.TestDCC("DE", "Mustermann", "Erika", "1964-08-12", now.Add(-6*time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		card := exampleCard(t, "covid-vaccines-bundle.json", now.Add(-time.Hour))
		_, cp := e.Checkpoint(e.Admin(), "禄口机场入境卡口", "341881")

		// A checkpoint key verifies both formats; nothing is stored.
		verifications := e.Count("verifications")
		r := e.Want(e.Do("POST", "/api/v1/verify/foreign", cp, map[string]any{"credential": dcc}), 200, "")
		if r.Body["valid"] != true || r.Str("format") != "eu_dcc" || r.Str("kind") != "test" || r.Str("issuer_country") != "DE" ||
			r.Body["details"].(map[string]any)["result"] != "negative" || r.Body["holder"].(map[string]any)["name"] != "Mustermann Erika" {
			t.Fatalf("DCC: %s", r.Raw)
		}
		r = e.Want(e.Do("POST", "/api/v1/verify/foreign", cp, map[string]any{"credential": foreign.NumericQR(card) + "\r\n"}), 200, "")
		if r.Body["valid"] != true || r.Str("format") != "shc" || r.Str("kind") != "vaccination" || r.Str("issuer_country") != "US" {
			t.Fatalf("SHC: %s", r.Raw)
		}
		// The DCC is corrupted inside its deflate stream, in whole base45
		// groups (its tail left as it is, so it stays valid base45 whatever
		// its length).
		for in, reason := range map[string]string{"HC1:%%%": "bad_base45", "hello": "bad_prefix", "shc:/123": "bad_numeric",
			dcc[:19] + "AAAAAA" + dcc[25:]: "bad_compression", card[:len(card)-4] + "AAAA": "bad_signature"} {
			r := e.Want(e.Do("POST", "/api/v1/verify/foreign", cp, map[string]any{"credential": in}), 200, "")
			if rs := r.Body["reasons"].([]any); r.Body["valid"] != false || len(rs) == 0 || rs[0] != reason {
				t.Errorf("%.20s: want %s, got %s", in, reason, r.Raw)
			}
		}
		e.Want(e.Do("POST", "/api/v1/verify/foreign", cp, map[string]any{"credential": ""}), 400, "credential_missing")
		e.Want(e.Do("POST", "/api/v1/verify/foreign", cp, map[string]any{"code": dcc}), 400, "unknown_field")
		e.Want(e.Do("POST", "/api/v1/verify/foreign", "", map[string]any{"credential": dcc}), 401, "")
		viewer := e.NewOperator("viewer1", "viewer", "341881")
		e.Want(e.Do("POST", "/api/v1/verify/foreign", viewer, map[string]any{"credential": dcc}), 403, "forbidden")
		if n := e.Count("verifications"); n != verifications {
			t.Fatalf("foreign verifications stored %d events", n-verifications)
		}

		// Border staff register the traveller with the DCC.
		border := e.NewOperator("pudong", "border", "341881")
		persons, facts := e.Count("persons"), e.Count("facts")
		in := map[string]any{"credential": dcc, "name": "Erika Mustermann", "id_type": "passport", "id_number": "C01X00T47",
			"port": "禄口国际机场", "transport": "air"}
		for _, bad := range []struct {
			edit func(map[string]any)
			code string
		}{
			{func(m map[string]any) { m["credential"] = card[:len(card)-4] + "AAAA" }, "credential_invalid"},
			{func(m map[string]any) { m["credential"] = "" }, "credential_missing"},
			{func(m map[string]any) { m["id_type"] = "resident_id" }, "id_type_not_foreign"},
			{func(m map[string]any) { m["port"] = " " }, "port_missing"},
			{func(m map[string]any) { m["transport"] = "rocket" }, "transport_invalid"},
			{func(m map[string]any) { m["origin_country"] = "XX" }, "origin_invalid"},
			{func(m map[string]any) { m["name"] = "" }, "name_missing"},
			{func(m map[string]any) { m["arrived_at"] = now.Add(time.Hour).Format(time.RFC3339) }, "arrived_at_in_future"},
		} {
			m := map[string]any{}
			for k, v := range in {
				m[k] = v
			}
			bad.edit(m)
			res := e.Do("POST", "/api/v1/admin/arrivals", border, m)
			if res.ErrCode() != bad.code || res.Status >= 500 {
				t.Errorf("want %s, got %d %s", bad.code, res.Status, res.Raw)
			}
		}
		e.Want(e.Do("POST", "/api/v1/admin/arrivals", viewer, in), 403, "forbidden")
		if e.Count("persons") != persons || e.Count("facts") != facts || e.Count("arrivals") != 0 || e.Count("care_codes") != 0 {
			t.Fatal("a refused arrival wrote something")
		}
		a := e.Want(e.Do("POST", "/api/v1/admin/arrivals", border, in), 201, "")
		if a.Str("color") != "red" || a.Str("rule") != "inbound_quarantine" || a.Str("origin") != "DEU" || a.Str("format") != "eu_dcc" ||
			a.Str("kind") != "test" || a.Str("code") == "" || a.Str("masked_name") == "" {
			t.Fatalf("arrival: %s", a.Raw)
		}
		e.Want(e.Do("POST", "/api/v1/admin/arrivals", border, in), 409, "arrival_exists")
		// The local code verifies at a checkpoint: red, not admitted.
		v := e.Want(e.Do("POST", "/api/v1/verify", cp, map[string]any{"code": a.Str("code")}), 200, "")
		if v.Body["valid"] != true || v.Body["admitted"] != false || v.Str("color") != "red" || v.Str("kind") != "care" {
			t.Fatalf("the arrival's local code: %s", v.Raw)
		}
		// The fact the rules read, and the list border staff and officers see.
		p := e.Want(e.Do("GET", "/api/v1/admin/persons/"+a.Str("person_id"), e.Admin(), nil), 200, "")
		if p.Str("color") != "red" {
			t.Fatalf("person: %s", p.Raw)
		}
		list := e.Want(e.Do("GET", "/api/v1/admin/arrivals", border, nil), 200, "")
		if as := list.Body["arrivals"].([]any); len(as) != 1 || as[0].(map[string]any)["code"] != nil {
			t.Fatalf("arrivals: %s", list.Raw)
		}
		other := e.NewOperator("elsewhere", "border", "341881002")
		if as := e.Want(e.Do("GET", "/api/v1/admin/arrivals", other, nil), 200, "").Body["arrivals"].([]any); len(as) != 0 {
			t.Fatalf("another region's border staff see %d arrivals", len(as))
		}
	})
}

func pemOf(der []byte) string {
	return "-----BEGIN CERTIFICATE-----\n" + b64(der) + "\n-----END CERTIFICATE-----\n"
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
