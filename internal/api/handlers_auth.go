package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/idnum"
)

func (s *Server) sendOTP(w http.ResponseWriter, r *http.Request) error {
	var in SendOTPRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	phone, err := idnum.NormalizePhone(in.Phone)
	if err != nil {
		return err
	}
	if err := s.Auth.SendOTPIn(r.Context(), phone, in.Lang); err != nil {
		return err
	}
	delayed, err := s.Outbox.Delayed(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, SendOTPResponse{Sent: true, Phone: idnum.MaskPhone(phone), Delayed: delayed})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Phone string `json:"phone"`
		OTP   string `json:"otp"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	phone, err := idnum.NormalizePhone(in.Phone)
	if err != nil {
		return err
	}
	login, err := s.Auth.Login(r.Context(), phone, in.OTP)
	if err != nil {
		return err
	}
	_, err = s.Persons.Profile(r.Context(), login.AccountID)
	registered := err == nil
	writeJSON(w, http.StatusOK, map[string]any{"token": login.Token, "expires_at": login.ExpiresAt, "registered": registered})
	return nil
}

func (s *Server) operatorLogin(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	token, op, err := s.Auth.OperatorLogin(r.Context(), in.Username, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "operator": op})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.authenticate(r); err != nil {
		return err
	}
	if err := s.Auth.Logout(r.Context(), bearer(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in auth.NewOperator
	if err := decode(w, r, &in); err != nil {
		return err
	}
	op, err := s.Auth.CreateOperator(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, op)
	return nil
}

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ops, err := s.Auth.Operators(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"operators": ops})
	return nil
}
