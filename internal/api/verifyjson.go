package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/healthcode/healthcode/internal/codes"
)

// The JSON of POST /verify, read and written by hand: the path runs for
// every scan, so it parses the little a request holds without reflection
// and appends its answer into a pooled buffer. decode and writeJSON are the
// reference; verifyjson_test.go holds the two to the same answers (the fuzzers compare them).

// checkJSON refuses a body declared as anything but JSON (no header is
// taken as JSON, as decode does).
func checkJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/json" || ct == "application/json; charset=utf-8" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return nil
	}
	return ErrUnsupportedMediaType
}

var errBodyTooLarge = ErrBodyTooLarge.Withf("the body is over %d bytes", maxVerifyBody)

// readBody appends the request body to buf, refusing more than limit bytes.
func readBody(r *http.Request, buf []byte, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return buf, errBodyTooLarge
	}
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return buf, errBodyTooLarge
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return buf, errBodyTooLarge
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return buf, nil
			}
			return buf, ErrBodyUnreadable.Withf("the request body could not be read: %v", err)
		}
	}
}

// verifyRequest is the body of POST /verify: {"code": "...", "temperature": 37.5}.
type verifyRequest struct {
	code string
	temp codes.Temperature
}

// parseVerifyRequest reads a verify body strictly, as decode would (one
// object, no unknown or repeated fields, no trailing data), without
// reflection: it runs for every scan.
func parseVerifyRequest(b []byte) (verifyRequest, error) {
	var in verifyRequest
	p := jsonScanner{b: b}
	p.ws()
	if p.i == len(b) {
		return in, ErrEmptyBody
	}
	if !p.eat('{') {
		return in, errNotObject
	}
	p.ws()
	var seenCode, seenTemp bool
	if !p.eat('}') {
		for {
			key, err := p.str()
			if err != nil {
				return in, err
			}
			p.ws()
			if !p.eat(':') {
				return in, p.syntax("expected ':' after a field name")
			}
			p.ws()
			switch string(key) {
			case "code":
				if seenCode {
					return in, errDuplicate("code")
				}
				seenCode = true
				if p.null() {
					break
				}
				if p.peek() != '"' {
					return in, p.wrongType("code", "a string")
				}
				v, err := p.str()
				if err != nil {
					return in, err
				}
				in.code = string(v)
			case "temperature":
				if seenTemp {
					return in, errDuplicate("temperature")
				}
				seenTemp = true
				if p.null() {
					break
				}
				if c := p.peek(); c != '-' && (c < '0' || c > '9') {
					return in, p.wrongType("temperature", "a number")
				}
				v, err := p.number()
				if err != nil {
					return in, err
				}
				in.temp = codes.Temperature{Celsius: v, Set: true}
			default:
				k, _ := json.Marshal(string(key))
				return in, ErrUnknownField.Withf("unknown field %s", k)
			}
			p.ws()
			if p.eat(',') {
				p.ws()
				continue
			}
			if p.eat('}') {
				break
			}
			return in, p.syntax("expected ',' or '}' after a field")
		}
	}
	p.ws()
	if p.i != len(b) {
		return in, ErrInvalidJSON.Withf("the body must hold exactly one JSON object")
	}
	if in.code == "" {
		return in, codes.ErrCodeMissing
	}
	return in, nil
}

var errNotObject = ErrInvalidJSON.Withf("the body must be a JSON object")

func errDuplicate(field string) error {
	return ErrDuplicateField.Withf("field %q appears twice", field)
}

// jsonScanner reads the little JSON a verify request holds.
type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonScanner) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) null() bool {
	if bytes.HasPrefix(p.b[p.i:], []byte("null")) {
		p.i += 4
		return true
	}
	return false
}

func (p *jsonScanner) syntax(what string) error {
	if p.i >= len(p.b) {
		return ErrInvalidJSON.Withf("the JSON body ends too early")
	}
	return ErrInvalidJSON.Withf("malformed JSON at byte %d: %s", p.i, what)
}

// wrongType reports a value of the wrong type, or malformed JSON where no
// value starts.
func (p *jsonScanner) wrongType(field, want string) error {
	switch c := p.peek(); {
	case c == '"', c == '{', c == '[', c == 't', c == 'f', c == '-', '0' <= c && c <= '9':
		return ErrInvalidField.Withf("field %q must be %s", field, want)
	}
	return p.syntax("expected a value")
}

// str reads a string at p.i. A string without escapes is returned in
// place; the simple escapes (a scanner's CR/LF arrives as \r\n) are undone
// here; one with \u escapes or invalid UTF-8 is decoded by encoding/json,
// which replaces invalid UTF-8 as decode would.
func (p *jsonScanner) str() ([]byte, error) {
	if !p.eat('"') {
		return nil, p.syntax("expected a string")
	}
	start := p.i
	var out []byte // nil until the first escape
	for i := start; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			if out == nil {
				out = p.b[start:i]
			}
			if !utf8.Valid(out) {
				return p.slowStr(start)
			}
			p.i = i + 1
			return out, nil
		case c == '\\':
			if i+1 == len(p.b) {
				break
			}
			var r byte
			switch e := p.b[i+1]; e {
			case '"', '\\', '/':
				r = e
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			default:
				return p.slowStr(start)
			}
			if out == nil {
				out = append(make([]byte, 0, len(p.b)-start), p.b[start:i]...)
			}
			out = append(out, r)
			i++
		case c < 0x20:
			p.i = i
			return nil, p.syntax("control character in a string")
		default:
			if out != nil {
				out = append(out, c)
			}
		}
	}
	p.i = len(p.b)
	return nil, p.syntax("unterminated string")
}

// slowStr decodes the string starting after the quote at start-1 with
// encoding/json.
func (p *jsonScanner) slowStr(start int) ([]byte, error) {
	end := -1
	for i := start; i < len(p.b); i++ {
		if p.b[i] == '\\' {
			i++
		} else if p.b[i] == '"' {
			end = i
			break
		}
	}
	if end < 0 {
		p.i = len(p.b)
		return nil, p.syntax("unterminated string")
	}
	var s string
	if err := json.Unmarshal(p.b[start-1:end+1], &s); err != nil {
		p.i = start
		return nil, p.syntax("invalid string")
	}
	p.i = end + 1
	return []byte(s), nil
}

// number reads a JSON number (RFC 8259 grammar) at p.i.
func (p *jsonScanner) number() (float64, error) {
	start := p.i
	p.eat('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return 0, p.syntax("invalid number")
	}
	if p.eat('.') {
		if !p.digits() {
			return 0, p.syntax("invalid number")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return 0, p.syntax("invalid number")
		}
	}
	v, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		// Only a range error is possible after the grammar check.
		return 0, codes.ErrTemperatureOutOfRange.Withf("temperature %s is out of range", p.b[start:p.i])
	}
	return v, nil
}

func (p *jsonScanner) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// appendResult writes a verification result:
// {"valid","admitted","color","color_source","masked_name","kind","issuer",
// "expires_at","result","result_at","reasons"}; absent values are null.
func appendResult(b []byte, r *codes.Result) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, r.Valid)
	b = append(b, `,"admitted":`...)
	b = strconv.AppendBool(b, r.Admitted)
	b = append(b, `,"color":`...)
	b = appendOptString(b, r.Color.String())
	b = append(b, `,"color_source":`...)
	b = appendOptString(b, r.ColorSource)
	b = append(b, `,"masked_name":`...)
	b = appendOptString(b, r.MaskedName)
	b = append(b, `,"kind":`...)
	b = appendOptString(b, r.Kind)
	b = append(b, `,"issuer":`...)
	b = appendOptString(b, r.Issuer)
	b = append(b, `,"expires_at":`...)
	if r.ExpiresAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, r.ExpiresAt)
	}
	b = append(b, `,"result":`...)
	b = appendOptString(b, r.Result)
	b = append(b, `,"result_at":`...)
	if r.ResultAt.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, r.ResultAt)
	}
	b = append(b, `,"reasons":[`...)
	for i, x := range r.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, x)
	}
	b = append(b, ']')
	return append(b, "}\n"...)
}

func appendOptString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping as encoding/json does
// (without its HTML escaping, as writeJSON): quotes, backslashes, control
// characters, invalid UTF-8 as U+FFFD, and U+2028/U+2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
