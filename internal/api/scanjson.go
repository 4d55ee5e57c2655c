package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/gateway"
)

// The JSON of POST /gateway/v1/scan, read and written by hand as POST
// /verify's is (verifyjson.go): every scan of every organisation runs it.
// decode and writeJSON with ScanRequest and ScanResponse are the
// reference; scanjson_test.go holds the two to the same answers.

func (s *Server) gatewayScan(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := checkJSON(r); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	body, err := readBody(r, (*bp)[:0], maxVerifyBody)
	*bp = body[:0]
	if err != nil {
		return err
	}
	in, err := parseScanRequest(body)
	if err != nil {
		return err
	}
	sc, err := s.Gateway.Scan(r.Context(), p, gateway.ScanInput{Code: in.Code, IDType: in.IDType, IDNumber: in.IDNumber})
	if err != nil {
		return err
	}
	out := appendScan(body[:0], sc)
	*bp = out[:0]
	writeRaw(w, http.StatusOK, out)
	return nil
}

// parseScanRequest reads a scan body strictly, as decode would into a
// ScanRequest (one object, no unknown or repeated fields, no trailing
// data, no NUL), without reflection.
func parseScanRequest(b []byte) (ScanRequest, error) {
	var in ScanRequest
	p := jsonScanner{b: b}
	p.ws()
	if p.i == len(b) {
		return in, ErrEmptyBody
	}
	if !p.eat('{') {
		return in, errNotObject
	}
	p.ws()
	var seen [3]bool
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
			var field int
			var to *string
			switch string(key) {
			case "code":
				field, to = 0, &in.Code
			case "id_type":
				field, to = 1, &in.IDType
			case "id_number":
				field, to = 2, &in.IDNumber
			default:
				k, _ := json.Marshal(string(key))
				return in, ErrUnknownField.Withf("unknown field %s", k)
			}
			if seen[field] {
				return in, errDuplicate(string(key))
			}
			seen[field] = true
			if !p.null() {
				if p.peek() != '"' {
					return in, p.wrongType(string(key), "a string")
				}
				v, err := p.str()
				if err != nil {
					return in, err
				}
				*to = string(v)
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
	if strings.ContainsRune(in.Code, 0) || strings.ContainsRune(in.IDType, 0) || strings.ContainsRune(in.IDNumber, 0) {
		return in, ErrNULCharacter
	}
	return in, nil
}

// appendScan writes a scan's answer as writeJSON writes its ScanResponse.
func appendScan(b []byte, sc *gateway.Scan) []byte {
	b = append(b, `{"subject":`...)
	b = appendString(b, sc.Subject)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, sc.ExpiresAt)
	b = append(b, `,"color":`...)
	b = appendString(b, sc.Color.String())
	b = append(b, `,"masked_name":`...)
	b = appendString(b, sc.MaskedName)
	b = append(b, `,"admitted":`...)
	b = strconv.AppendBool(b, sc.Admitted)
	b = append(b, `,"reasons":[`...)
	for i, x := range sc.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, x)
	}
	b = append(b, `],"kind":`...)
	b = appendString(b, sc.Kind)
	return append(b, "}\n"...)
}
