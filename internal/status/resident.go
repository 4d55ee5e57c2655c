package status

import (
	"context"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/person"
)

// Declare records a resident's daily health declaration (打卡) about
// themselves (personID empty or their id) or one of their dependents, as a
// declaration fact at the time of the call. Only residents declare, and
// only for the persons they act for; anyone else is a 404. It returns whom
// the declaration was about and its time.
func (s *Service) Declare(ctx context.Context, by *auth.Principal, personID string, attrs map[string]any) (person.Profile, time.Time, error) {
	who, err := s.people.ActingFor(ctx, by, personID)
	if err != nil {
		return person.Profile{}, time.Time{}, err
	}
	f := fact.Fact{Kind: fact.Declaration, At: s.now(), Attrs: attrs, Source: "declaration"}
	if _, err := s.Record(ctx, NewFact{Person: who.Num, Fact: f, RecordedBy: by.Actor()}); err != nil {
		return person.Profile{}, time.Time{}, err
	}
	return who, f.At, nil
}

// privateAttrs are the attributes that name other people or internal
// records (who the case was, which run or grid found the contact).
var privateAttrs = []string{"case_person", "via_person", "tracing_run", "grid"}

// ResidentFacts is a resident's view of the facts about themselves
// (personID empty or their id) or one of their dependents, newest first,
// with the ids an appeal refers to and without the attributes that name
// other people. Anyone else is a 404.
func (s *Service) ResidentFacts(ctx context.Context, by *auth.Principal, personID string, limit int) (person.Profile, []Stored, error) {
	who, err := s.people.ActingFor(ctx, by, personID)
	if err != nil {
		return person.Profile{}, nil, err
	}
	facts, err := s.Facts(ctx, who.Num, limit)
	if err != nil {
		return person.Profile{}, nil, err
	}
	for _, f := range facts {
		for _, a := range privateAttrs {
			delete(f.Attrs, a)
		}
	}
	return who, facts, nil
}
