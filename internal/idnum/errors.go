package idnum

import "github.com/healthcode/healthcode/internal/apierr"

// Identity numbers. The message of each case says precisely what is wrong
// with the number at hand; the code is what a client switches on.
var (
	// ErrTextInvalid is a name or address holding control or invisible
	// formatting characters (a bidi override, a NUL).
	ErrTextInvalid   = apierr.BadRequest("text_invalid", "names and addresses may not hold control or invisible formatting characters")
	ErrIDTypeUnknown = apierr.BadRequest("id_type_unknown", "id_type is required; one of resident_id, passport, hk_macao_permit, taiwan_permit, foreign_permanent_residence")
	ErrIDRequired    = apierr.BadRequest("id_required", "id_number is required")
	ErrIDFormat      = apierr.BadRequest("id_format", "the identity number is malformed")
	ErrIDLength      = apierr.BadRequest("id_length", "the identity number has the wrong length")
	// ErrIDCheckDigit is the GB 11643 check character: it catches one
	// mistyped digit and most swaps of two.
	ErrIDCheckDigit = apierr.BadRequest("id_check_digit", "the check character does not match: a digit was mistyped or two were swapped")
	// ErrIDRegion is a province code that does not exist, so the number is
	// from another scheme or mistyped.
	ErrIDRegion     = apierr.BadRequest("id_region", "the identity number does not start with a province code")
	ErrIDBirthDate  = apierr.BadRequest("id_birth_date", "the birth date in the number is not a calendar date")
	ErrIDBirthRange = apierr.BadRequest("id_birth_range", "the birth date in the number is in the future or before 1900")
)

// Mobile phone numbers: mainland China only, because codes are sent by SMS
// through a mainland gateway.
var (
	ErrPhoneRequired = apierr.BadRequest("phone_required", "phone is required")
	ErrPhoneFormat   = apierr.BadRequest("phone_format", "a phone number has only digits, spaces, hyphens and a leading +86")
	ErrPhoneCountry  = apierr.BadRequest("phone_country", "only mainland China mobile numbers (+86) are supported")
	ErrPhoneLength   = apierr.BadRequest("phone_length", "a mobile number has 11 digits")
	ErrPhonePrefix   = apierr.BadRequest("phone_prefix", "a mainland mobile number starts with 13 to 19")
)

// Unified social credit codes (统一社会信用代码) of organisations.
var (
	ErrUSCCRequired  = apierr.BadRequest("uscc_required", "the unified social credit code is required")
	ErrUSCCFormat    = apierr.BadRequest("uscc_format", "the unified social credit code is malformed")
	ErrUSCCLength    = apierr.BadRequest("uscc_length", "a unified social credit code has 18 characters")
	ErrUSCCAuthority = apierr.BadRequest("uscc_authority", "the first character is not a registration authority code")
	ErrUSCCType      = apierr.BadRequest("uscc_type", "the second character is not an organisation type of the registration authority")
	ErrUSCCRegion    = apierr.BadRequest("uscc_region", "positions 3-8 of a unified social credit code are a region code")
	// ErrUSCCOrgCheckChar is the check character of the organisation code
	// (GB 11714) inside the credit code, ErrUSCCCheckChar the credit code's own.
	ErrUSCCOrgCheckChar = apierr.BadRequest("uscc_org_check_char", "the organisation code inside the unified social credit code (positions 9-17) has a wrong check character")
	ErrUSCCCheckChar    = apierr.BadRequest("uscc_check_char", "the check character of the unified social credit code does not match: a character was mistyped or two were swapped")
)
