package status

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
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

// errUnkeyed refuses a stream with a fact without a key: a programming
// error of the caller, not the user's.
var errUnkeyed = errors.New("status: every fact of a stream needs a key")

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
	lo, next := 0, 0
	n, err := s.writeBulk(ctx, func(context.Context) ([]NewFact, []personRef, error) {
		if lo >= len(people) {
			return nil, nil, nil
		}
		ps := people[lo:min(lo+s.cfg.Chunk, len(people))]
		lo += len(ps)
		chunk := make([]NewFact, 0, len(ps))
		for next < len(order) && facts[order[next]].Person <= ps[len(ps)-1].num {
			chunk = append(chunk, facts[order[next]])
			next++
		}
		return chunk, ps, nil
	})
	if err != nil {
		return 0, fmt.Errorf("status: record facts (%d of %d stored before the failure; a retry stores the rest): %w", n, len(facts), err)
	}
	return n, nil
}

// RecordStream is Record for a batch found piece by piece (publishing a
// risk area over a city): next returns the facts of the next persons, every
// one of them numbered above the persons of the calls before and with all
// of their facts in that call, and no facts at the end. Every fact needs a
// key. The facts are stored in transactions of Config.Chunk persons as a
// large Record's are, and next runs while the chunk before is written, so
// that finding the facts and storing them share the machine's cores.
//
// A stream of fewer than Config.BulkFacts facts is stored as Record stores
// them. In a larger one, unlike Record, a fact that is invalid or about a
// number without a person fails the call when its chunk is reached: the chunks before it stay
// stored, with their colours and an audit entry, and calling again with the
// same facts stores only the rest (the keys).
func (s *Service) RecordStream(ctx context.Context, next func(context.Context) ([]NewFact, error)) (int, error) {
	// A stream smaller than a bulk Record is one Record, exactly.
	var head [][]NewFact
	size := 0
	for size < s.cfg.BulkFacts {
		facts, err := next(ctx)
		if err != nil {
			return 0, err
		}
		if len(facts) == 0 {
			return s.Record(ctx, slices.Concat(head...)...)
		}
		head = append(head, facts)
		size += len(facts)
	}
	pull := func(ctx context.Context) ([]NewFact, error) {
		if len(head) > 0 {
			facts := head[0]
			head = head[1:]
			return facts, nil
		}
		return next(ctx)
	}
	var buf []NewFact // sorted by person; bufPersons of them
	bufPersons, last, end, given := 0, int64(0), false, 0
	n, err := s.writeBulk(ctx, func(ctx context.Context) ([]NewFact, []personRef, error) {
		for !end && bufPersons <= s.cfg.Chunk {
			facts, err := pull(ctx)
			if err != nil {
				return nil, nil, err
			}
			if len(facts) == 0 {
				end = true
				break
			}
			given += len(facts)
			if !keyed(facts) {
				return nil, nil, errUnkeyed
			}
			if err := check(facts, s.now()); err != nil {
				return nil, nil, err
			}
			facts = slices.Clone(facts)
			slices.SortStableFunc(facts, func(a, b NewFact) int { return cmp.Compare(a.Person, b.Person) })
			if facts[0].Person <= last {
				return nil, nil, fmt.Errorf("status: stream: person %d after person %d", facts[0].Person, last)
			}
			for _, f := range facts {
				if f.Person != last {
					bufPersons++
					last = f.Person
				}
			}
			buf = append(buf, facts...)
		}
		if len(buf) == 0 {
			return nil, nil, nil
		}
		// Cut after Chunk persons.
		cut, persons := 0, 0
		for cut < len(buf) && (persons < s.cfg.Chunk || buf[cut].Person == buf[cut-1].Person) {
			if cut == 0 || buf[cut].Person != buf[cut-1].Person {
				persons++
			}
			cut++
		}
		chunk := buf[:cut:cut]
		buf = buf[cut:]
		bufPersons -= persons
		distinct := make([]int64, 0, persons)
		for i, f := range chunk {
			if i == 0 || f.Person != chunk[i-1].Person {
				distinct = append(distinct, f.Person)
			}
		}
		ps, err := s.personRegions(ctx, s.db, distinct)
		if err != nil {
			return nil, nil, err
		}
		return chunk, ps, nil
	})
	if err != nil {
		return 0, fmt.Errorf("status: record facts (%d of %d given stored before the failure; a retry stores the rest): %w", n, given, err)
	}
	return n, nil
}

// bulkChunk is a transaction's worth of a bulk Record: the facts (sorted
// by person), their persons (sorted, distinct) and the facts' attributes
// as stored.
type bulkChunk struct {
	facts  []NewFact
	people []personRef
	attrs  []string
	last   bool
	err    error
}

// writeBulk stores the chunks produce returns (nil facts at the end), one
// transaction each. produce and the preparation of a chunk run on their own
// goroutine one chunk ahead of the writer, so that the reads and the Go
// work of the next chunk overlap the writing of this one. It returns the
// facts stored; after a failure, those of the chunks committed before it.
func (s *Service) writeBulk(ctx context.Context, produce func(context.Context) ([]NewFact, []personRef, error)) (int, error) {
	pctx, cancel := context.WithCancel(ctx)
	ch := make(chan bulkChunk, 1)
	go func() {
		defer close(ch)
		send := func(c bulkChunk) bool {
			select {
			case ch <- c:
				return true
			case <-pctx.Done():
				return false
			}
		}
		// A chunk is handed over once the next is known, so that the writer
		// knows the last one (it carries the audit entries).
		var pending *bulkChunk
		for {
			facts, ps, err := produce(pctx)
			var attrs []string
			if err == nil && len(facts) > 0 {
				attrs, err = storedAttrs(facts)
			}
			if err != nil {
				if pending != nil && !send(*pending) {
					return
				}
				send(bulkChunk{err: err})
				return
			}
			if len(facts) == 0 {
				if pending != nil {
					pending.last = true
					send(*pending)
				}
				return
			}
			if pending != nil && !send(*pending) {
				return
			}
			pending = &bulkChunk{facts: facts, people: ps, attrs: attrs}
		}
	}()
	defer func() {
		cancel()
		for range ch {
		}
	}()
	var done auditGroups
	created := 0
	for c := range ch {
		err := c.err
		var w written
		var got auditGroups
		write := func(claim bool) error {
			return s.db.InTx(ctx, func(tx db.Tx) error {
				ver, prog, err := s.activeProgram(ctx, tx)
				if err != nil {
					return err
				}
				now := s.now()
				w, got = written{}, auditGroups{}
				st, err := s.storeFacts(ctx, tx, c.facts, c.attrs, c.people, now, &got, claim && s.db.Engine() == db.Postgres)
				if err != nil {
					return err
				}
				if st.created > 0 {
					if w, err = s.settle(ctx, tx, ver, prog, st.changed, now, CauseFact, st.added, claim); err != nil {
						return err
					}
					w.facts = st.created
				}
				if !c.last {
					return nil
				}
				all := done.clone()
				all.merge(&got)
				return all.append(ctx, tx, s.ids, now)
			})
		}
		if err == nil {
			// On PostgreSQL a chunk's facts, and its new persons' status
			// rows and packs, are claimed: inserted without ON CONFLICT and
			// without locking the persons first. If another transaction
			// created such a row meanwhile, or a key is already stored (a
			// stream run again), the chunk is written again the careful way.
			if err = write(true); errors.Is(err, errClaimLost) {
				s.log.Info("status: a bulk chunk met a row another transaction wrote or holds; writing it again with its rows locked",
					"persons", len(c.people), "err", err)
				err = write(false)
			}
		}
		if err != nil {
			return created, s.failBulk(ctx, &done, created, err)
		}
		s.applyLocal(w)
		created += w.facts
		done.merge(&got)
		s.prepareWanted(ctx)
	}
	if err := ctx.Err(); err != nil {
		// The producer stopped without a chunk marked last.
		return created, s.failBulk(ctx, &done, created, err)
	}
	return created, nil
}

// failBulk audits what the committed chunks of a failed bulk Record stored
// (their facts stay) and returns err.
func (s *Service) failBulk(ctx context.Context, done *auditGroups, created int, err error) error {
	if len(done.order) > 0 {
		aerr := s.db.InTx(context.WithoutCancel(ctx), func(tx db.Tx) error { return done.append(ctx, tx, s.ids, s.now()) })
		if aerr != nil {
			s.log.Error("status: audit the facts stored before a failure", "facts", created, "err", aerr)
		}
	}
	return err
}

// storedAttrs is each fact's attributes as the facts table stores them.
func storedAttrs(facts []NewFact) ([]string, error) {
	out := make([]string, len(facts))
	for i := range facts {
		nf := &facts[i]
		if len(nf.Fact.Attrs) == 0 {
			out[i] = "{}"
			continue
		}
		b, err := json.Marshal(nf.Fact.Attrs)
		if err != nil {
			return nil, fact.ErrAttrType.Withf("%s: attributes cannot be stored: %v", nf.Fact.Kind, err)
		}
		out[i] = string(b)
	}
	return out, nil
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
