package server

import (
	"context"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/foreign"
	"github.com/healthcode/healthcode/internal/idnum"
	"github.com/healthcode/healthcode/internal/status"
)

// appealCredentials verifies what a resident attaches to an appeal: a
// health code or test certificate (this region's keys, other regions'
// through the hub's bundle) by the code verifier, an EU DCC or SMART
// Health Card by the entry service under the imported trust.
type appealCredentials struct {
	codes *codes.Service
	entry *entry.Service
}

func (a appealCredentials) CheckCredential(ctx context.Context, text string) (status.Credential, error) {
	if !isForeign(text) {
		r := a.codes.Check(ctx, text)
		return status.Credential{Format: status.CredentialHealthCode, Valid: r.Valid, Reasons: r.Reasons, Issuer: r.Issuer,
			Kind: r.Kind, Result: r.Result, ResultAt: r.ResultAt, Color: colorText(r), ColorSource: r.ColorSource,
			Holder: r.MaskedName}, nil
	}
	r, err := a.entry.Check(ctx, text)
	if err != nil {
		return status.Credential{}, err
	}
	c := status.Credential{Format: string(r.Format), Valid: r.Valid, Issuer: r.IssuerCountry, Kind: string(r.Kind),
		BirthDate: r.Holder.BirthDate}
	if r.Holder.Name != "" {
		c.Holder = idnum.MaskName(r.Holder.Name)
	}
	for _, x := range r.Reasons {
		c.Reasons = append(c.Reasons, string(x))
	}
	if r.Kind == foreign.KindTest {
		c.Result, _ = r.Details["result"].(string)
		if at, ok := r.Details["sampled_at"].(string); ok {
			c.ResultAt, _ = time.Parse(time.RFC3339, at)
		}
	}
	return c, nil
}

func colorText(r codes.Result) string {
	if r.ColorSource == "" {
		return ""
	}
	return r.Color.String()
}

// isForeign tells the credentials the entry service reads (HC1:, shc:/, a
// compact JWS, a card file) from this platform's codes (JKM1:).
func isForeign(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasPrefix(t, "HC1:") || strings.HasPrefix(t, "shc:/") || strings.HasPrefix(t, "{") ||
		(strings.HasPrefix(t, "ey") && strings.Count(t, ".") == 2)
}
