package api

import (
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/rules"
)

// The request and response bodies of the API are the types of the
// *_types.go files, one per feature: the feature packages carry no JSON
// tags for the API's sake, and the handlers translate. The OpenAPI document
// is generated from these types (openapi.go), so a field's json tag is its
// contract:
//   - a field without omitempty or omitzero is always present (required);
//   - a pointer without omitempty may be null, and so may every pointer of
//     a request (the decoder takes null for "not given");
//   - a type with an Enum method lists its values;
//   - a `doc` tag is the field's description.
//
// Request fields that may be left out are tagged omitempty even though the
// decoder ignores the option: the tag tells the document.

// Text is a message in Chinese and English.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

func text(t fact.Text) Text { return Text(t) }

// Color is a health code colour.
type Color string

// Enum lists the colours, best first.
func (Color) Enum() []string { return []string{"green", "yellow", "red"} }

func color(c rules.Color) Color { return Color(c.String()) }

// IDType is a kind of identity document.
type IDType string

// Enum lists the identity document types.
func (IDType) Enum() []string {
	var out []string
	for _, t := range idnum.Types() {
		out = append(out, string(t))
	}
	return out
}

// Role is an operator's role.
type Role string

// Enum lists the roles.
func (Role) Enum() []string {
	var out []string
	for _, r := range auth.Roles {
		out = append(out, string(r))
	}
	return out
}

// CodeKind is the kind of a signed code: a resident's dynamic code, a
// printed care code (爱心码) or a test certificate.
type CodeKind string

// Enum lists the kinds of code.
func (CodeKind) Enum() []string { return []string{"dynamic", "care", "certificate"} }

// nonNil makes an absent list an empty one, so that a list is never null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
