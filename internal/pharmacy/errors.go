package pharmacy

import "github.com/healthcode/healthcode/internal/apierr"

// The cases a caller can fix, one sentinel each (match with errors.Is).
var (
	ErrDrugClassUnknown = apierr.BadRequest("drug_class_unknown", "no such drug class in use")
	ErrDrugClassInvalid = apierr.BadRequest("drug_class_invalid", "a drug class code is 2-32 characters of a-z, 0-9 and _, starting with a letter")
	ErrClassNameInvalid = apierr.BadRequest("drug_class_name_invalid", "a drug class needs a Chinese and an English name of 1-50 characters")
	ErrItemsInvalid     = apierr.BadRequest("items_invalid", "at most 20 items, each with a name of 1-100 characters and a quantity of 1-999")
	ErrNotPharmacy      = apierr.Forbidden("not_a_pharmacy", "only a pharmacy registers drug purchases")
	ErrForbidden        = apierr.Forbidden("forbidden", "you may not do this")
	ErrDateInvalid      = apierr.BadRequest("date_invalid", "date must be a day such as 2022-04-01")
	ErrOrgMissing       = apierr.BadRequest("org_missing", "name the pharmacy")
)
