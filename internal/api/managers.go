package api

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/person"
)

func managerRequestResponse(r *person.ManagerRequest) ManagerRequestResponse {
	return ManagerRequestResponse{ID: r.ID, PersonID: r.PersonID, MaskedName: r.MaskedName, Relation: r.Relation,
		State: r.State, RequesterPhone: r.RequesterPhone, CreatedAt: r.CreatedAt}
}

func (s *Server) managerRoutes() []route {
	return []route{
		{Method: "GET", Path: "/me/manager-requests", Auth: "resident",
			Summary: "Pending requests to manage the resident's dependents (someone else knows their name and ID number)",
			Out:     replies(ok(ManagerRequestListResponse{})),
			h:       s.resident(s.managerRequests)},
		{Method: "POST", Path: "/me/manager-requests/{id}/approve", Auth: "resident: a manager of the person",
			Summary: "Consent: the requester manages the person too; every manager is told",
			Out:     replies(ok(ManagerRequestResponse{})),
			h:       s.resident(s.decideManagerRequest(true))},
		{Method: "POST", Path: "/me/manager-requests/{id}/refuse", Auth: "resident: a manager of the person",
			Summary: "Refuse a request to manage the person",
			Out:     replies(ok(ManagerRequestResponse{})),
			h:       s.resident(s.decideManagerRequest(false))},
		{Method: "POST", Path: "/admin/persons/{id}/managers", Auth: "operator: person.write",
			Summary: "Desk verification (核验): the account of {phone} manages the person, after its holder's documents were checked in person; audited; every manager is told",
			In:      DeskManagerRequest{}, Out: replies(created(PersonView{})),
			h: s.operator(auth.PersonWrite, s.addManagerAtDesk)},
	}
}

func (s *Server) managerRequests(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	rs, err := s.Persons.ManagerRequests(r.Context(), pr)
	if err != nil {
		return err
	}
	out := ManagerRequestListResponse{Requests: make([]ManagerRequestResponse, len(rs))}
	for i := range rs {
		out.Requests[i] = managerRequestResponse(&rs[i])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) decideManagerRequest(approve bool) authed {
	return func(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
		req, err := s.Persons.DecideManagerRequest(r.Context(), pr, r.PathValue("id"), approve)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, managerRequestResponse(req))
		return nil
	}
}

func (s *Server) addManagerAtDesk(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in DeskManagerRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Persons.AddManagerAtDesk(r.Context(), pr, r.PathValue("id"), in.Phone, in.Relation)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.view(p, pr))
	return nil
}
