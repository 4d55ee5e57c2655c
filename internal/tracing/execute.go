package tracing

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/status"
)

// errLeaseLost stops a run another node has taken over.
var errLeaseLost = errors.New("tracing: the run's lease passed to another node")

// errNoFacts is the failure of a run on a node without a status engine.
var errNoFacts = errors.New("no status engine is wired to record contact.companion facts; the report and tasks were kept, re-run once it is")

// RunNext claims the oldest queued run (or one whose node stopped renewing
// its lease) and executes it. It reports whether it found one.
func (s *Service) RunNext(ctx context.Context) (bool, error) {
	id, err := s.claim(ctx)
	if err != nil || id == "" {
		return false, err
	}
	err = s.execute(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errLeaseLost):
		return true, nil
	case ctx.Err() != nil:
		// Shutting down: hand the run back so the next node to look resumes it
		// without waiting out the lease.
		_, uerr := s.db.ExecContext(context.WithoutCancel(ctx), `UPDATE tracing_runs SET status = $1, lease_until = NULL, node = NULL
			WHERE id = $2 AND node = $3 AND status = $4`, StatusQueued, id, s.cfg.Node, StatusRunning)
		return true, errors.Join(ctx.Err(), uerr)
	}
	msg := "internal error; see the server log"
	if e, ok := apierr.As(err); ok {
		msg = e.Message
	} else if errors.Is(err, errNoFacts) {
		msg = errNoFacts.Error()
	}
	_, uerr := s.db.ExecContext(ctx, `UPDATE tracing_runs SET status = $1, error = $2, finished_at = $3, lease_until = NULL
		WHERE id = $4 AND node = $5`, StatusFailed, msg, s.now().UnixMilli(), id, s.cfg.Node)
	return true, errors.Join(fmt.Errorf("tracing: run %s: %w", id, err), uerr)
}

func (s *Service) claim(ctx context.Context) (string, error) {
	now := s.now().UnixMilli()
	for range 3 {
		var id string
		err := s.db.QueryRowContext(ctx, `SELECT id FROM tracing_runs
			WHERE status = $1 OR (status = $2 AND lease_until < $3) ORDER BY created_at, id LIMIT 1`,
			StatusQueued, StatusRunning, now).Scan(&id)
		if err != nil {
			if errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "no rows") {
				return "", nil
			}
			return "", fmt.Errorf("tracing: find queued run: %w", err)
		}
		// The conditional update is the claim: of nodes racing for the same
		// run, exactly one sees its row change.
		res, err := s.db.ExecContext(ctx, `UPDATE tracing_runs SET status = $1, node = $2, lease_until = $3,
			started_at = COALESCE(started_at, $4), done = 0
			WHERE id = $5 AND (status = $6 OR (status = $1 AND lease_until < $4))`,
			StatusRunning, s.cfg.Node, now+s.cfg.Lease.Milliseconds(), now, id, StatusQueued)
		if err != nil {
			return "", fmt.Errorf("tracing: claim run: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return id, nil
		}
	}
	return "", nil
}

// progress records how far a run is and renews its lease, at most a few
// times a second.
type progress struct {
	s    *Service
	id   string
	last time.Time
}

func (p *progress) set(ctx context.Context, done int64, force bool) error {
	now := p.s.now()
	if !force && now.Sub(p.last) < 250*time.Millisecond {
		return nil
	}
	p.last = now
	res, err := p.s.db.ExecContext(ctx, `UPDATE tracing_runs SET done = $1, lease_until = $2 WHERE id = $3 AND node = $4 AND status = $5`,
		done, now.Add(p.s.cfg.Lease).UnixMilli(), p.id, p.s.cfg.Node, StatusRunning)
	if err != nil {
		return fmt.Errorf("tracing: progress: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errLeaseLost
	}
	return nil
}

// found is one (companion, case) link with its latest encounter.
type found struct {
	person, cse, place int64
	caseAt, personAt   int64
	overlap, n         int64
	caseOrder          int
}

type pair struct{ person, cse int64 }

func (s *Service) execute(ctx context.Context, id string) error {
	r, err := s.loadRun(ctx, s.db, id)
	if err != nil {
		return err
	}
	p := &r.params
	pr := &progress{s: s, id: id}
	links := map[pair]*found{}
	kinds := map[int64]string{} // place -> venue kind or "checkpoint"
	kindOf := func(place int64) (string, error) {
		if k, ok := kinds[place]; ok {
			return k, nil
		}
		pl, err := s.presence.Place(ctx, place)
		if err != nil {
			return "", err
		}
		k := CheckpointKind
		if pl.Kind == checkin.PlaceVenue {
			v, err := s.venues.Get(ctx, nil, pl.Ref)
			if err != nil {
				return "", err
			}
			k = v.Kind
		}
		kinds[place] = k
		return k, nil
	}

	switch p.Mode {
	case ModePersons:
		isCase := make(map[int64]bool, len(p.Cases))
		for _, c := range p.Cases {
			isCase[c] = true
		}
		wmax := maxWindow(p)
		var encs []checkin.Encounter
		for i, c := range p.Cases {
			encs = encs[:0]
			err := s.presence.Encounters(ctx, c, p.From, p.To, wmax, func(e checkin.Encounter) {
				if !isCase[e.Person] {
					encs = append(encs, e)
				}
			})
			if err != nil {
				return err
			}
			for _, e := range encs {
				k, err := kindOf(e.Place)
				if err != nil {
					return err
				}
				w := windowOf(p, k)
				gap := abs(e.PersonAt - e.CaseAt)
				if gap > w {
					continue
				}
				link(links, pair{e.Person, c}, found{person: e.Person, cse: c, place: e.Place, caseAt: e.CaseAt,
					personAt: e.PersonAt, overlap: (w - gap) / 60000, caseOrder: i})
			}
			if err := pr.set(ctx, int64(i+1), false); err != nil {
				return err
			}
		}
	case ModeVenue:
		place, err := s.presence.VenuePlace(ctx, p.Venue)
		if err != nil {
			return err
		}
		if place != 0 {
			k, err := kindOf(place)
			if err != nil {
				return err
			}
			w := windowOf(p, k)
			// Someone who arrived up to a window before the period was still
			// there when it began; someone up to a window after it came while
			// the exposure was fresh.
			err = s.presence.Visitors(ctx, place, p.From-w, p.To+w, func(v checkin.Presence) {
				caseAt := min(max(v.At, p.From), p.To)
				overlap := max(0, min(v.At+w, p.To)-max(v.At, p.From)) / 60000
				link(links, pair{v.Person, 0}, found{person: v.Person, place: place, caseAt: caseAt, personAt: v.At, overlap: overlap})
			})
			if err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("tracing: run %s has unknown mode %q", id, p.Mode)
	}
	if err := pr.set(ctx, r.Progress.Total, true); err != nil {
		return err
	}

	list := make([]*found, 0, len(links))
	for _, f := range links {
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.caseOrder != b.caseOrder {
			return a.caseOrder < b.caseOrder
		}
		if a.personAt != b.personAt {
			return a.personAt < b.personAt
		}
		return a.person < b.person
	})
	return s.record(ctx, r, list, pr)
}

// link keeps, per (companion, case), the latest encounter and how many
// there were: the latest is the one the companion rule counts from.
func link(links map[pair]*found, k pair, f found) {
	cur := links[k]
	if cur == nil {
		f.n = 1
		links[k] = &f
		return
	}
	cur.n++
	if f.personAt > cur.personAt || f.personAt == cur.personAt && f.caseAt > cur.caseAt {
		n := cur.n
		*cur = f
		cur.n = n
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// saveChunk is the rows written per transaction, so a large report does not
// hold SQLite's single writer (and the check-ins queued behind it) for long.
const saveChunk = 1000

// record stores the report and the tasks, then records the facts, then
// marks the run done. Every step can be repeated: a run resumed on another
// node rewrites its report, finds the tasks already open and the facts
// already recorded (by key).
func (s *Service) record(ctx context.Context, r *Run, list []*found, pr *progress) error {
	rv := s.resolver()
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM tracing_contacts WHERE run_id = $1`, r.ID); err != nil {
		return fmt.Errorf("tracing: clear report: %w", err)
	}
	var tasks int64
	for start := 0; start < len(list); start += saveChunk {
		part := list[start:min(start+saveChunk, len(list))]
		regions := make([]string, len(part))
		for i, f := range part {
			ref, err := rv.person(ctx, f.person)
			if err != nil {
				return err
			}
			regions[i] = ref.Region
		}
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			for off := 0; off < len(part); off += 100 {
				sub := part[off:min(off+100, len(part))]
				var b strings.Builder
				args := make([]any, 0, 10*len(sub))
				b.WriteString(`INSERT INTO tracing_contacts (run_id, seq, person_num, person_region, case_num, place, case_at,
					person_at, overlap_minutes, encounters) VALUES `)
				for i, f := range sub {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(placeholders(len(args), 10))
					args = append(args, r.ID, int64(start+off+i+1), f.person, regions[off+i], f.cse, f.place, f.caseAt,
						f.personAt, f.overlap, f.n)
				}
				if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
					return fmt.Errorf("tracing: save report: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		n, err := s.openTasks(ctx, r.ID, part, regions, now)
		if err != nil {
			return err
		}
		tasks += n
		if err := pr.set(ctx, r.Progress.Total, false); err != nil {
			return err
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE tracing_runs SET companions = $1, tasks = $2 WHERE id = $3`,
		len(list), tasks, r.ID); err != nil {
		return fmt.Errorf("tracing: save counts: %w", err)
	}

	if len(list) > 0 && s.facts == nil {
		return errNoFacts
	}
	created, err := s.recordFacts(ctx, r, list, rv, pr)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tracing_runs SET status = $1, facts = $2, finished_at = $3, lease_until = NULL
		WHERE id = $4 AND node = $5 AND status = $6`, StatusDone, created, s.now().UnixMilli(), r.ID, s.cfg.Node, StatusRunning)
	if err != nil {
		return fmt.Errorf("tracing: finish run: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errLeaseLost
	}
	return nil
}

// factChunk is the facts handed to the status engine per call (one
// transaction each).
const factChunk = 5000

func (s *Service) recordFacts(ctx context.Context, r *Run, list []*found, rv *resolver, pr *progress) (int64, error) {
	var created int64
	batch := make([]status.NewFact, 0, min(factChunk, len(list)))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := s.facts.Record(ctx, batch...)
		if err != nil {
			return fmt.Errorf("tracing: record facts: %w", err)
		}
		created += int64(n)
		batch = batch[:0]
		return pr.set(ctx, r.Progress.Total, false)
	}
	for _, f := range list {
		placeRef, err := rv.place(ctx, f.place)
		if err != nil {
			return 0, err
		}
		caseRef := "venue:" + placeRef.ID
		if f.cse != 0 {
			c, err := rv.person(ctx, f.cse)
			if err != nil {
				return 0, err
			}
			caseRef = c.ID
		}
		batch = append(batch, status.NewFact{
			Person: f.person,
			Fact: fact.Fact{Kind: fact.ContactCompanion, At: db.Time(f.personAt), Source: "tracing:" + r.ID,
				Attrs: map[string]any{
					"case_person": caseRef, "venue": placeRef.ID, "case_at": db.Time(f.caseAt), "person_at": db.Time(f.personAt),
					"overlap_minutes": f.overlap, "tracing_run": r.ID,
				}},
			RecordedBy: r.CreatedBy,
			// The evidence, not the run, names the fact: a re-run that finds
			// the same encounter records nothing new.
			Key: "companion:" + caseRef + ":" + placeRef.ID + ":" + strconv.FormatInt(f.personAt, 10),
		})
		if len(batch) == factChunk {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	return created, flush()
}

func placeholders(from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i + 1))
	}
	b.WriteByte(')')
	return b.String()
}
