package apitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/healthcode/healthcode/internal/api"
)

// spy is a testing.TB that keeps the errors reported to it.
type spy struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (s *spy) Helper() {}
func (s *spy) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// answer is a fake API: it answers every request with one status, media
// type and body.
func answer(status int, media, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if media != "" {
			w.Header().Set("Content-Type", media)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	})
}

const (
	jsonCT  = "application/json; charset=utf-8"
	errBody = `{"error":{"code":"bad","message":"bad"}}`
)

func TestValidating(t *testing.T) {
	for _, c := range []struct {
		name                  string
		method, path, reqBody string
		status                int
		media, body           string
		fails                 string // part of the error, or "" for none
	}{
		{"a valid answer", "GET", "/api/v1/regions/root", "", 200, jsonCT, `{"children":[{"code":"34","name":"安徽省"}],"code":"","name":""}`, ""},
		{"a wrong type", "GET", "/api/v1/regions/root", "", 200, jsonCT, `{"children":[],"code":1,"name":""}`, "does not match"},
		{"a missing field", "GET", "/api/v1/regions/root", "", 200, jsonCT, `{"children":[],"code":""}`, "does not match"},
		{"a field the type lacks", "GET", "/api/v1/regions/root", "", 200, jsonCT, `{"children":[],"code":"","name":"","x":1}`, "does not match"},
		{"null for a list", "GET", "/api/v1/regions/root", "", 200, jsonCT, `{"children":null,"code":"","name":""}`, "does not match"},
		{"a status not declared", "POST", "/api/v1/auth/otp", `{"phone":"13900000001"}`, 200, jsonCT, `{"phone":"139****0001","sent":true,"delayed":false}`, "does not declare the status 200"},
		{"the declared status", "POST", "/api/v1/auth/otp", `{"phone":"13900000001"}`, 202, jsonCT, `{"phone":"139****0001","sent":true,"delayed":false}`, ""},
		{"a time that is not one", "POST", "/api/v1/auth/login", `{"phone":"1","otp":"1"}`, 200, jsonCT, `{"expires_at":"tomorrow","registered":true,"token":"t"}`, "does not match"},
		{"an enum value not listed", "GET", "/api/v1/admin/operators", "", 200, jsonCT,
			`{"operators":[{"id":"1","username":"a","display_name":"","role":"king","region":"34","disabled":false,"created_at":"2022-04-01T00:00:00Z"}]}`, "does not match"},
		{"null where the type allows it", "POST", "/api/v1/verify", `{"code":"x"}`, 200, jsonCT,
			`{"valid":false,"admitted":false,"color":null,"masked_name":null,"kind":null,"issuer":null,"expires_at":null,"reasons":["bad_prefix"]}`, ""},
		{"an error body", "GET", "/api/v1/me", "", 401, jsonCT, errBody, ""},
		{"an error without its code", "GET", "/api/v1/me", "", 401, jsonCT, `{"error":{"message":"no"}}`, "does not match"},
		{"a refused request refused", "POST", "/api/v1/auth/otp", `{"phone":1}`, 400, jsonCT, errBody, ""},
		{"a refused request accepted", "POST", "/api/v1/auth/otp", `{"phone":1}`, 202, jsonCT, `{"phone":"","sent":true}`, "the document refuses this request"},
		{"an unknown field accepted", "POST", "/api/v1/auth/otp", `{"phone":"1","x":1}`, 202, jsonCT, `{"phone":"","sent":true}`, "the document refuses this request"},
		{"a media type not declared", "GET", "/api/v1/me/code.png", "", 200, "image/gif", "GIF89a", "media type"},
		{"a PNG", "GET", "/api/v1/me/code.png", "", 200, "image/png", "\x89PNG\r\n", ""},
		{"a CSV", "GET", "/api/v1/sites?format=csv", "", 200, "text/csv; charset=utf-8; header=present", "id,name\n", ""},
		{"GeoJSON", "GET", "/api/v1/sites?format=geojson", "", 200, "application/geo+json", `{"type":"FeatureCollection","features":[]}`, ""},
		{"a body on a 204", "DELETE", "/api/v1/me/dependents/x", "", 204, "", "x", "body"},
		{"a gateway route", "POST", "/gateway/v1/scan", `{"code":"x"}`, 422, jsonCT, errBody, ""},
		{"an unknown path refused", "GET", "/api/v1/nowhere", "", 404, jsonCT, errBody, ""},
		{"an unknown path answered", "GET", "/api/v1/nowhere", "", 200, jsonCT, `{}`, "does not know"},
		{"a page", "GET", "/console", "", 200, "text/html", "<p>", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &spy{TB: t}
			hs := httptest.NewServer(Validating(s, api.OpenAPI(), answer(c.status, c.media, c.body)))
			defer hs.Close()
			req, _ := http.NewRequest(c.method, hs.URL+c.path, strings.NewReader(c.reqBody))
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			hs.Close()
			got := strings.Join(s.errs, "\n")
			switch {
			case c.fails == "" && got != "":
				t.Errorf("reported %s", got)
			case c.fails != "" && !strings.Contains(got, c.fails):
				t.Errorf("reported %q, want an error with %q", got, c.fails)
			}
		})
	}
}
