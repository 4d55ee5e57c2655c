package api

import (
	"fmt"
	"net/http"
	"reflect"
)

// route is one endpoint and its contract. The route table (routes.go,
// gateway.go) drives the mux, the metrics labels and the OpenAPI document,
// so an endpoint cannot exist without its contract: Handler refuses a route
// without a summary or an answer.
type route struct {
	Method, Path string // Path is relative to Prefix, or starts with GatewayPrefix
	// Summary is one line for the document; it names the query
	// parameters as ?name (or &name after another), which the document
	// lists.
	Summary string
	// Auth says who may call: "" for anyone, else the kind of caller and
	// the permission or scope ("operator: person.read").
	Auth string
	// In is the request body: a value of its type (a *_types.go struct
	// for JSON, an upload for a file); nil for none.
	In any
	// Out are the answers other than errors (which every route has: a 4xx
	// or 5xx with an ErrorResponse).
	Out []reply
	h   http.HandlerFunc
}

// reply is one answer of a route.
type reply struct {
	Status int
	Body   any    // a value of the JSON body's type; nil for none or for any JSON
	Media  string // the media type; application/json when empty and Body is set
	Doc    string // when this answer is given, if the status does not say it
}

// upload is a request body that is a file: the media types accepted.
type upload []string

// The answers routes give. Several replies of one status are one answer in
// several media (?format=).
func ok(body any) reply       { return reply{Status: http.StatusOK, Body: body} }
func created(body any) reply  { return reply{Status: http.StatusCreated, Body: body} }
func accepted(body any) reply { return reply{Status: http.StatusAccepted, Body: body} }

var (
	noContent = reply{Status: http.StatusNoContent}
	pngImage  = reply{Status: http.StatusOK, Media: "image/png", Doc: "a QR code as a PNG image"}
	csvFile   = reply{Status: http.StatusOK, Media: "text/csv", Doc: "a CSV file (UTF-8, with a header line)"}
	anyJSON   = reply{Status: http.StatusOK, Media: "application/json"}
	csvUpload = upload{"text/csv", "text/plain"}
)

// when documents the case in which a reply is given.
func (r reply) when(doc string) reply { r.Doc = doc; return r }

// in returns the reply in another media type, e.g. application/geo+json.
func (r reply) in(media string) reply { r.Media = media; return r }

func replies(rs ...reply) []reply { return rs }

// check refuses a route whose contract is missing or cannot be documented.
func (rt *route) check() error {
	switch {
	case rt.h == nil:
		return fmt.Errorf("api: %s %s has no handler", rt.Method, rt.Path)
	case rt.Summary == "":
		return fmt.Errorf("api: %s %s has no summary", rt.Method, rt.Path)
	case len(rt.Out) == 0:
		return fmt.Errorf("api: %s %s declares no answer", rt.Method, rt.Path)
	}
	for _, v := range append([]any{rt.In}, bodies(rt.Out)...) {
		if v == nil {
			continue
		}
		if _, isUpload := v.(upload); isUpload {
			continue
		}
		if t := reflect.TypeOf(v); t.Kind() != reflect.Struct || t.PkgPath() != apiPkg {
			return fmt.Errorf("api: %s %s: a body is a struct of package api, not %v", rt.Method, rt.Path, t)
		}
	}
	return nil
}

func bodies(rs []reply) []any {
	var out []any
	for _, r := range rs {
		out = append(out, r.Body)
	}
	return out
}

var apiPkg = reflect.TypeFor[route]().PkgPath()
