package api

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/rules"
)

func TestParseVerifyRequest(t *testing.T) {
	ok := []struct {
		in   string
		code string
		temp float64
		set  bool
	}{
		{`{"code":"JKM1:ABC"}`, "JKM1:ABC", 0, false},
		{" \r\n\t{ \"code\" : \"JKM1:A B\" , \"temperature\" : 36.5 }\n", "JKM1:A B", 36.5, true},
		{`{"temperature":-0.5e1,"code":"x"}`, "x", -5, true},
		{`{"temperature":37,"code":"x"}`, "x", 37, true},
		{`{"temperature":null,"code":"x"}`, "x", 0, false},
		{`{"code":"JKM1\u003aA\r\n"}`, "JKM1:A\r\n", 0, false},
		{`{"\u0063ode":"x"}`, "x", 0, false},
		{`{"code":"张*离"}`, "张*离", 0, false},
		{"{\"code\":\"\xff\"}", "\uFFFD", 0, false},
	}
	for _, tc := range ok {
		got, err := parseVerifyRequest([]byte(tc.in))
		if err != nil || got.code != tc.code || got.temp.Set != tc.set || got.temp.Celsius != tc.temp {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
	}
	bad := []struct{ in, code string }{
		{``, "empty_body"},
		{"  \n", "empty_body"},
		{`[]`, "invalid_json"},
		{`"code"`, "invalid_json"},
		{`{`, "invalid_json"},
		{`{}`, "code_missing"},
		{`{"code":null}`, "code_missing"},
		{`{"code":""}`, "code_missing"},
		{`{"code":"x",}`, "invalid_json"},
		{`{"code":"x"}}`, "invalid_json"},
		{`{"code":"x"} x`, "invalid_json"},
		{`{"code" "x"}`, "invalid_json"},
		{`{code:"x"}`, "invalid_json"},
		{`{"code":"x" "temperature":1}`, "invalid_json"},
		{`{"code":"a` + "\n" + `b"}`, "invalid_json"},
		{`{"code":"\x"}`, "invalid_json"},
		{`{"code":"x`, "invalid_json"},
		{`{"code":1}`, "invalid_field"},
		{`{"code":["x"]}`, "invalid_field"},
		{`{"code":tru}`, "invalid_field"},
		{`{"code":}`, "invalid_json"},
		{`{"Code":"x"}`, "unknown_field"},
		{`{"code":"x","extra":1}`, "unknown_field"},
		{`{"code":"x","code":"y"}`, "duplicate_field"},
		{`{"code":"x","temperature":1,"temperature":2}`, "duplicate_field"},
		{`{"code":"x","temperature":"37"}`, "invalid_field"},
		{`{"code":"x","temperature":true}`, "invalid_field"},
		{`{"code":"x","temperature":01}`, "invalid_json"},
		{`{"code":"x","temperature":1.}`, "invalid_json"},
		{`{"code":"x","temperature":.5}`, "invalid_json"},
		{`{"code":"x","temperature":1e}`, "invalid_json"},
		{`{"code":"x","temperature":-}`, "invalid_json"},
		{`{"code":"x","temperature":1e400}`, "temperature_out_of_range"},
		{"\xef\xbb\xbf{\"code\":\"x\"}", "invalid_json"},
	}
	for _, tc := range bad {
		_, err := parseVerifyRequest([]byte(tc.in))
		if e, ok := apierr.As(err); !ok || e.Code != tc.code || e.Status != 400 {
			t.Errorf("%q: %v, want %s", tc.in, err, tc.code)
		}
	}
}

// FuzzParseVerifyRequest checks the hand-written parser against
// encoding/json: whatever it accepts, the standard decoder with the same
// strictness (unknown fields refused, one value) reads the same way. It is
// stricter where encoding/json is lax (repeated fields, field names in
// another case), never laxer.
func FuzzParseVerifyRequest(f *testing.F) {
	for _, s := range []string{`{"code":"JKM1:ABC","temperature":36.5}`, `{"code":"x","temperature":null}`,
		`{"code":"\u0041\n"}`, `{"temperature":1e2,"code":"a"}`, `{"code":"x","code":"y"}`, `{"CODE":"x"}`,
		`{}`, ``, `[`, `{"code":"` + "\xff" + `"}`, `{"code":"x","temperature":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseVerifyRequest(b)
		if err != nil {
			if e, ok := apierr.As(err); !ok || e.Status != 400 {
				t.Fatalf("%q: %v is not a 400", b, err)
			}
			return
		}
		var want struct {
			Code        *string  `json:"code"`
			Temperature *float64 `json:"temperature"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: parsed as %+v, but encoding/json refuses it: %v", b, got, err)
		}
		if _, err := dec.Token(); err == nil {
			t.Fatalf("%q: trailing data accepted", b)
		}
		if want.Code == nil || *want.Code != got.code {
			t.Fatalf("%q: code %q, encoding/json reads %v", b, got.code, want.Code)
		}
		if (want.Temperature != nil) != got.temp.Set || (want.Temperature != nil && *want.Temperature != got.temp.Celsius) {
			t.Fatalf("%q: temperature %+v, encoding/json reads %v", b, got.temp, want.Temperature)
		}
	})
}

// FuzzAppendString checks the hand-written JSON string encoder: valid
// JSON that reads back as the input, byte for byte as encoding/json
// writes it (invalid UTF-8 included, as U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "张*离", "a\"b\\c", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "JKM1:ABC $%*+-./:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, out, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("%q reads back as %q", s, back)
		}
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if want := bytes.TrimSuffix(std.Bytes(), []byte("\n")); !bytes.Equal(out, want) {
			t.Fatalf("%q: %s, encoding/json writes %s", s, out, want)
		}
	})
}

func TestAppendResultIsTheDocumentedJSON(t *testing.T) {
	exp := time.Date(2022, 4, 1, 8, 3, 0, 0, time.UTC)
	for _, r := range []codes.Result{
		{Valid: true, Admitted: true, Color: rules.Green, ColorSource: "local", MaskedName: "张*离", Kind: "dynamic", Issuer: "341881", ExpiresAt: exp},
		{Valid: true, Admitted: true, Color: rules.Green, ColorSource: "code", MaskedName: "李*", Kind: "dynamic", Issuer: "341802", ExpiresAt: exp,
			Reasons: []string{"live_status_unavailable"}},
		{Valid: true, Color: rules.Red, MaskedName: `a"b`, Kind: "care", Issuer: "341881", ExpiresAt: exp, Reasons: []string{"fever", "color_red"}},
		{Reasons: []string{"bad_prefix"}},
		{Valid: true, Admitted: true, Color: rules.Yellow, MaskedName: "x", Kind: "id", Issuer: "341881"},
		{Valid: true, Admitted: true, Color: rules.Green, MaskedName: "李*0", Kind: "certificate", Issuer: "341881", ExpiresAt: exp,
			Result: "negative", ResultAt: exp.Add(-48 * time.Hour)},
		{Valid: true, Admitted: true, Color: rules.Green, MaskedName: "张*离", Kind: "certificate", Issuer: "341881", ExpiresAt: exp,
			Result: "vaccinated", ResultAt: exp.Add(-48 * time.Hour)},
	} {
		out := appendResult(nil, &r)
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		want := map[string]any{"valid": r.Valid, "admitted": r.Admitted, "color": nil, "color_source": nil, "masked_name": nil, "kind": nil,
			"issuer": nil, "expires_at": nil, "result": nil, "result_at": nil, "reasons": []any{}}
		if r.Result != "" {
			want["result"], want["result_at"] = r.Result, r.ResultAt.Format(time.RFC3339)
		}
		if r.Color != 0 {
			want["color"] = r.Color.String()
		}
		for k, v := range map[string]string{"masked_name": r.MaskedName, "kind": r.Kind, "issuer": r.Issuer, "color_source": r.ColorSource} {
			if v != "" {
				want[k] = v
			}
		}
		if !r.ExpiresAt.IsZero() {
			want["expires_at"] = r.ExpiresAt.Format(time.RFC3339)
		}
		for _, x := range r.Reasons {
			want["reasons"] = append(want["reasons"].([]any), x)
		}
		if r.Result != "" {
			want["result"], want["result_at"] = r.Result, r.ResultAt.Format(time.RFC3339)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("got %s\nwant %s", gj, wj)
		}
	}
}

func TestTemperatureParsesAsFloat(t *testing.T) {
	got, err := parseVerifyRequest([]byte(`{"code":"x","temperature":37.3}`))
	if err != nil || got.temp.Celsius != 37.3 || math.IsNaN(got.temp.Celsius) || !got.temp.Fever() {
		t.Fatalf("37.3 parsed as %+v (%v); the fever threshold must hold at exactly 37.3", got.temp, err)
	}
}
