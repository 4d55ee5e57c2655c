package nat

import "github.com/healthcode/healthcode/internal/apierr"

// Sampling sites.
var (
	ErrSiteNotFound = apierr.NotFound("site_not_found", "no such sampling site")
	// ErrSiteExists: a site is known by its region and name (an import
	// updates the site of the same name).
	ErrSiteExists             = apierr.Conflict("site_exists", "a sampling site of this name already exists in this region")
	ErrSiteNameMissing        = apierr.BadRequest("site_name_missing", "name is required")
	ErrSiteAddressMissing     = apierr.BadRequest("site_address_missing", "address is required")
	ErrSiteLatMissing         = apierr.BadRequest("site_lat_missing", "lat is required")
	ErrSiteLngMissing         = apierr.BadRequest("site_lng_missing", "lng is required")
	ErrSiteNameInvalid        = apierr.BadRequest("site_name_invalid", "name must be 1-128 characters")
	ErrSiteAddressInvalid     = apierr.BadRequest("site_address_invalid", "address must be 1-256 characters")
	ErrSiteHoursInvalid       = apierr.BadRequest("site_hours_invalid", "hours must be at most 128 characters")
	ErrSitePhoneInvalid       = apierr.BadRequest("site_phone_invalid", "phone must be digits with dashes, spaces or parentheses (e.g. 0563-4012345)")
	ErrSiteLatInvalid         = apierr.BadRequest("site_lat_invalid", "lat must be a latitude in degrees, -90 to 90 (WGS 84)")
	ErrSiteLngInvalid         = apierr.BadRequest("site_lng_invalid", "lng must be a longitude in degrees, -180 to 180 (WGS 84)")
	ErrSiteCoordinatesMissing = apierr.BadRequest("site_coordinates_missing", "lat and lng are both 0; give the site's coordinates")
	ErrSiteOpenInvalid        = apierr.BadRequest("site_open_invalid", "open must be true or false")
	ErrLimitInvalid           = apierr.BadRequest("limit_invalid", "limit is out of range")
)

// Tubes, samples and transfers to the lab.
var (
	ErrTubeNotFound     = apierr.NotFound("tube_not_found", "no such tube")
	ErrTransferNotFound = apierr.NotFound("transfer_not_found", "no such transfer")
	ErrBarcodeInvalid   = apierr.BadRequest("barcode_invalid", "a tube barcode is 4-32 letters, digits and dashes")
	ErrCapacityInvalid  = apierr.BadRequest("capacity_invalid", "capacity must be 1, 5, 10 or 20 swabs")
	ErrSiteClosed       = apierr.Conflict("site_closed", "the sampling site is closed; open it first")
	// ErrTubeExists: a barcode is printed on one tube, used once.
	ErrTubeExists = apierr.Conflict("tube_exists", "the tube was already opened; every tube is used once")
	// ErrSampleIdentity is a sample naming its person by neither or both of
	// a scanned code and an identity number.
	ErrSampleIdentity = apierr.BadRequest("sample_identity", "give the scanned code, or id_type and id_number for a person without one")
	// ErrCodeInvalid is a scanned code of the wrong kind (a venue's) where a
	// person's is needed; a code that fails verification is the code
	// resolver's own error.
	ErrCodeInvalid     = apierr.Unprocessable("code_invalid", "this is not a health code; scan the person's health code or care code")
	ErrSampleDuplicate = apierr.Conflict("sample_duplicate", "the person is already in this tube")
	ErrTubeSealed      = apierr.Conflict("tube_sealed", "the tube is sealed")
	ErrTubeFull        = apierr.Conflict("tube_full", "the tube is full; seal it and open a new tube")
	// ErrTubeEmpty: an empty tube is not sealed, just not used.
	ErrTubeEmpty        = apierr.Unprocessable("tube_empty", "the tube is empty; an empty tube is not sealed, just not used")
	ErrBarcodesInvalid  = apierr.BadRequest("barcodes_invalid", "a transfer holds at least one tube, and not too many")
	ErrBarcodeDuplicate = apierr.BadRequest("barcode_duplicate", "a tube is listed twice")
	// ErrTransferRefused: a transfer hands over all its tubes or none.
	ErrTransferRefused = apierr.Unprocessable("transfer_refused", "no tube was handed over")
	ErrLabInvalid      = apierr.BadRequest("lab_invalid", "lab must name the laboratory in 1-128 characters")
)

// Results from the lab, and corrections of them.
var (
	ErrResultInvalid = apierr.BadRequest("result_invalid", "result must be negative, positive or invalid (阴性, 阳性, 无效)")
	// ErrTubeUnknown refuses a line of a lab's report: no tube has its
	// barcode.
	ErrTubeUnknown  = apierr.NotFound("tube_unknown", "no such tube")
	ErrTubeUnsealed = apierr.Conflict("tube_unsealed", "the tube is not sealed; results are taken for sealed tubes only")
	// ErrResultExists: a reported result changes by a correction, which
	// carries a reason, never by a second report.
	ErrResultExists    = apierr.Conflict("result_exists", "the tube already has a result; to change it, send a correction with a reason")
	ErrResultMissing   = apierr.Conflict("result_missing", "the tube has no result to correct; post the result")
	ErrResultUnchanged = apierr.Conflict("result_unchanged", "the tube already has this result")
	// ErrResultPending is a result not final yet: not out, or still being
	// passed on to the persons' colours.
	ErrResultPending = apierr.Conflict("result_pending", "the result is not final yet; try again in a minute")
	ErrReasonInvalid = apierr.BadRequest("reason_invalid", "a correction needs the reason, in 2-500 characters")
)

// Uploads of CSV files (results, sites): a refused line is reported with
// its case, the others are taken.
var (
	ErrCSVEmpty      = apierr.BadRequest("csv_empty", "the file has no lines")
	ErrCSVTooLong    = apierr.BadRequest("csv_too_long", "the file has too many lines")
	ErrCSVHeader     = apierr.BadRequest("csv_header", "the first line must name the columns")
	ErrCSVMalformed  = apierr.BadRequest("csv_malformed", "the line is not valid CSV")
	ErrDuplicateLine = apierr.BadRequest("duplicate_line", "the same line is also further up")
)

// A resident's tests and certificates.
var (
	ErrTestNotFound      = apierr.NotFound("test_not_found", "no such test")
	ErrResultNotNegative = apierr.Conflict("result_not_negative", "certificates are issued for negative results only")
	// ErrCertificateExpired: a certificate is valid for a while after
	// sampling; one that would be born expired is not issued.
	ErrCertificateExpired = apierr.Unprocessable("certificate_expired", "this test is too old for a certificate")
)

// Follow-up of positive and invalid results, and coverage.
var (
	ErrAlertNotFound = apierr.NotFound("alert_not_found", "no such alert")
	ErrAlertAcked    = apierr.Conflict("alert_acked", "this alert was already taken in hand")
	ErrKindInvalid   = apierr.BadRequest("kind_invalid", "kind must be retest or resample")
	// ErrRegionNotFound is a region filter outside the operator's scope.
	ErrRegionNotFound = apierr.NotFound("region_not_found", "no such region in your scope")
	ErrHoursInvalid   = apierr.BadRequest("hours_invalid", "hours is out of range")
	ErrAfterInvalid   = apierr.BadRequest("after_invalid", "after must be the next value of the previous page")
)
