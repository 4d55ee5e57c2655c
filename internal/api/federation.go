package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/rules"
)

// The federation protocol (/federation/v1/...) is spoken between
// deployments and the hub, not by integrators: its bodies are signed
// envelopes (docs/FEDERATION.md), so it is served beside the API rather than
// declared in its OpenAPI document. Errors have the API's shape.

// hubService is the hub (federation.Hub).
type hubService interface {
	Upload(ctx context.Context, raw []byte) error
	Bundle() (raw []byte, etag string)
	Relay(ctx context.Context, raw []byte) ([]byte, error)
}

// statusAnswerer is a region's side of status queries (federation.Node).
type statusAnswerer interface {
	Answer(ctx context.Context, raw []byte) ([]byte, error)
}

// HubHandler serves the hub's side of the federation protocol.
func HubHandler(h hubService, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+federation.PathTrustList, func(w http.ResponseWriter, r *http.Request) {
		body, err := readFederation(r)
		if err == nil {
			err = h.Upload(r.Context(), body)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+federation.PathTrustLists, func(w http.ResponseWriter, r *http.Request) {
		raw, etag := h.Bundle()
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeRaw(w, http.StatusOK, raw)
	})
	mux.HandleFunc("POST "+federation.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		body, err := readFederation(r)
		var ans []byte
		if err == nil {
			ans, err = h.Relay(r.Context(), body)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeRaw(w, http.StatusOK, ans)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, ErrRouteNotFound.Withf("no federation endpoint %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// NodeFederationHandler serves a region's side: status queries the hub
// relays to it.
func NodeFederationHandler(n statusAnswerer, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+federation.PathStatus, func(w http.ResponseWriter, r *http.Request) {
		body, err := readFederation(r)
		var ans []byte
		if err == nil {
			ans, err = n.Answer(r.Context(), body)
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeRaw(w, http.StatusOK, ans)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, ErrRouteNotFound.Withf("no federation endpoint %s %s on a region's node", r.Method, r.URL.Path))
	})
	return mux
}

func readFederation(r *http.Request) ([]byte, error) {
	if err := checkJSON(r); err != nil {
		return nil, err
	}
	body, err := readBody(r, nil, federation.MaxMessage)
	if errors.Is(err, ErrBodyTooLarge) {
		return nil, ErrBodyTooLarge.Withf("a federation message is at most %d bytes", federation.MaxMessage)
	}
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrEmptyBody
	}
	return body, nil
}

func (s *Server) federationOverview(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if s.Federation == nil {
		return federation.ErrNotFederated
	}
	in, rs, err := s.Federation.Overview(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, federationOverview(in, rs))
	return nil
}

func (s *Server) setColorPolicy(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ColorPolicyRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if s.Federation == nil {
		return federation.ErrNotFederated
	}
	fc, err := rules.ParseColor(string(in.ForeignColor))
	if err != nil {
		return federation.ErrBadColor.Withf("foreign_color %q: use green, yellow or red", in.ForeignColor)
	}
	lc, err := rules.ParseColor(string(in.LocalColor))
	if err != nil {
		return federation.ErrBadColor.Withf("local_color %q: use green, yellow or red", in.LocalColor)
	}
	if err := s.Federation.SetPolicy(r.Context(), p, in.ForeignRegion, fc, lc); err != nil {
		return err
	}
	return s.federationOverview(w, r, p)
}
