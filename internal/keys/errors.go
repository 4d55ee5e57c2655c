package keys

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrAlgUnknown = apierr.BadRequest("alg_unknown", "unknown algorithm: use ed25519, es256 or sm2")
	// ErrKeyExists: Generate makes a region's first key only; later keys
	// come by Rotate, which keeps the old one published.
	ErrKeyExists = apierr.Conflict("key_exists", "the region already has a signing key; rotate it instead")
	ErrNoKey     = apierr.Conflict("no_key", "the region has no signing key yet; generate one")
	// ErrRotationPending: a new key is published but does not sign yet;
	// one rotation at a time.
	ErrRotationPending = apierr.Conflict("rotation_pending", "a rotation is already under way")
)
