package checkpoint

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrNotFound        = apierr.NotFound("checkpoint_not_found", "no such checkpoint")
	ErrSeqInvalid      = apierr.BadRequest("seq_invalid", "seq is the checkpoint's number in the rollout plan, 1 or more")
	ErrNameInvalid     = apierr.BadRequest("name_invalid", "name must be 1-100 characters")
	ErrAddressTooLong  = apierr.BadRequest("address_too_long", "address must be at most 200 characters")
	ErrEnabledNotBuilt = apierr.BadRequest("enabled_not_built", "a checkpoint that is not built cannot be enabled")
	// ErrDisabled: a disabled checkpoint has no key to renew; enabling it
	// issues one.
	ErrDisabled = apierr.Conflict("checkpoint_disabled", "the checkpoint is disabled; enabling it issues a new key")
)
