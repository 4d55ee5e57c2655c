package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/rules"
)

func TestParseScanRequest(t *testing.T) {
	ok := []struct {
		in   string
		want ScanRequest
	}{
		{`{"code":"JKM1:ABC\r\n"}`, ScanRequest{Code: "JKM1:ABC\r\n"}},
		{" {\"id_type\" : \"resident_id\", \"id_number\":\"341881194801010110\"}\n", ScanRequest{IDType: "resident_id", IDNumber: "341881194801010110"}},
		{`{"code":null,"id_type":"passport","id_number":"E1"}`, ScanRequest{IDType: "passport", IDNumber: "E1"}},
		{`{}`, ScanRequest{}},
		{`{"\u0063ode":"张*离"}`, ScanRequest{Code: "张*离"}},
		{"{\"code\":\"\xff\"}", ScanRequest{Code: "\uFFFD"}},
	}
	for _, tc := range ok {
		got, err := parseScanRequest([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
	}
	bad := []struct{ in, code string }{
		{``, "empty_body"},
		{`[]`, "invalid_json"},
		{`{"code":"x",}`, "invalid_json"},
		{`{"code":"x"} x`, "invalid_json"},
		{`{"code":1}`, "invalid_field"},
		{`{"id_number":123}`, "invalid_field"},
		{`{"Code":"x"}`, "unknown_field"},
		{`{"code":"x","subject":"y"}`, "unknown_field"},
		{`{"code":"x","code":"y"}`, "duplicate_field"},
		{`{"code":"a\u0000b"}`, "nul_character"},
		{`{"code":"x`, "invalid_json"},
	}
	for _, tc := range bad {
		_, err := parseScanRequest([]byte(tc.in))
		if e, ok := apierr.As(err); !ok || e.Code != tc.code || e.Status != 400 {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.code)
		}
	}
}

// FuzzParseScanRequest holds the hand-written parser to decode: what it
// accepts, decode reads the same way; it may be stricter (repeated fields,
// names in another case), never laxer.
func FuzzParseScanRequest(f *testing.F) {
	for _, s := range []string{`{"code":"JKM1:ABC\r\n"}`, `{"id_type":"resident_id","id_number":"1"}`, `{"code":null}`,
		`{"code":"x","code":"y"}`, `{"CODE":"x"}`, `{}`, ``, `[`, `{"code":"` + "\xff" + `"}`, `{"code":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseScanRequest(b)
		if err != nil {
			if e, ok := apierr.As(err); !ok || e.Status != 400 {
				t.Fatalf("%q: %v is not a 400", b, err)
			}
			return
		}
		var want ScanRequest
		if err := decodeBody(b, &want); err != nil {
			t.Fatalf("%q: parsed as %+v, but decode refuses it: %v", b, got, err)
		}
		if got != want {
			t.Fatalf("%q: %+v, decode reads %+v", b, got, want)
		}
	})
}

// appendScan writes what writeJSON writes of the documented ScanResponse.
func TestAppendScanIsTheDocumentedJSON(t *testing.T) {
	exp := time.Date(2022, 4, 1, 2, 15, 0, 0, time.UTC)
	for _, sc := range []gateway.Scan{
		{Subject: "hcs_abc", ExpiresAt: exp, Color: rules.Green, MaskedName: "张*丰", Admitted: true, Kind: "dynamic"},
		{Subject: "hcs_def", ExpiresAt: exp, Color: rules.Yellow, MaskedName: `a"b`, Reasons: []string{"color_yellow"}, Kind: "id"},
		{Subject: "hcs_g", ExpiresAt: exp, Color: rules.Red, MaskedName: "x", Reasons: []string{"fever", "color_red"}, Kind: "care"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(scanResponse(&sc))
		if got := appendScan(nil, &sc); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("got  %s\nwant %s", got, want.Bytes())
		}
	}
}
