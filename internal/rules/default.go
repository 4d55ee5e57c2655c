package rules

import (
	_ "embed"
	"fmt"
)

//go:embed default.json
var defaultJSON []byte

// Default returns the default rule set: what real health code systems did
// (docs/RULES.md lists the rules and their sources), with examples covering
// each rule at its boundaries. Each call returns a fresh copy that the caller
// may change.
func Default() Set {
	s, err := ParseSet(defaultJSON)
	if err != nil {
		// The file is part of the binary and a test compiles it.
		panic(fmt.Sprintf("rules: embedded default.json: %v", err))
	}
	return s
}

// DefaultJSON returns the default rule set as the JSON it is shipped in, for
// an operator to start a new version from.
func DefaultJSON() []byte { return append([]byte(nil), defaultJSON...) }
