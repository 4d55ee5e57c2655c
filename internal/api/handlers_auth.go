package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/clientaddr"
	"github.com/healthcode/healthcode/internal/idnum"
)

func (s *Server) sendOTP(w http.ResponseWriter, r *http.Request) error {
	var in OTPRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	phone, err := idnum.NormalizePhone(in.Phone)
	if err != nil {
		return err
	}
	if err := s.Auth.SendOTPFrom(r.Context(), phone, in.Lang, clientaddr.Of(r)); err != nil {
		return err
	}
	delayed, err := s.Outbox.Delayed(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, OTPResponse{Sent: true, Phone: idnum.MaskPhone(phone), Delayed: delayed})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in LoginRequest
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
	writeJSON(w, http.StatusOK, LoginResponse{Token: login.Token, ExpiresAt: login.ExpiresAt, Registered: registered})
	return nil
}

func (s *Server) operatorLogin(w http.ResponseWriter, r *http.Request) error {
	var in OperatorLoginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	token, op, err := s.Auth.OperatorLoginWith(r.Context(), auth.OperatorCredentials{Username: in.Username, Password: in.Password,
		TOTP: in.TOTP, Addr: clientaddr.Of(r)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, OperatorLoginResponse{Token: token, Operator: operatorResponse(op)})
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
	var in OperatorRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	op, err := s.Auth.CreateOperator(r.Context(), p, auth.NewOperator(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, operatorResponse(op))
	return nil
}

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ops, err := s.Auth.Operators(r.Context(), p)
	if err != nil {
		return err
	}
	out := OperatorListResponse{Operators: make([]OperatorResponse, len(ops))}
	for i := range ops {
		out.Operators[i] = operatorResponse(&ops[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
