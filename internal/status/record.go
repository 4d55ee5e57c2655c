// Package status decides and keeps each person's colour: it stores the
// facts features append, evaluates the active rule set over them, writes the
// colour, reason, deciding rule and next evaluation time, logs every change,
// and keeps an in-memory cache per node so reads of colour never need the
// database.
package status

import "github.com/healthcode/healthcode/internal/fact"

// NewFact is a fact a feature appends about a person. Features record facts
// through (*Service).Record(ctx, facts ...NewFact) (created int, err error),
// which validates them (a 4xx for an unknown kind or malformed attrs),
// stores them in one transaction and recomputes the persons' colours.
type NewFact struct {
	Person     int64     // the person's internal number (person.Person.Num)
	Fact       fact.Fact // Kind, At, Until, Attrs, Source
	RecordedBy string    // audit actor: "operator:ID", "apikey:ID", "resident:ID", "system"
	// Key, if not empty, makes the fact idempotent: a second fact with the
	// same (Person, Key) is not stored (a re-run tracing run, a re-posted
	// lab result).
	Key string
}
