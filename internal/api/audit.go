package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/keys"
)

// auditHeads publishes the signed heads of the audit log, oldest first, so
// that anyone can keep a copy a later rewrite of the log contradicts.
func (s *Server) auditHeads(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 1000, 1000)
	if err != nil {
		return err
	}
	after, err := intParam(q, ErrAfterInvalid, "after", 0)
	if err != nil {
		return err
	}
	heads, err := audit.Heads(r.Context(), s.DB, int64(after), limit)
	if err != nil {
		return err
	}
	return s.writeHeads(w, r, http.StatusOK, heads)
}

// signAuditHead signs a head now, on demand (before a backup, an audit).
func (s *Server) signAuditHead(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in AuditHeadRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	h, err := s.AuditHeads.SignFor(r.Context(), pr)
	if err != nil {
		return err
	}
	return s.writeHeads(w, r, http.StatusCreated, []audit.Head{h})
}

// writeHeads answers heads with the keys that signed them.
func (s *Server) writeHeads(w http.ResponseWriter, r *http.Request, status int, heads []audit.Head) error {
	all, err := keys.AllPublic(r.Context(), s.DB)
	if err != nil {
		return err
	}
	used := codeformat.TrustList{}
	for _, h := range heads {
		for kid, k := range all {
			if keys.KID(kid) == h.KID {
				used[kid] = k
			}
		}
	}
	b, err := audit.MarshalHeads(used, heads)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=60")
	w.WriteHeader(status)
	w.Write(b)
	return nil
}
