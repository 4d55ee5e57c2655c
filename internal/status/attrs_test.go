package status

import (
	"encoding/json"
	"reflect"
	"testing"
)

var attrSeeds = []string{
	``, `{}`, `{"result":"negative","tube_capacity":10}`, `{"temperature":36.4}`, `{"symptoms":["fever","dry_cough"],"exposure":false}`,
	`{"a":null}`, `{"a":true,"b":false}`, `{"a":-0.5e3}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":"x\"y"}`,
	`{"a":{"b":1}}`, `{"a":[1,2]}`, `{"a":[]}`, ` { "a" : "b" } `, `{"a":"b"`, `{"a":"b",}`, `{"a":"\xff"}`, `{"a":1e400}`,
	`{"note":"核酸阴性，误判"}`, `{"a":1,"a":2}`, `[1]`, `null`,
}

func FuzzDecodeAttrs(f *testing.F) {
	for _, s := range attrSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want map[string]any
		werr := json.Unmarshal([]byte(s), &want)
		m, ok := parseFlat(s)
		if ok {
			if werr != nil {
				t.Fatalf("%q: parsed, but encoding/json refuses it: %v", s, werr)
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("%q: got %#v, encoding/json gives %#v", s, m, want)
			}
		}
		got, err := decodeAttrs(s)
		if s == "" || s == "{}" {
			if got != nil || err != nil {
				t.Fatalf("%q: %v %v", s, got, err)
			}
			return
		}
		if (err == nil) != (werr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: decodeAttrs %#v %v, encoding/json %#v %v", s, got, err, want, werr)
		}
	})
}

func BenchmarkDecodeAttrs(b *testing.B) {
	s := `{"result":"negative","tube_capacity":10,"tube":"T000123","site":"s1"}`
	b.Run("flat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeAttrs(s)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			json.Unmarshal([]byte(s), &m)
		}
	})
}
