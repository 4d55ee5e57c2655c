package coldchain

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrProductInvalid     = apierr.BadRequest("product_invalid", "name the product in 1-100 characters")
	ErrCountryInvalid     = apierr.BadRequest("origin_country_invalid", "the origin country is an ISO 3166 two-letter code such as BR")
	ErrPortInvalid        = apierr.BadRequest("port_invalid", "name the port of entry in 1-50 characters")
	ErrDeclarationInvalid = apierr.BadRequest("declaration_invalid", "the customs declaration number is 18 digits")
	ErrQuantityInvalid    = apierr.BadRequest("quantity_invalid", "a quantity is a whole number of cases from 1 to 10,000,000")
	ErrCodeInvalid        = apierr.BadRequest("batch_code_invalid", "this is not a batch code of the platform")
	ErrBatchNotFound      = apierr.NotFound("batch_not_found", "no such batch")
	ErrNotHeld            = apierr.Conflict("batch_not_held", "your organisation does not hold this batch")
	ErrQuantityExceeds    = apierr.Conflict("quantity_exceeds_stock", "more than your organisation holds of this batch")
	ErrRecipientInvalid   = apierr.BadRequest("recipient_invalid", "the recipient is another cold-chain holder")
	ErrNotHolder          = apierr.Forbidden("not_a_holder", "only a cold-chain holder does this")
	ErrInspectionKind     = apierr.BadRequest("inspection_kind_invalid", "an inspection is goods, packaging or disinfection")
	ErrResultInvalid      = apierr.BadRequest("inspection_result_invalid", "a sample's result is negative or positive; a disinfection has none")
	ErrCertificateInvalid = apierr.BadRequest("certificate_invalid", "a disinfection names its certificate in 1-50 characters; a sample's certificate is at most 50")
	ErrSampledAtInvalid   = apierr.BadRequest("sampled_at_invalid", "the sampling time is after the batch was registered and not in the future")
	ErrInspectionNotFound = apierr.NotFound("inspection_not_found", "no such inspection")
	ErrTaskNotFound       = apierr.NotFound("cold_chain_task_not_found", "no such task for your organisation")
	ErrTaskDone           = apierr.Conflict("cold_chain_task_done", "this task is already done")
)
