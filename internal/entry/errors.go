package entry

import "github.com/healthcode/healthcode/internal/apierr"

// Verifying a foreign credential.
var (
	ErrCredentialMissing  = apierr.BadRequest("credential_missing", "send the scanned or downloaded credential in \"credential\"")
	ErrCredentialTooLarge = apierr.BadRequest("credential_too_large", "the credential is larger than any health certificate or card file")
	// ErrCredentialInvalid refuses an arrival whose credential does not
	// verify; the message names the reasons.
	ErrCredentialInvalid = apierr.Unprocessable("credential_invalid", "the foreign credential is not valid")
)

// Registering an arrival.
var (
	ErrNameMissing      = apierr.BadRequest("name_missing", "give the traveller's name as in the passport")
	ErrIDTypeNotForeign = apierr.BadRequest("id_type_not_foreign", "an inbound traveller is registered with a passport or a travel permit, not a resident ID card")
	ErrOriginInvalid    = apierr.BadRequest("origin_invalid", "origin_country must be an ISO 3166 alpha-2 or alpha-3 country code")
	ErrPortMissing      = apierr.BadRequest("port_missing", "give the port of entry (airport, station or road checkpoint)")
	ErrTransportInvalid = apierr.BadRequest("transport_invalid", "transport must be one of air, rail, road, water, other")
	ErrArrivedInFuture  = apierr.BadRequest("arrived_at_in_future", "the arrival time is in the future")
	ErrArrivalExists    = apierr.Conflict("arrival_exists", "this traveller is already registered today with this credential")
)

// Importing trust material.
var (
	ErrTrustInvalid = apierr.BadRequest("trust_invalid", "the trust material could not be read")
	ErrIssMissing   = apierr.BadRequest("iss_missing", "an SHC issuer's keys are imported for its iss URL (https://...)")
)
