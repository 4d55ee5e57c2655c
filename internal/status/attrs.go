package status

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeAttrs reads a fact's stored attributes. Attributes are flat by
// construction (the fact registry has strings, numbers, booleans and lists
// of strings), and a recompute decodes millions of them, so the common shape
// is parsed here without reflection; anything else (escapes, nesting) goes
// to encoding/json. Either way the result is what json.Unmarshal gives:
// strings, float64, bool, nil and []any of strings.
func decodeAttrs(s string) (map[string]any, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	if m, ok := parseFlat(s); ok {
		return m, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// parseFlat parses {"k":v,...} where every key and string has no escape and
// every v is a string, a number, true, false, null or a list of strings.
func parseFlat(s string) (map[string]any, bool) {
	p := flat{s: s}
	if !p.byte('{') {
		return nil, false
	}
	m := make(map[string]any, 4)
	if p.byte('}') {
		return m, p.end()
	}
	for {
		k, ok := p.str()
		if !ok || !p.byte(':') {
			return nil, false
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if p.byte(',') {
			continue
		}
		if p.byte('}') {
			return m, p.end()
		}
		return nil, false
	}
}

type flat struct {
	s string
	i int
}

func (p *flat) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *flat) byte(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *flat) end() bool {
	p.skip()
	return p.i == len(p.s)
}

// str reads a string without escapes or control characters.
func (p *flat) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			out := p.s[start:p.i]
			p.i++
			// encoding/json would replace invalid UTF-8; leave that to it.
			return out, utf8.ValidString(out)
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

func (p *flat) value() (any, bool) {
	p.skip()
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == 't' && len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "true":
		p.i += 4
		return true, true
	case c == 'f' && len(p.s)-p.i >= 5 && p.s[p.i:p.i+5] == "false":
		p.i += 5
		return false, true
	case c == 'n' && len(p.s)-p.i >= 4 && p.s[p.i:p.i+4] == "null":
		p.i += 4
		return nil, true
	case c == '[':
		p.i++
		list := []any{}
		if p.byte(']') {
			return list, true
		}
		for {
			v, ok := p.str()
			if !ok {
				return nil, false
			}
			list = append(list, v)
			if p.byte(',') {
				continue
			}
			if p.byte(']') {
				return list, true
			}
			return nil, false
		}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.s) {
			c := p.s[p.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				p.i++
				continue
			}
			break
		}
		num := p.s[start:p.i]
		if !validNumber(num) {
			return nil, false
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, false
		}
		return f, true
	}
	return nil, false
}

// validNumber checks the JSON number grammar, which is stricter than
// ParseFloat's (no leading zeros, no "1.", no ".5", no "+1").
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
