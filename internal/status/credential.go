package status

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Credential formats an appeal may carry as outside evidence.
const (
	CredentialHealthCode = "health_code" // a health code or test certificate, of this or another region
	CredentialEUDCC      = "eu_dcc"
	CredentialSHC        = "shc"
)

// maxAppealCredentials bounds the credentials one appeal carries: each is
// verified by signature (and a health code of another region asks its
// issuer through the hub) while the resident waits.
const maxAppealCredentials = 5

// Credential is outside evidence attached to an appeal, as it verified when
// the appeal was filed: the reviewer reads whether its signature held under
// trust this deployment holds (its own keys and the hub's bundle for health
// codes and test certificates, the imported signer certificates and issuer
// keys for EU DCCs and SMART Health Cards) and, when not, why. The
// credential's text is not kept: only what the review needs, the holder's
// name masked.
type Credential struct {
	Format  string   `json:"format"`
	Valid   bool     `json:"valid"`
	Reasons []string `json:"reasons"`
	// Issuer is the issuing region's code (health codes) or country (ISO
	// 3166 alpha-2, foreign credentials).
	Issuer string `json:"issuer,omitempty"`
	// Kind is dynamic, care or certificate (health codes), or vaccination,
	// test or recovery (foreign credentials).
	Kind string `json:"kind,omitempty"`
	// Result and ResultAt are a test's result and sampling time.
	Result   string    `json:"result,omitempty"`
	ResultAt time.Time `json:"result_at,omitzero"`
	// Color and ColorSource are a health code's colour now (live: its
	// issuer answered; code: the colour inside it).
	Color       string    `json:"color,omitempty"`
	ColorSource string    `json:"color_source,omitempty"`
	Holder      string    `json:"holder,omitempty"` // masked name
	BirthDate   string    `json:"birth_date,omitempty"`
	CheckedAt   time.Time `json:"checked_at"`
}

// CredentialChecker verifies a credential's text by signature (the server
// wires the code verifier and the entry service behind it).
type CredentialChecker interface {
	CheckCredential(ctx context.Context, text string) (Credential, error)
}

// SetCredentialChecker gives the service what verifies an appeal's
// credentials; it is built after the status engine.
func (s *Service) SetCredentialChecker(c CredentialChecker) { s.credentials = c }

// checkCredentials verifies each attached credential before the appeal's
// transaction: an invalid credential is evidence the reviewer sees as not
// verified, with its reasons; only a list that cannot be checked at all is
// refused.
func (s *Service) checkCredentials(ctx context.Context, texts []string) ([]Credential, error) {
	if len(texts) > maxAppealCredentials {
		return nil, ErrEvidenceInvalid.Withf("at most %d credentials may be attached", maxAppealCredentials)
	}
	out := make([]Credential, 0, len(texts))
	seen := make([]string, 0, len(texts))
	for _, t := range texts {
		t = strings.Trim(t, "\r\n")
		if strings.TrimSpace(t) == "" {
			return nil, ErrEvidenceInvalid.Withf("an attached credential is empty")
		}
		if slices.Contains(seen, t) {
			return nil, ErrEvidenceInvalid.Withf("a credential is attached twice")
		}
		seen = append(seen, t)
		if s.credentials == nil {
			return nil, ErrEvidenceInvalid.Withf("this deployment does not check attached credentials")
		}
		c, err := s.credentials.CheckCredential(ctx, t)
		if err != nil {
			return nil, err
		}
		if c.Reasons == nil {
			c.Reasons = []string{}
		}
		c.CheckedAt = s.now().UTC().Truncate(time.Millisecond)
		out = append(out, c)
	}
	return out, nil
}
