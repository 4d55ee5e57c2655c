// Package apitest checks an API handler against its OpenAPI document in
// tests: every request made through Validating and every answer it gets.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/healthcode/healthcode/internal/api"
)

// Validating wraps h so that every request to the API (api.Prefix and
// api.GatewayPrefix) is checked against doc, an OpenAPI 3.1 document, and so
// is its answer. A failure is an error of t, the test whose request it was:
//   - an answer whose status the operation does not declare, whose media
//     type it does not declare for that status, or whose body does not
//     match the schema;
//   - a request the document refuses (a parameter, the media type, the
//     body) that the server accepted: the document is stricter than the
//     server, or the server laxer than the document;
//   - a path the document does not know, answered with anything but an
//     error body.
//
// Other paths (pages, metrics) pass through unchecked. kin-openapi loads
// and validates the document, finds the answer a status stands for and
// checks the parameters; bodies are checked with the JSON Schema 2020-12
// validator kin-openapi uses for OpenAPI 3.1, each schema compiled once.
func Validating(t testing.TB, doc []byte, h http.Handler) http.Handler {
	t.Helper()
	v, err := newValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, api.Prefix+"/") && !strings.HasPrefix(r.URL.Path, api.GatewayPrefix) {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("%s %s: read the request body: %v", r.Method, r.URL.Path, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		op, reqErr := v.request(r, body)
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if msg := v.judge(r, op, reqErr, rec); msg != "" {
			t.Errorf("%s %s: %s\nrequest: %s\nanswer: %d %s", r.Method, r.URL.RequestURI(), msg, clip(body), rec.status(), clip(rec.body.Bytes()))
		}
	})
}

type validator struct {
	doc *openapi3.T
	mux *http.ServeMux

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

const docURL = "https://healthcode.invalid/openapi.json"

func newValidator(raw []byte) (*validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("apitest: load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("apitest: the OpenAPI document is not valid: %w", err)
	}
	if doc.Components.Schemas["ErrorResponse"] == nil {
		return nil, fmt.Errorf("apitest: the document has no ErrorResponse component")
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, parsed); err != nil {
		return nil, err
	}
	v := &validator{doc: doc, mux: http.NewServeMux(), compiler: c, compiled: map[string]*jsonschema.Schema{}}
	// A mux like the server's finds the operation, so that the check
	// routes exactly as the server does ({version} after
	// /admin/rules/recompute).
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			rt := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			v.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
				m := w.(*match)
				m.route, m.params = rt, map[string]string{}
				for _, p := range op.Parameters {
					if p.Value.In == openapi3.ParameterInPath {
						m.params[p.Value.Name] = r.PathValue(p.Value.Name)
					}
				}
			})
		}
	}
	v.mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	return v, nil
}

// match receives the operation the mux finds; what the mux writes
// (a redirect) is dropped.
type match struct {
	route  *routers.Route
	params map[string]string
}

func (m *match) Header() http.Header         { return http.Header{} }
func (m *match) Write(b []byte) (int, error) { return len(b), nil }
func (m *match) WriteHeader(int)             {}

var options = &openapi3filter.Options{
	AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc, // who may call is the server's to say
	SkipSettingDefaults: true,
	ExcludeRequestBody:  true, // checked by body, with compiled schemas
}

// request checks a request's parameters and body; op is nil when no
// operation matches.
func (v *validator) request(r *http.Request, body []byte) (*openapi3.Operation, error) {
	m := &match{}
	v.mux.ServeHTTP(m, r.Clone(r.Context()))
	if m.route == nil {
		return nil, nil
	}
	op := m.route.Operation
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: c, PathParams: m.params, Route: m.route, Options: options}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return op, err
	}
	switch rb := op.RequestBody; {
	case rb == nil:
		return op, nil
	case len(body) == 0:
		return op, fmt.Errorf("the request has no body")
	default:
		return op, v.body(rb.Value.Content, r.Header.Get("Content-Type"), body)
	}
}

// judge returns what is wrong with an exchange, or "".
func (v *validator) judge(r *http.Request, op *openapi3.Operation, reqErr error, rec *recorder) string {
	status := rec.status()
	if op == nil {
		if status < 400 {
			return "a path the document does not know was answered with a success"
		}
		if err := v.body(v.doc.Components.Responses["Error"].Value.Content, rec.Header().Get("Content-Type"), rec.body.Bytes()); err != nil {
			return fmt.Sprintf("an error answer is not an ErrorResponse: %v", err)
		}
		return ""
	}
	if reqErr != nil && status < 400 {
		return fmt.Sprintf("the document refuses this request, but the server accepted it: %v", reqErr)
	}
	resp := op.Responses.Status(status)
	switch {
	case resp == nil:
		return fmt.Sprintf("the operation does not declare the status %d", status)
	case r.Method == http.MethodHead || status == http.StatusNotModified:
		return ""
	case len(resp.Value.Content) == 0:
		if rec.body.Len() > 0 {
			return fmt.Sprintf("the %d answer has a body the document does not declare", status)
		}
		return ""
	}
	if err := v.body(resp.Value.Content, rec.Header().Get("Content-Type"), rec.body.Bytes()); err != nil {
		return fmt.Sprintf("the answer does not match the document: %v", err)
	}
	return ""
}

// body checks a body against the media types declared for it. A file (a
// media type with an inline schema) is declared by its media type alone.
func (v *validator) body(content openapi3.Content, mediaType string, body []byte) error {
	mt := content.Get(mediaType)
	if mt == nil {
		return fmt.Errorf("the media type %q is not declared", mediaType)
	}
	if mt.Schema == nil || mt.Schema.Ref == "" {
		return nil
	}
	sch, err := v.schema(mt.Schema.Ref)
	if err != nil {
		return err
	}
	val, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the body is not JSON: %v", err)
	}
	return sch.Validate(val)
}

// schema compiles a component of the document once.
func (v *validator) schema(ref string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[ref]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(docURL + ref)
	if err != nil {
		return nil, fmt.Errorf("apitest: compile %s: %w", ref, err)
	}
	v.compiled[ref] = s
	return s, nil
}

// recorder passes an answer through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}
