package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadDocument parses the generated document with an independent
// implementation of OpenAPI 3.1 and validates it.
func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	doc := loadDocument(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", doc.OpenAPI)
	}
}

// TestOpenAPIDescribesEveryRoute holds the document to the route table:
// every route is an operation with a schema for each JSON request and
// answer, and every error answer is the Error component.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadDocument(t)
	routes := (&Server{}).routeTable()
	if n := doc.Paths.Len(); n < 80 {
		t.Fatalf("%d paths", n)
	}
	gateway := 0
	for _, rt := range routes {
		path := fullPath(rt.Path)
		if strings.HasPrefix(path, GatewayPrefix) {
			gateway++
		}
		item := doc.Paths.Find(path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is not in the document", rt.Method, path)
			continue
		}
		op := item.GetOperation(rt.Method)
		if op.Summary == "" {
			t.Errorf("%s %s has no summary", rt.Method, path)
		}
		if rt.In != nil {
			if op.RequestBody == nil || len(op.RequestBody.Value.Content) == 0 {
				t.Errorf("%s %s: the request body is not described", rt.Method, path)
			} else if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && (mt.Schema == nil || mt.Schema.Value == nil) {
				t.Errorf("%s %s: the request body has no schema", rt.Method, path)
			}
		}
		for _, r := range rt.Out {
			resp := op.Responses.Status(r.Status)
			if resp == nil {
				t.Errorf("%s %s: no %d answer", rt.Method, path, r.Status)
				continue
			}
			if r.Body != nil {
				media := r.Media
				if media == "" {
					media = "application/json"
				}
				mt := resp.Value.Content.Get(media)
				if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || mt.Schema.Value.Properties == nil {
					t.Errorf("%s %s: the %d answer (%s) has no object schema", rt.Method, path, r.Status, media)
				}
			}
		}
		for _, status := range []int{400, 404, 500} {
			resp := op.Responses.Status(status)
			if resp == nil || resp.Ref != "#/components/responses/Error" {
				t.Errorf("%s %s: a %d is not the Error answer", rt.Method, path, status)
			}
		}
	}
	if gateway < 4 {
		t.Errorf("%d gateway routes in the document", gateway)
	}
}

// TestOpenAPISchemas checks how the generator reads a type: required
// fields, nullable pointers, enums, times, descriptions, closed objects.
func TestOpenAPISchemas(t *testing.T) {
	doc := loadDocument(t)
	schema := func(name string) *openapi3.Schema {
		t.Helper()
		s := doc.Components.Schemas[name]
		if s == nil || s.Value == nil {
			t.Fatalf("no component %s", name)
		}
		return s.Value
	}
	key := schema("KeyResponse")
	if !slices.Contains(key.Required, "rotated_at") || slices.Contains(key.Required, "api_key") {
		t.Errorf("KeyResponse required %v: rotated_at is always there (null until rotated), api_key only once", key.Required)
	}
	if r := key.Properties["rotated_at"].Value; !r.Type.Includes("null") || !r.Type.Includes("string") || r.Format != "date-time" {
		t.Errorf("rotated_at is %v %s, want a date-time string or null", r.Type, r.Format)
	}
	if key.AdditionalProperties.Has == nil || *key.AdditionalProperties.Has {
		t.Error("an object of the API lists all its fields")
	}
	color := schema("Color")
	if len(color.Enum) != 3 {
		t.Errorf("Color enum %v", color.Enum)
	}
	scan := schema("ScanResponse")
	if scan.Properties["color"].Ref != "#/components/schemas/Color" {
		t.Errorf("ScanResponse.color is %+v, want the Color enum", scan.Properties["color"])
	}
	verify := schema("VerifyResponse")
	if c := verify.Properties["color"].Value; len(c.AnyOf) != 2 {
		t.Errorf("VerifyResponse.color %+v: a colour or null", c)
	}
	if verify.Properties["admitted"].Value.Description == "" {
		t.Error("a doc tag is the property's description")
	}
	// A request's optional pointer may be null; an answer's omitted one never is.
	if tmp := schema("VerifyRequest").Properties["temperature"].Value; !tmp.Type.Includes("null") {
		t.Errorf("VerifyRequest.temperature is %v", tmp.Type)
	}
	if st := schema("TubeResponse").Properties["sealed_at"].Value; st.Type.Includes("null") {
		t.Errorf("TubeResponse.sealed_at is %v: omitted, never null", st.Type)
	}
	me := schema("MeResponse")
	for _, f := range []string{"id", "region_name", "color", "reason"} {
		if !slices.Contains(me.Required, f) {
			t.Errorf("MeResponse: %s is required (embedded fields are flattened)", f)
		}
	}
	errBody := schema("ErrorDetail")
	if !slices.Contains(errBody.Required, "code") || !slices.Contains(errBody.Required, "message") {
		t.Errorf("ErrorDetail required %v", errBody.Required)
	}
}

// TestOpenAPIBinaryAnswers: images and CSV files are declared by their
// media type, GeoJSON with its schema.
func TestOpenAPIBinaryAnswers(t *testing.T) {
	doc := loadDocument(t)
	for _, c := range []struct{ path, media string }{
		{"/api/v1/me/code.png", "image/png"},
		{"/api/v1/venues/{token}/poster.png", "image/png"},
		{"/api/v1/admin/tracing/{id}/report.csv", "text/csv"},
		{"/api/v1/sites", "text/csv"},
		{"/api/v1/sites", "application/geo+json"},
		{"/api/v1/sites", "application/json"},
		{"/gateway/v1/pharmacy/purchases", "text/csv"},
	} {
		op := doc.Paths.Find(c.path).Get
		if op == nil || op.Responses.Status(http.StatusOK) == nil || op.Responses.Status(http.StatusOK).Value.Content[c.media] == nil {
			t.Errorf("GET %s: no %s answer", c.path, c.media)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("%v %v", doc["openapi"], err)
	}
}
