package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/status"
)

// PersonView is a person as the API shows them: masked unless the reader's
// role may see them in full, with the region's name.
type PersonView struct {
	ID         string `json:"id" doc:"the person's id, stable and opaque"`
	Name       string `json:"name"`
	IDType     IDType `json:"id_type"`
	IDNumber   string `json:"id_number"`
	Phone      string `json:"phone,omitempty" doc:"absent for a person without a phone of their own"`
	Region     string `json:"region" doc:"the residential region code (GB/T 2260, 6 to 12 digits)"`
	RegionName string `json:"region_name"`
	Relation   string `json:"relation,omitempty" doc:"for a dependent: how the resident is related to them"`
}

func personView(m person.Masked, regionName string) PersonView {
	return PersonView{ID: m.ID, Name: m.Name, IDType: IDType(m.IDType), IDNumber: m.IDNumber, Phone: m.Phone, Region: m.Region,
		RegionName: regionName}
}

// RegisterRequest is POST /me/register: the person behind the phone.
type RegisterRequest struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type" doc:"resident_id, passport, hk_macao_permit, taiwan_permit or foreign_permanent_residence"`
	IDNumber string `json:"id_number"`
	Region   string `json:"region,omitempty" doc:"residential region code; the deployment's region if left out"`
}

// DependentRequest is POST /me/dependents: a person the resident manages (代办).
type DependentRequest struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Region   string `json:"region,omitempty"`
	Relation string `json:"relation,omitempty" doc:"child, parent, spouse or other (the default)"`
}

// PersonRequest is POST /admin/persons: a person registered on their behalf.
type PersonRequest struct {
	Name     string `json:"name"`
	IDType   string `json:"id_type"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
	Region   string `json:"region,omitempty"`
}

// DependentListResponse is GET /me/dependents.
type DependentListResponse struct {
	Dependents []PersonView `json:"dependents"`
}

// PersonListResponse is a page of persons.
type PersonListResponse struct {
	Next    string       `json:"next" doc:"pass as ?after= for the next page; empty on the last"`
	Persons []PersonView `json:"persons"`
}

// MeResponse is GET /me: the masked profile, the colour, why, and what to do.
type MeResponse struct {
	PersonView
	Color     Color     `json:"color"`
	Reason    Text      `json:"reason"`
	Advice    Text      `json:"advice"`
	UpdatedAt time.Time `json:"updated_at,omitzero" doc:"when the colour last changed"`
}

// AdminPersonResponse is GET /admin/persons/{id}: the person, the colour,
// the reason and the rule that decided it, and the facts behind it.
type AdminPersonResponse struct {
	PersonView
	Color  Color        `json:"color"`
	Reason Text         `json:"reason"`
	Advice Text         `json:"advice"`
	RuleID string       `json:"rule_id"`
	Status StatusView   `json:"status"`
	Facts  []StoredFact `json:"facts"`
}

// StatusView is a person's decision. Residents see the colour, why and what
// to do; operators also the deciding rule and when the engine looks again.
type StatusView struct {
	Color     Color     `json:"color"`
	Reason    Text      `json:"reason"`
	Advice    Text      `json:"advice"`
	RuleID    *string   `json:"rule_id,omitempty" doc:"operators only; empty when no rule matched"`
	NextEval  time.Time `json:"next_eval,omitzero" doc:"operators only: when time alone may change the colour"`
	Version   uint64    `json:"version" doc:"counts the person's changes; a verifier compares it with a code's"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func viewStatus(st status.Status, operator bool) StatusView {
	v := StatusView{Color: color(st.Color), Reason: text(st.Reason), Advice: text(st.Advice), Version: st.Version, UpdatedAt: st.UpdatedAt}
	if operator {
		rule := st.RuleID
		v.RuleID, v.NextEval = &rule, st.NextEval
	}
	return v
}
