package tracing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/apierr"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/fact"
	"github.com/healthcode/healthcode/internal/status"
)

// errLeaseLost stops a run another node has taken over.
var errLeaseLost = errors.New("tracing: the run's lease passed to another node")

// RunNext claims the oldest queued run (or one whose node stopped renewing
// its lease) and executes it. It reports whether it found one.
func (s *Service) RunNext(ctx context.Context) (bool, error) {
	id, err := s.claim(ctx)
	if err != nil || id == "" {
		return false, err
	}
	began := time.Now()
	err = s.execute(ctx, id)
	switch {
	case err == nil:
		s.metrics.done.Inc()
		s.metrics.duration.Observe(time.Since(began).Seconds())
		return true, nil
	case errors.Is(err, errLeaseLost):
		s.metrics.lost.Inc()
		return true, nil
	case ctx.Err() != nil:
		s.metrics.handedBack.Inc()
		// Shutting down: hand the run back so the next node to look resumes it
		// without waiting out the lease.
		_, uerr := s.db.ExecContext(context.WithoutCancel(ctx), `UPDATE tracing_runs SET status = $1, lease_until = NULL, node = NULL
			WHERE id = $2 AND node = $3 AND status = $4`, StatusQueued, id, s.cfg.Node, StatusRunning)
		return true, errors.Join(ctx.Err(), uerr)
	}
	s.metrics.failed.Inc()
	msg := "internal error; see the server log"
	if e, ok := apierr.As(err); ok {
		msg = e.Message
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
		if errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
			return "", nil
		}
		if err != nil {
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
	region             string // the companion's home region
}

// walkers is how many cases are walked at once: each walk is a few index
// seeks and a scan on a read connection, so the CPUs can share them.
var walkers = max(2, runtime.GOMAXPROCS(0))

// shared is what the walkers of one run share: the kinds of the places met
// and the home regions of the people found.
type shared struct {
	mu      sync.Mutex
	kinds   map[int64]string // place -> venue kind or "checkpoint"
	regions map[int64]string // person -> home region
}

func (s *Service) kindOf(ctx context.Context, sh *shared, place int64) (string, error) {
	sh.mu.Lock()
	k, ok := sh.kinds[place]
	sh.mu.Unlock()
	if ok {
		return k, nil
	}
	pl, err := s.presence.Place(ctx, place)
	if err != nil {
		return "", err
	}
	k = CheckpointKind
	if pl.Kind == checkin.PlaceVenue {
		v, err := s.venues.Get(ctx, nil, pl.Ref)
		if err != nil {
			return "", err
		}
		k = v.Kind
	}
	sh.mu.Lock()
	sh.kinds[place] = k
	sh.mu.Unlock()
	return k, nil
}

// locate fills in the home region of each link, looking up the people not
// met before.
func (s *Service) locate(ctx context.Context, sh *shared, links []*found) error {
	var missing []int64
	sh.mu.Lock()
	for _, f := range links {
		if _, ok := sh.regions[f.person]; !ok {
			missing = append(missing, f.person)
		}
	}
	sh.mu.Unlock()
	if len(missing) > 0 {
		homes, err := s.homeRegions(ctx, missing)
		if err != nil {
			return err
		}
		sh.mu.Lock()
		maps.Copy(sh.regions, homes)
		sh.mu.Unlock()
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, f := range links {
		f.region = sh.regions[f.person]
	}
	return nil
}

// walkCase finds the companions of one case: everyone at a place the case
// was, within that place's window, with their latest encounter.
func (s *Service) walkCase(ctx context.Context, p *params, sh *shared, c int64, isCase map[int64]bool) ([]*found, error) {
	window, err := s.caseWindow(ctx, p, sh, c)
	if err != nil {
		return nil, err
	}
	var encs []checkin.Encounter
	err = s.presence.Encounters(ctx, c, p.From, p.To, window, func(e checkin.Encounter) {
		if !isCase[e.Person] {
			encs = append(encs, e)
		}
	})
	if err != nil {
		return nil, err
	}
	links := map[int64]*found{}
	for _, e := range encs {
		k, err := s.kindOf(ctx, sh, e.Place)
		if err != nil {
			return nil, err
		}
		w := windowOf(p, k)
		gap := abs(e.PersonAt - e.CaseAt)
		if gap > w {
			continue
		}
		link(links, e.Person, found{person: e.Person, cse: c, place: e.Place, caseAt: e.CaseAt, personAt: e.PersonAt,
			overlap: (w - gap) / 60000})
	}
	out := sorted(links)
	return out, s.locate(ctx, sh, out)
}

// walkVenue finds everyone at the venue during the run's period, or within
// the venue's window of it: someone who arrived up to a window before was
// still there when it began, someone up to a window after came while the
// exposure was fresh.
func (s *Service) walkVenue(ctx context.Context, p *params, sh *shared) ([]*found, error) {
	place, err := s.presence.VenuePlace(ctx, p.Venue)
	if err != nil || place == 0 {
		return nil, err
	}
	k, err := s.kindOf(ctx, sh, place)
	if err != nil {
		return nil, err
	}
	w := windowOf(p, k)
	links := map[int64]*found{}
	err = s.presence.Visitors(ctx, place, p.From-w, p.To+w, func(v checkin.Presence) {
		caseAt := min(max(v.At, p.From), p.To)
		overlap := max(0, min(v.At+w, p.To)-max(v.At, p.From)) / 60000
		link(links, v.Person, found{person: v.Person, place: place, caseAt: caseAt, personAt: v.At, overlap: overlap})
	})
	if err != nil {
		return nil, err
	}
	out := sorted(links)
	return out, s.locate(ctx, sh, out)
}

func sorted(links map[int64]*found) []*found {
	out := make([]*found, 0, len(links))
	for _, f := range links {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].personAt != out[j].personAt {
			return out[i].personAt < out[j].personAt
		}
		return out[i].person < out[j].person
	})
	return out
}

func (s *Service) execute(ctx context.Context, id string) error {
	r, err := s.loadRun(ctx, s.db, id)
	if err != nil {
		return err
	}
	p := &r.params
	pr := &progress{s: s, id: id}
	began := time.Now()
	sh := &shared{kinds: map[int64]string{}, regions: map[int64]string{}}
	var list []*found
	switch p.Mode {
	case ModePersons:
		if list, err = s.walkCases(ctx, p, sh, pr); err != nil {
			return err
		}
	case ModeVenue:
		if list, err = s.walkVenue(ctx, p, sh); err != nil {
			return err
		}
	default:
		return fmt.Errorf("tracing: run %s has unknown mode %q", id, p.Mode)
	}
	if err := pr.set(ctx, r.Progress.Total, true); err != nil {
		return err
	}
	walked := time.Now()
	stats, err := s.record(ctx, r, list, pr)
	if err != nil {
		return err
	}
	s.metrics.companions.Add(float64(len(list)))
	s.cfg.Log.Info("tracing run done", "run", id, "cases", len(p.Cases), "companions", len(list), "facts", stats.facts,
		"tasks", stats.tasks, "walk", walked.Sub(began).Round(time.Millisecond), "save", stats.saved.Sub(walked).Round(time.Millisecond),
		"record_facts", time.Since(stats.saved).Round(time.Millisecond))
	return nil
}

// recorded is what record did, for the log.
type recorded struct {
	facts, tasks int64
	saved        time.Time
}

// walkCases walks the cases on several walkers, reporting progress, and
// returns the links in case order.
func (s *Service) walkCases(ctx context.Context, p *params, sh *shared, pr *progress) ([]*found, error) {
	isCase := make(map[int64]bool, len(p.Cases))
	for _, c := range p.Cases {
		isCase[c] = true
	}
	perCase := make([][]*found, len(p.Cases))
	var next, done atomic.Int64
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range min(walkers, len(p.Cases)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.Cases) || wctx.Err() != nil {
					return
				}
				links, err := s.walkCase(wctx, p, sh, p.Cases[i], isCase)
				if err != nil {
					cancel(err)
					return
				}
				perCase[i] = links
				done.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			if err := context.Cause(wctx); err != nil {
				return nil, err
			}
			var list []*found
			for _, links := range perCase {
				list = append(list, links...)
			}
			return list, nil
		case <-tick.C:
			if err := pr.set(ctx, done.Load(), true); err != nil {
				cancel(err)
			}
		}
	}
}

// link keeps, per companion of one case, the latest encounter and how many
// there were: the latest is the one the companion rule counts from.
func link(links map[int64]*found, person int64, f found) {
	cur := links[person]
	if cur == nil {
		f.n = 1
		links[person] = &f
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

// saveChunk is the rows written per transaction: large enough that the
// prepared statements pay off, small enough that the report does not hold
// SQLite's single writer (and the check-ins queued behind it) for more than
// a few tens of milliseconds.
const saveChunk = 2000

// record stores the report and the tasks, then records the facts, then
// marks the run done. Every step can be repeated: a run resumed on another
// node rewrites its report, finds the tasks already open and the facts
// already recorded (by key).
func (s *Service) record(ctx context.Context, r *Run, list []*found, pr *progress) (recorded, error) {
	var st recorded
	now := s.now().UnixMilli()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM tracing_reports WHERE run_id = $1`, r.ID); err != nil {
		return st, fmt.Errorf("tracing: clear report: %w", err)
	}
	for start := 0; start < len(list); start += saveChunk {
		part := list[start:min(start+saveChunk, len(list))]
		if _, err := s.db.ExecContext(ctx, `INSERT INTO tracing_reports (run_id, first_seq, lines, data) VALUES ($1, $2, $3, $4)`,
			r.ID, start+1, len(part), encodeLines(part)); err != nil {
			return st, fmt.Errorf("tracing: save report: %w", err)
		}
		if err := pr.set(ctx, r.Progress.Total, false); err != nil {
			return st, err
		}
	}
	tasks, err := s.openTasks(ctx, r, list, now, pr)
	if err != nil {
		return st, err
	}
	perRegion := map[string]int64{}
	for _, f := range list {
		perRegion[f.region]++
	}
	counts, err := json.Marshal(perRegion)
	if err != nil {
		return st, fmt.Errorf("tracing: region counts: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE tracing_runs SET companions = $1, tasks = $2, region_counts = $3 WHERE id = $4`,
		len(list), tasks, string(counts), r.ID); err != nil {
		return st, fmt.Errorf("tracing: save counts: %w", err)
	}
	st.tasks, st.saved = tasks, time.Now()

	created, err := s.recordFacts(ctx, r, list, s.resolver(), pr)
	if err != nil {
		return st, err
	}
	st.facts = created
	res, err := s.db.ExecContext(ctx, `UPDATE tracing_runs SET status = $1, facts = $2, finished_at = $3, lease_until = NULL
		WHERE id = $4 AND node = $5 AND status = $6`, StatusDone, created, s.now().UnixMilli(), r.ID, s.cfg.Node, StatusRunning)
	if err != nil {
		return st, fmt.Errorf("tracing: finish run: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return st, errLeaseLost
	}
	return st, nil
}

// openTasks opens a follow-up task for each companion (the first link of
// each person), unless they already have an unvisited one. The tasks are
// written in order of person with ids in creation order, so each index of
// the table takes its new entries in a few places rather than all over and
// a transaction of thousands of tasks dirties few pages.
func (s *Service) openTasks(ctx context.Context, r *Run, list []*found, now int64, pr *progress) (int64, error) {
	seen := make(map[int64]bool, len(list))
	first := make([]*found, 0, len(list))
	for _, f := range list {
		if !seen[f.person] {
			seen[f.person] = true
			first = append(first, f)
		}
	}
	sort.Slice(first, func(i, j int) bool { return first[i].person < first[j].person })
	insert := db.Insert{Head: `INSERT INTO followup_tasks (id, kind, person_num, region_code, run_id, case_num, exposure_at,
		status, note, created_at) VALUES `, Cols: 10, Tail: ` ON CONFLICT DO NOTHING`}
	var opened int64
	for start := 0; start < len(first); start += saveChunk {
		part := first[start:min(start+saveChunk, len(first))]
		err := s.db.InTx(ctx, func(tx db.Tx) error {
			last, err := db.NextVal(ctx, tx, "followup_tasks", int64(len(part)))
			if err != nil {
				return err
			}
			// One row per statement, prepared once: a multi-row INSERT ... ON
			// CONFLICT needs a statement journal on SQLite, which costs more
			// than it saves.
			stmt, err := tx.PrepareContext(ctx, insert.SQL(s.db.Engine(), 1))
			if err != nil {
				return err
			}
			defer stmt.Close()
			id := last - int64(len(part))
			for _, f := range part {
				id++
				res, err := stmt.ExecContext(ctx, id, TaskCompanion, f.person, f.region, r.ID, f.cse, f.personAt, TaskOpen, "", now)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				opened += n
			}
			return nil
		})
		if err != nil {
			return opened, fmt.Errorf("tracing: open tasks: %w", err)
		}
		if err := pr.set(ctx, r.Progress.Total, false); err != nil {
			return opened, err
		}
	}
	return opened, nil
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

// homeRegions returns the residential region of each person. It reads the
// persons table itself, in bulk: the person service offers only whole
// persons one at a time, which decrypts three fields per companion and, at
// a hundred thousand companions, costs more than the rest of the run.
func (s *Service) homeRegions(ctx context.Context, nums []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(nums))
	err := db.QueryIn(ctx, s.db, s.db.Engine(), `SELECT num, region_code FROM persons WHERE num IN `, nil, nums, ``, func(sc db.Scanner) error {
		var n int64
		var region string
		if err := sc.Scan(&n, &region); err != nil {
			return err
		}
		out[n] = region
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tracing: home regions: %w", err)
	}
	for _, n := range nums {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("tracing: person %d was present but is not registered", n)
		}
	}
	return out, nil
}
