package rollout

import "github.com/healthcode/healthcode/internal/apierr"

var (
	ErrPopulationInvalid = apierr.BadRequest("population_invalid", "a population is negative")
	// ErrRatioInvalid is the share of a population to be registered.
	ErrRatioInvalid = apierr.BadRequest("ratio_invalid", "ratio must be in (0, 1]")
)
