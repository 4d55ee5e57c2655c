package web

import (
	"net/http"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// The operator's second factor (TOTP): every operator may enrol one here;
// where admins must have one (--admin-totp) this is the only page an admin
// without one reaches.
func (s *Server) totpRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/totp", s.console("", s.totpPage))
	mux.HandleFunc("POST /console/totp/new", s.console("", s.newTOTP))
	mux.HandleFunc("POST /console/totp/confirm", s.console("", s.confirmTOTP))
}

type totpData struct {
	On      bool   // a second factor is in force
	Must    bool   // the deployment requires one of this admin
	Pending bool   // a secret was shown and waits for its code
	Secret  string // shown once, on the page that made it
	URI     string
	QR      string
}

func (s *Server) showTOTP(w http.ResponseWriter, r *http.Request, p *page, status int, d totpData) error {
	ops, err := s.Auth.Self(r.Context(), p.Op)
	if err != nil {
		return err
	}
	d.On, d.Must = ops.TOTP, p.Op.MustEnrol
	p.Title, p.NavOn, p.Data = p.T("nav.totp"), "/console/totp", d
	s.render(w, r, status, "console_totp", p)
	return nil
}

func (s *Server) totpPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showTOTP(w, r, p, http.StatusOK, totpData{})
}

func (s *Server) newTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	e, err := s.Auth.BeginTOTP(r.Context(), p.Op)
	if err != nil {
		return err
	}
	d := totpData{Pending: true, Secret: e.Secret, URI: e.URI}
	if d.QR, err = qrSVG(e.URI, qrcode.Medium, p.T("totp.qr_label")); err != nil {
		return err
	}
	return s.showTOTP(w, r, p, http.StatusOK, d)
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, p *page) error {
	err := s.Auth.ConfirmTOTP(r.Context(), p.Op, strings.TrimSpace(r.PostFormValue("code")))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showTOTP(w, r, p, st, totpData{Pending: true}) })
	}
	s.flash(w, r, "flash.totp_on", "")
	redirect(w, r, "/console/totp")
	return nil
}
