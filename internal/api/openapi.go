package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The OpenAPI 3.1 document, generated from the route table and, by
// reflection, from the request and response types (see types.go for how a
// json tag reads as a contract).

var (
	pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)
	// A summary names its query parameters as ?name (or &name after
	// another); the document lists them, so that clients and the
	// robustness test know every one.
	queryParam = regexp.MustCompile(`[?&]([a-z_]+)`)
)

// OpenAPI returns the OpenAPI 3.1 document of the API: every route of
// Prefix and GatewayPrefix with the schemas of its requests and answers.
func OpenAPI() []byte {
	docOnce.Do(func() {
		s := &Server{}
		doc, err := json.MarshalIndent(document(s.routeTable()), "", " ")
		if err != nil {
			panic(err)
		}
		docJSON = append(doc, '\n')
	})
	return docJSON
}

var (
	docOnce sync.Once
	docJSON []byte
)

// openAPI serves the document.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(OpenAPI())
}

func document(routes []route) map[string]any {
	g := &schemas{components: map[string]any{}, dirs: map[reflect.Type]direction{}}
	errorRef := g.ref(reflect.TypeFor[ErrorResponse](), response)
	sort.SliceStable(routes, func(i, j int) bool { return fullPath(routes[i].Path) < fullPath(routes[j].Path) })
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		p := fullPath(rt.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.Method)] = g.operation(rt)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "healthcode API", "version": "1",
			"description": "The health code platform's API: residents' codes, check-ins, verification, tests, the status engine " +
				"and the organisations' gateway. Authenticate with Authorization: Bearer TOKEN (a session token or an API key). " +
				"Every error is a 4xx or 5xx with {\"error\": {\"code\", \"message\"}}; match the code, not the message. " +
				"Times are RFC 3339; ids are opaque strings. The repository's docs/API.md is the guide."},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "A resident or operator session token, a unit account's session, or an API key"}},
			"responses": map[string]any{"Error": map[string]any{
				"description": `An error: {"error": {"code", "message"}}`,
				"content":     map[string]any{"application/json": map[string]any{"schema": errorRef}},
			}},
		},
	}
}

func (g *schemas) operation(rt route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt.Method, fullPath(rt.Path)),
		"summary":     rt.Summary,
		"tags":        []string{tag(fullPath(rt.Path))},
	}
	if rt.Auth != "" {
		op["security"] = []any{map[string]any{"bearer": []any{}}}
		op["description"] = "Authorization: " + rt.Auth
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	seen := map[string]bool{}
	for _, m := range queryParam.FindAllStringSubmatch(rt.Summary, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			params = append(params, map[string]any{"name": m[1], "in": "query", "schema": map[string]any{"type": "string"}})
		}
	}
	if params != nil {
		op["parameters"] = params
	}
	switch in := rt.In.(type) {
	case nil:
	case upload:
		content := map[string]any{}
		for _, m := range in {
			content[m] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	default:
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(in), request)}}}
	}
	responses := map[string]any{
		"4XX": map[string]any{"$ref": "#/components/responses/Error"},
		"5XX": map[string]any{"$ref": "#/components/responses/Error"},
	}
	for _, r := range rt.Out {
		key := strconv.Itoa(r.Status)
		resp, _ := responses[key].(map[string]any)
		if resp == nil {
			resp = map[string]any{"description": http.StatusText(r.Status)}
			responses[key] = resp
		}
		if r.Doc != "" {
			resp["description"] = r.Doc
		}
		media := r.Media
		if media == "" && r.Body != nil {
			media = "application/json"
		}
		if media == "" {
			continue
		}
		content, _ := resp["content"].(map[string]any)
		if content == nil {
			content = map[string]any{}
			resp["content"] = content
		}
		mt := map[string]any{}
		switch {
		case r.Body != nil:
			mt["schema"] = g.ref(reflect.TypeOf(r.Body), response)
		case !strings.Contains(media, "json"):
			// 3.1: a file is described by its media type alone.
			mt["schema"] = map[string]any{"type": "string", "contentMediaType": media}
		}
		content[media] = mt
	}
	op["responses"] = responses
	return op
}

// operationID names an operation for client generators: the method and the
// path's words, e.g. get_admin_persons_id.
func operationID(method, path string) string {
	if rest, ok := strings.CutPrefix(path, Prefix); ok {
		path = rest
	} else {
		path = "/gateway" + strings.TrimPrefix(path, strings.TrimSuffix(GatewayPrefix, "/"))
	}
	id := strings.ToLower(method)
	for _, w := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '-' || r == '.' }) {
		id += "_" + w
	}
	return id
}

// tag groups operations by their area: the first word of the path, or
// gateway.
func tag(path string) string {
	if strings.HasPrefix(path, GatewayPrefix) {
		return "gateway"
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(path, Prefix+"/"), "/")
	return first
}

// direction is whether a type is read from requests or written in
// answers: a request's pointer may always be null (the decoder takes null
// for "not given"), an answer's only where it is not omitted.
type direction uint8

const (
	response direction = iota + 1
	request
)

// schemas builds the components: one named schema per struct or enum type.
type schemas struct {
	components map[string]any
	dirs       map[reflect.Type]direction
}

// enum is a string type that lists its values.
type enum interface{ Enum() []string }

var (
	timeType = reflect.TypeFor[time.Time]()
	enumType = reflect.TypeFor[enum]()
)

// ref is the schema of a value of type t: a $ref for a struct or an enum.
func (g *schemas) ref(t reflect.Type, dir direction) map[string]any {
	switch {
	case t == timeType || t == timeFieldType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String && t.Implements(enumType):
		name := t.Name()
		if _, done := g.components[name]; !done {
			g.components[name] = map[string]any{"type": "string", "enum": reflect.Zero(t).Interface().(enum).Enum()}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.ref(t.Elem(), dir)
	case reflect.Struct:
		return g.object(t, dir)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.ref(t.Elem(), dir)}
	case reflect.Array:
		return map[string]any{"type": "array", "items": g.ref(t.Elem(), dir), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("api: %v: a map in the API has string keys", t))
		}
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}
		}
		return map[string]any{"type": "object", "additionalProperties": g.ref(t.Elem(), dir)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int32, reflect.Int16, reflect.Int8:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": "number"}
	}
	panic(fmt.Sprintf("api: %v cannot be in the API", t))
}

// object makes the component of a struct type and refers to it. A type of
// another package is refused: the contract's types live here.
func (g *schemas) object(t reflect.Type, dir direction) map[string]any {
	if t.PkgPath() != apiPkg || t.Name() == "" {
		panic(fmt.Sprintf("api: %v is in the API: declare its body as a type of package api", t))
	}
	name := t.Name()
	ref := map[string]any{"$ref": "#/components/schemas/" + name}
	if prev, done := g.dirs[t]; done {
		if prev != dir && g.differs(t, prev, dir) {
			panic(fmt.Sprintf("api: %s is both a request and a response, which read its pointers differently: declare two types", name))
		}
		return ref
	}
	g.dirs[t] = dir
	g.components[name] = map[string]any{} // a placeholder, for recursive types
	props := map[string]any{}
	var required []string
	g.fields(t, dir, props, &required)
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}
	g.components[name] = schema
	return ref
}

// differs reports whether t's schema in one direction is not its schema in
// the other.
func (g *schemas) differs(t reflect.Type, a, b direction) bool {
	pa, pb := map[string]any{}, map[string]any{}
	var ra, rb []string
	g.fields(t, a, pa, &ra)
	g.fields(t, b, pb, &rb)
	ja, _ := json.Marshal(pa)
	jb, _ := json.Marshal(pb)
	return string(ja) != string(jb)
}

// fields adds the properties of t's fields as encoding/json writes them:
// embedded structs are flattened, "-" and unexported fields left out.
func (g *schemas) fields(t reflect.Type, dir direction, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				g.fields(et, dir, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for _, o := range strings.Split(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		s := g.ref(f.Type, dir)
		if f.Type.Kind() == reflect.Pointer && (dir == request || !optional) {
			s = nullable(s)
		}
		if doc := f.Tag.Get("doc"); doc != "" {
			s = withDoc(s, doc)
		}
		props[name] = s
		if !optional {
			*required = append(*required, name)
		}
	}
}

// nullable lets a schema hold null too.
func nullable(s map[string]any) map[string]any {
	if t, ok := s["type"].(string); ok {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{t, "null"}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func withDoc(s map[string]any, doc string) map[string]any {
	out := map[string]any{"description": doc}
	for k, v := range s {
		out[k] = v
	}
	return out
}
