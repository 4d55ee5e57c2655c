package foreign

import (
	"bytes"
	_ "embed"
	"reflect"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/DCC.combined-schema.json
var dccSchemaJSON []byte

var mapStringAny = reflect.TypeOf(map[string]any(nil))

var dccSchema = sync.OnceValue(func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(dccSchemaJSON))
	if err != nil {
		panic("foreign: the embedded DCC schema: " + err.Error())
	}
	c := jsonschema.NewCompiler()
	const url = "https://id.uvci.eu/DCC.combined-schema.json"
	if err := c.AddResource(url, doc); err != nil {
		panic("foreign: the embedded DCC schema: " + err.Error())
	}
	return c.MustCompile(url)
})

// schemaValid holds the DCC to the DCC JSON schema (1.3.x, which accepts
// the earlier versions' certificates too).
func schemaValid(d map[string]any) bool {
	if ver, _ := d["ver"].(string); strings.HasPrefix(ver, "1.0.") {
		d = legacy(d)
	}
	b, err := jsonValue(d)
	if err != nil {
		return false
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return false
	}
	return dccSchema().Validate(v) == nil
}

// legacy reads a DCC of schema 1.0, as the first issuers wrote them: null
// stands for an absent group, and the date of birth may be a date-time at
// midnight. The later schema refuses both; the certificate was valid
// under its own.
func legacy(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		if v != nil {
			out[k] = v
		}
	}
	if dob, ok := out["dob"].(string); ok {
		if day, rest, ok := strings.Cut(dob, "T"); ok && (rest == "00:00:00" || rest == "00:00:00Z") {
			out["dob"] = day
		}
	}
	return out
}
