package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name  string     `json:"name"`
		At    timeField  `json:"at"`
		Until *timeField `json:"until"`
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
		{`{"at":"yesterday"}`, "invalid_field", `"at" must be an RFC 3339 time`},
		{`{"at":123}`, "invalid_field", `"at" must be an RFC 3339 time such as 2022-04-01T10:00:00+08:00, not a number`},
		{`{"until":{}}`, "invalid_field", `"until" must be an RFC 3339 time`},
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
	var v body
	if err := decodeBody([]byte(`{"at":"2022-04-01T10:00:00+08:00","until":"2022-04-02T10:00:00Z"}`), &v); err != nil ||
		!v.At.Equal(time.Date(2022, 4, 1, 2, 0, 0, 0, time.UTC)) || v.Until == nil || v.Until.Hour() != 10 {
		t.Errorf("times: %+v, %v", v, err)
	}
}

func TestCheckText(t *testing.T) {
	for target, code := range map[string]string{
		"/api/v1/sites/abc":                  "",
		"/api/v1/sites/%E5%AE%81":            "",
		"/api/v1/sites/%ff":                  "invalid_path",
		"/api/v1/sites/a%00":                 "invalid_path",
		"/api/v1/admin/audit?subject=x":      "",
		"/api/v1/admin/audit?subject=%ff%fe": "invalid_parameter",
		"/api/v1/admin/audit?subject=%00":    "invalid_parameter",
		"/api/v1/admin/audit?%ff=1":          "invalid_parameter",
	} {
		got := ""
		if err := checkText(httptest.NewRequest("GET", target, nil)); err != nil {
			e, _ := apierr.As(err)
			got = e.Code
		}
		if got != code {
			t.Errorf("%s: %q, want %q", target, got, code)
		}
	}
}
