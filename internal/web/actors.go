package web

import (
	"net/http"
	"strings"

	"github.com/healthcode/healthcode/internal/auth"
)

// nameActors looks up who the actor strings of a page are ("operator:…",
// "apikey:…"), so that the page names them (Actor) instead of showing ids.
func (s *Server) nameActors(r *http.Request, p *page, actors ...string) error {
	names, err := s.Auth.ActorNames(r.Context(), actors)
	if err != nil {
		return err
	}
	if p.actors == nil {
		p.actors = names
		return nil
	}
	for k, v := range names {
		p.actors[k] = v
	}
	return nil
}

// Actor is an actor as a person reads it: an operator's display name and
// username, a key's name, "resident" or "system"; an actor nobody named
// stays as stored.
func (p *page) Actor(actor string) string {
	kind, _, _ := strings.Cut(actor, ":")
	n, ok := p.actors[actor]
	switch {
	case actor == "system" || kind == "system":
		return p.T("actor.system")
	case actor == "operator:demo-loader":
		return p.T("actor.demo")
	case auth.Kind(kind) == auth.Resident:
		return p.T("actor.resident")
	case !ok || n.Name == "":
		return actor
	case n.User != "" && n.User != n.Name:
		return n.Name + "（" + n.User + "）"
	case auth.Kind(kind) == auth.APIKey:
		return p.T("actor.key", n.Name)
	}
	return n.Name
}
