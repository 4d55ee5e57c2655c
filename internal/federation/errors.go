package federation

import "github.com/healthcode/healthcode/internal/apierr"

// What a hub refuses of an upload or a status query, and what a node
// refuses of a bundle. Each says why, so the other side can fix it.
var (
	ErrMalformed         = apierr.BadRequest("federation_malformed", "the federation message is not a signed envelope of the expected form")
	ErrUnsigned          = apierr.Unauthorized("federation_unsigned", "the federation message carries no signature")
	ErrBadSignature      = apierr.Unauthorized("federation_bad_signature", "the signature does not verify under the signer's enrolled federation key")
	ErrNotEnrolled       = apierr.Forbidden("region_not_enrolled", "the region is not enrolled at this hub")
	ErrNotRegionOwner    = apierr.Forbidden("not_region_owner", "a region may upload only its own trust list")
	ErrStale             = apierr.Conflict("federation_stale", "the message is older than what is already held (a replay or a stale copy)")
	ErrBadTrustList      = apierr.Unprocessable("trust_list_invalid", "the trust list does not parse or holds a key of another region")
	ErrRegionUnknown     = apierr.NotFound("region_not_listed", "no region with this code is enrolled or has uploaded a trust list")
	ErrIssuerUnreachable = apierr.Unprocessable("issuer_unreachable", "the issuing region did not answer the status query")
	ErrBadRegion         = apierr.BadRequest("region_invalid", "a region code is six digits (GB/T 2260)")
	ErrBadKey            = apierr.BadRequest("federation_key_invalid", "a federation key is an Ed25519 public key in PEM (SubjectPublicKeyInfo)")
	ErrNotFederated      = apierr.NotFound("federation_not_configured", "this deployment runs without a hub (serve --hub URL --hub-key FILE)")
	ErrHasDeployment     = apierr.Conflict("region_has_deployment", "the region runs its own deployment with its own federation key; the hub hosts only regions without one")
	ErrBadColor          = apierr.BadRequest("color_invalid", "a colour is green, yellow or red")
)
