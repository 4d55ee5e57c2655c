package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
)

// The code endpoints. GET /me/code and POST /verify are the hottest paths
// of the platform: they read no database, parse and write their JSON by
// hand into pooled buffers, and set headers without allocating.

var (
	headerJSON    = []string{"application/json; charset=utf-8"}
	headerNoStore = []string{"no-store"}
)

// writeRaw writes a JSON body that is already encoded.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON
	h["Cache-Control"] = headerNoStore
	w.WriteHeader(status)
	w.Write(body)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// trustList serves the public keys of the region (docs/CODE-FORMAT.md §9).
func (s *Server) trustList(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Short enough that verifiers see a rotation well before its switch.
	h.Set("Cache-Control", "public, max-age=30")
	w.Write(s.CodeKeys.TrustListJSON())
	return nil
}

func (s *Server) myCode(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	iss, err := s.Codes.MyCode(r.Context(), p.ID)
	if err != nil {
		return err
	}
	writeIssued(w, &iss)
	return nil
}

func (s *Server) dependentCode(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	iss, err := s.Codes.DependentCode(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeIssued(w, &iss)
	return nil
}

func writeIssued(w http.ResponseWriter, iss *codes.Issued) {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"code":`...)
	b = appendString(b, iss.Code)
	b = append(b, `,"kind":`...)
	b = appendString(b, iss.Kind.String())
	b = append(b, `,"color":`...)
	b = appendString(b, iss.Color.String())
	b = append(b, `,"masked_name":`...)
	b = appendString(b, iss.MaskedName)
	b = append(b, `,"issued_at":`...)
	b = appendTime(b, iss.IssuedAt)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, iss.ExpiresAt)
	b = append(b, "}\n"...)
	writeRaw(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}

func (s *Server) myCodePNG(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	size, err := pngSize(r)
	if err != nil {
		return err
	}
	iss, err := s.Codes.MyCode(r.Context(), p.ID)
	if err != nil {
		return err
	}
	return writePNG(w, iss.Code, iss.ExpiresAt, size)
}

func (s *Server) dependentCodePNG(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	size, err := pngSize(r)
	if err != nil {
		return err
	}
	iss, err := s.Codes.DependentCode(r.Context(), p.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writePNG(w, iss.Code, iss.ExpiresAt, size)
}

// pngSize reads ?size=N, the side of the image in pixels.
func pngSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("size")
	if v == "" {
		return 400, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 2000 {
		return 0, ErrSizeInvalid
	}
	return n, nil
}

// writePNG renders a code as a QR image. The expiry travels in a header,
// since the image itself cannot say it.
func writePNG(w http.ResponseWriter, text string, expires time.Time, size int) error {
	img, err := codeformat.PNG(text, size)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h["Cache-Control"] = headerNoStore
	h.Set("X-Code-Expires-At", expires.UTC().Format(time.RFC3339))
	w.Write(img)
	return nil
}

// Verification.

// maxVerifyBody bounds a verify request: a code is at most 1024
// characters, which JSON escapes could make six times longer.
const maxVerifyBody = 8 << 10

func (s *Server) verify(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
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
	in, err := parseVerifyRequest(body)
	if err != nil {
		return err
	}
	res, err := s.Codes.Verify(r.Context(), p, in.code, in.temp)
	if err != nil {
		return err
	}
	out := appendResult(body[:0], &res)
	*bp = out[:0]
	writeRaw(w, http.StatusOK, out)
	return nil
}

func (s *Server) verifyID(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in VerifyIDRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var t codes.Temperature
	if in.Temperature != nil {
		t = codes.Temperature{Celsius: *in.Temperature, Set: true}
	}
	res, err := s.Codes.VerifyID(r.Context(), p, in.IDType, in.IDNumber, t)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, appendResult(nil, &res))
	return nil
}

// verifyReasons lists what every reason means, for scanner pages and devices.
func (s *Server) verifyReasons(w http.ResponseWriter, r *http.Request) error {
	out := ReasonsResponse{Reasons: []ReasonText{}}
	for _, x := range codes.Reasons() {
		t, _ := codes.ReasonText(x)
		out.Reasons = append(out.Reasons, ReasonText{Reason: x, ZH: t.ZH, EN: t.EN})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
