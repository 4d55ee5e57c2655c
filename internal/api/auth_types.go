package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/auth"
)

// OTPRequest is POST /auth/otp.
type OTPRequest struct {
	Phone string `json:"phone" doc:"a mainland mobile number, 11 digits (+86 allowed)"`
	Lang  string `json:"lang,omitempty" doc:"the language of the text: zh-CN (default) or en"`
}

// OTPResponse says the code was sent, to the masked number.
type OTPResponse struct {
	Phone   string `json:"phone" doc:"the number, masked"`
	Sent    bool   `json:"sent"`
	Delayed bool   `json:"delayed" doc:"the SMS gateway is slow or failing right now: the code may come late"`
}

// LoginRequest is POST /auth/login.
type LoginRequest struct {
	Phone string `json:"phone"`
	OTP   string `json:"otp" doc:"the six digits sent by SMS"`
}

// LoginResponse is a resident session.
type LoginResponse struct {
	ExpiresAt  time.Time `json:"expires_at"`
	Registered bool      `json:"registered" doc:"whether a person is registered for this phone (else POST /me/register)"`
	Token      string    `json:"token" doc:"send as Authorization: Bearer TOKEN"`
}

// OperatorLoginRequest is POST /auth/operator.
type OperatorLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty" doc:"the authenticator app's current 6-digit code, for an operator who has turned on two-step login"`
}

// OperatorLoginResponse is an operator session.
type OperatorLoginResponse struct {
	Operator OperatorResponse `json:"operator"`
	Token    string           `json:"token"`
}

// OperatorRequest is POST /admin/operators.
type OperatorRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password"`
	Role        string `json:"role" doc:"admin, health_officer, sampler, lab or viewer"`
	Region      string `json:"region" doc:"the region the operator works in: their scope"`
}

// OperatorResponse is an operator.
type OperatorResponse struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        Role      `json:"role"`
	Region      string    `json:"region"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func operatorResponse(o *auth.OperatorInfo) OperatorResponse {
	return OperatorResponse{ID: o.ID, Username: o.Username, DisplayName: o.DisplayName, Role: Role(o.Role), Region: o.Region,
		Disabled: o.Disabled, CreatedAt: o.CreatedAt}
}

// OperatorListResponse is GET /admin/operators.
type OperatorListResponse struct {
	Operators []OperatorResponse `json:"operators"`
}
