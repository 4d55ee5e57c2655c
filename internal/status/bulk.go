package status

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
)

// keyed reports whether every fact has an idempotency key: only then may a
// batch be stored in several transactions, since a retry after a failure
// midway must skip what the first attempt stored.
func keyed(facts []NewFact) bool {
	for i := range facts {
		if facts[i].Key == "" {
			return false
		}
	}
	return true
}

// recordBulk is Record for a large keyed batch (publishing a risk area over
// a city, a carrier feed, a lab file): the facts are stored and their
// persons settled in chunks of Config.Chunk persons by number, one
// transaction each, so that no transaction grows with the batch (one
// transaction for a million persons cost twice as much per person as one
// for fifty thousand, and held the single writer of SQLite for minutes).
//
// Every chunk commits its facts together with the colours they give, so a
// failure leaves whole chunks behind: the persons of committed chunks have
// their facts and colours, the others nothing, and a retry of the same call
// stores only the rest (the keys). The audit entries (one per recorder and
// region, as Record writes) are appended with the last chunk and count the
// whole call; after a failure, what the committed chunks stored is audited
// before the error returns.
func (s *Service) recordBulk(ctx context.Context, facts []NewFact) (int, error) {
	order := make([]int32, len(facts))
	for i := range order {
		order[i] = int32(i)
	}
	// Stable, so that a person's facts keep the order they were given in.
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(facts[a].Person, facts[b].Person) })
	distinct := make([]int64, 0, len(facts))
	for _, i := range order {
		if n := facts[i].Person; len(distinct) == 0 || distinct[len(distinct)-1] != n {
			distinct = append(distinct, n)
		}
	}
	// A number without a person fails the call before anything is stored.
	people, err := s.personRegions(ctx, s.db, distinct)
	if err != nil {
		return 0, err
	}
	var done auditGroups
	created, next := 0, 0
	for lo := 0; lo < len(people); lo += s.cfg.Chunk {
		ps := people[lo:min(lo+s.cfg.Chunk, len(people))]
		chunk := make([]NewFact, 0, len(ps))
		for next < len(order) && facts[order[next]].Person <= ps[len(ps)-1].num {
			chunk = append(chunk, facts[order[next]])
			next++
		}
		last := lo+len(ps) >= len(people)
		var w written
		var got auditGroups
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			ver, prog, err := s.activeProgram(ctx, tx)
			if err != nil {
				return err
			}
			now := s.now()
			got = auditGroups{}
			st, err := s.storeFacts(ctx, tx, chunk, ps, now, &got)
			if err != nil {
				return err
			}
			if st.created > 0 {
				if w, err = s.settle(ctx, tx, ver, prog, st.changed, now, CauseFact, st.added); err != nil {
					return err
				}
				w.facts = st.created
			}
			if !last {
				return nil
			}
			all := done.clone()
			all.merge(&got)
			return all.append(ctx, tx, s.ids, now)
		})
		if err != nil {
			if len(done.order) > 0 {
				// The committed chunks' facts stay; so does the record of who stored them.
				aerr := s.db.InTx(context.WithoutCancel(ctx), func(tx db.Tx) error { return done.append(ctx, tx, s.ids, s.now()) })
				if aerr != nil {
					s.log.Error("status: audit the facts stored before a failure", "facts", created, "err", aerr)
				}
			}
			return 0, fmt.Errorf("status: record facts (%d of %d stored before the failure; a retry stores the rest): %w",
				created, len(facts), err)
		}
		s.applyLocal(w)
		created += w.facts
		done.merge(&got)
	}
	return created, nil
}

func (g *auditGroups) clone() auditGroups {
	var out auditGroups
	out.merge(g)
	return out
}

// merge adds o's counts to g.
func (g *auditGroups) merge(o *auditGroups) {
	for _, k := range o.order {
		e := o.m[k]
		d := g.group(k)
		d.facts += e.facts
		for _, num := range e.persons {
			d.person(num)
		}
		for _, kind := range e.kinds {
			d.kind(kind)
		}
	}
}
