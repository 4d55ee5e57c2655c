package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/healthcode/healthcode/internal/apierr"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	for _, tc := range []struct {
		in, code string
		msg      string // part of the message
	}{
		{``, "empty_body", ""},
		{" \n", "empty_body", ""},
		{`null`, "invalid_json", "must be a JSON object"},
		{` null `, "invalid_json", "must be a JSON object"},
		{`[]`, "invalid_json", "must be a JSON object"},
		{`"x"`, "invalid_json", "must be a JSON object"},
		{`{"name":`, "invalid_json", ""},
		{`{} {}`, "invalid_json", "exactly one"},
		{`{"zz":1}`, "unknown_field", `"zz"`},
		{`{"name":1}`, "invalid_field", `"name" must be a string`},
		{`{"name":"a\u0000b"}`, "nul_character", ""},
		{`{"name":"\\\u0000"}`, "nul_character", ""},
		{`{"zz\u0000":1}`, "unknown_field", ""},
	} {
		var v body
		err := decodeBody([]byte(tc.in), &v)
		e, ok := apierr.As(err)
		if !ok || e.Code != tc.code || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%q: %v, want %s (%s)", tc.in, err, tc.code, tc.msg)
		}
	}
	for _, in := range []string{`{}`, ` {"name":"x"} `, `{"name":"\\u0000 is how JSON writes NUL"}`} {
		var v body
		if err := decodeBody([]byte(in), &v); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}
