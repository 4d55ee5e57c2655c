package nattest

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrFactInvalid = apierr.BadRequest("fact_invalid", "a fact needs a person and a recorder")
	ErrCodeInvalid = apierr.Unprocessable("code_invalid", "the code is not valid")
)
