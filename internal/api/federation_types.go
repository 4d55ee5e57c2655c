package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/federation"
)

// FederationOverview is GET /admin/federation: the hub, the last pull, the
// regions of the bundle held with their keys, and the colour policy.
type FederationOverview struct {
	Hub        string             `json:"hub"`
	LastPull   *time.Time         `json:"last_pull" doc:"null: never pulled"`
	LastUpload *time.Time         `json:"last_upload" doc:"when the hub last took this region's trust list; null since start"`
	LastError  *string            `json:"last_error" doc:"why the last pull failed; null when it succeeded"`
	BundleSeq  int64              `json:"bundle_seq"`
	DeadlineMS int64              `json:"deadline_ms" doc:"how long a live status query may take"`
	Regions    []FederationRegion `json:"regions"`
	Policy     []ColorPolicyRule  `json:"policy"`
}

// FederationRegion is one region of the bundle.
type FederationRegion struct {
	Region   string          `json:"region"`
	Own      bool            `json:"own" doc:"this deployment's region"`
	Uploaded bool            `json:"uploaded" doc:"the region has uploaded a trust list"`
	IssuedAt *time.Time      `json:"issued_at"`
	Keys     []FederationKey `json:"keys"`
	Revoked  int             `json:"revoked" doc:"revoked care codes the region publishes"`
}

// FederationKey is a code-signing key of a region.
type FederationKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
}

// ColorPolicyRequest is PUT /admin/federation/color-policy.
type ColorPolicyRequest struct {
	ForeignRegion string `json:"foreign_region" doc:"a region code, or * for every region without a rule of its own"`
	ForeignColor  Color  `json:"foreign_color"`
	LocalColor    Color  `json:"local_color" doc:"the colour it reads as here; the foreign colour itself removes the rule"`
}

// ColorPolicyRule is how a foreign colour reads here.
type ColorPolicyRule struct {
	ForeignRegion string    `json:"foreign_region" doc:"a region code, or * for every region without a rule of its own"`
	ForeignColor  Color     `json:"foreign_color"`
	LocalColor    Color     `json:"local_color"`
	UpdatedAt     time.Time `json:"updated_at"`
	UpdatedBy     string    `json:"updated_by"`
}

func federationOverview(in federation.Info, rs []federation.Rule) FederationOverview {
	out := FederationOverview{Hub: in.Hub, LastPull: optUTC(in.LastPull), LastUpload: optUTC(in.LastUpload), BundleSeq: in.Seq,
		DeadlineMS: in.Deadline.Milliseconds(), Regions: []FederationRegion{}, Policy: []ColorPolicyRule{}}
	if in.LastError != "" {
		out.LastError = &in.LastError
	}
	for _, r := range in.Regions {
		fr := FederationRegion{Region: r.Code, Own: r.Own, Uploaded: r.Uploaded, IssuedAt: optUTC(r.IssuedAt), Revoked: r.Revoked, Keys: []FederationKey{}}
		for _, k := range r.Keys {
			fr.Keys = append(fr.Keys, FederationKey{KID: k.KID, Alg: k.Alg})
		}
		out.Regions = append(out.Regions, fr)
	}
	for _, p := range rs {
		out.Policy = append(out.Policy, ColorPolicyRule{ForeignRegion: p.ForeignRegion, ForeignColor: color(p.ForeignColor),
			LocalColor: color(p.LocalColor), UpdatedAt: p.UpdatedAt.UTC(), UpdatedBy: p.UpdatedBy})
	}
	return out
}

func optUTC(t time.Time) *time.Time { return optTime(t.UTC()) }
