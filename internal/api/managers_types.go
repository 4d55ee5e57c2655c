package api

import "time"

// ManagerRequestResponse is a request to manage a person who already has
// a manager: the answer to POST /me/dependents for such a person (202), and
// an entry of GET /me/manager-requests.
type ManagerRequestResponse struct {
	ID             string    `json:"id"`
	PersonID       string    `json:"person_id"`
	MaskedName     string    `json:"masked_name"`
	Relation       string    `json:"relation"`
	State          string    `json:"state" doc:"pending, approved, refused or desk (settled by a service desk's verification)"`
	RequesterPhone string    `json:"requester_phone" doc:"masked"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

// ManagerRequestListResponse is GET /me/manager-requests.
type ManagerRequestListResponse struct {
	Requests []ManagerRequestResponse `json:"requests"`
}

// DeskManagerRequest is POST /admin/persons/{id}/managers.
type DeskManagerRequest struct {
	Phone    string `json:"phone" doc:"the phone the requester logged in with"`
	Relation string `json:"relation,omitempty" doc:"child, parent, spouse or other (the default)"`
}
