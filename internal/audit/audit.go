// Package audit is the append-only audit log. Every operator read of a
// person, every ID-number lookup at a checkpoint and every change is written
// here, in the same transaction as the change where there is one. Each entry
// carries the SHA-256 of the entry before it, and a single head row holds the
// tip, so `healthcode audit verify` finds an edited, deleted, inserted or
// truncated entry. The chain cannot show a rewrite by someone who recomputes
// it; the signed heads (heads.go) do.
package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/healthcode/healthcode/internal/db"
)

// Entry is one audited event.
type Entry struct {
	Seq      int64
	At       time.Time
	Actor    string // "operator:ID", "resident:ID", "apikey:ID", "system"
	Action   string // "person.read", "person.create", "rules.activate", ...
	Subject  string // "person:ID", "venue:ID", ...
	Region   string // region of the subject, for scoped views
	Detail   map[string]any
	PrevHash string
	Hash     string
}

// Append writes e in tx. The caller's transaction makes the audit entry and
// the change it records commit or fail together.
func Append(ctx context.Context, tx db.Tx, e Entry) (Entry, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	// Taking the head row's lock first serialises appends across nodes.
	if err := tx.QueryRowContext(ctx,
		`UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&e.Seq, &e.PrevHash); err != nil {
		return e, fmt.Errorf("audit: advance head: %w", err)
	}
	detail, err := encodeDetail(e.Detail)
	if err != nil {
		return e, err
	}
	e.Hash = hashEntry(e, detail)
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log (seq, at, actor, action, subject, region_code, detail, prev_hash, hash)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Seq, e.At.UnixMilli(), e.Actor, e.Action, e.Subject, e.Region, detail, e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("audit: insert entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return e, fmt.Errorf("audit: move head: %w", err)
	}
	appends.WithLabelValues(e.Action).Inc()
	return e, nil
}

// Record appends e in a transaction of its own, for events that change
// nothing else (a read).
func Record(ctx context.Context, d *db.DB, e Entry) error {
	return d.InTx(ctx, func(tx db.Tx) error {
		_, err := Append(ctx, tx, e)
		return err
	})
}

func encodeDetail(d map[string]any) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	// encoding/json sorts map keys, so the stored text is canonical.
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("audit: encode detail: %w", err)
	}
	return string(b), nil
}

// hashEntry covers every stored field and the previous hash, each length-
// prefixed so that moving bytes between fields changes the hash.
func hashEntry(e Entry, detail string) string {
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(e.Seq))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(e.At.UnixMilli()))
	h.Write(buf[:])
	for _, f := range []string{e.PrevHash, e.Actor, e.Action, e.Subject, e.Region, detail} {
		binary.BigEndian.PutUint64(buf[:], uint64(len(f)))
		h.Write(buf[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Problem is one place where the chain does not hold.
type Problem struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Report is the outcome of Verify.
type Report struct {
	Entries int64 `json:"entries"`
	// Heads is how many signed heads were read whose signature holds, and
	// AnchoredTo the last entry one of them fixes as found: a rewrite of
	// the entries up to it is found even with the chain recomputed.
	Heads      int       `json:"heads"`
	AnchoredTo int64     `json:"anchored_to"`
	OK         bool      `json:"ok"`
	Problems   []Problem `json:"problems,omitempty"`
}

type anchorRef struct {
	h      Head
	source string
}

// Verify walks the whole log and reports every entry whose hash, link or
// sequence does not hold, and a head that does not match the last entry.
// With anchors (the signed heads of the database, of a kept file), it also
// reports every signed head the log contradicts: one whose entry is gone
// (the tail was cut) or has another hash (the log before it was rewritten
// and the chain recomputed), and heads of one source that another lacks or
// contradicts. The first anchors are the reference for the others.
func Verify(ctx context.Context, q db.Querier, anchors ...Anchors) (Report, error) {
	var r Report
	fixed := map[int64][]anchorRef{}
	var ref map[int64]Head
	for i, an := range anchors {
		good, bad := an.check()
		r.Problems = append(r.Problems, bad...)
		r.Heads += len(good)
		for _, h := range good {
			if h.LogSeq > 0 {
				fixed[h.LogSeq] = append(fixed[h.LogSeq], anchorRef{h, an.Source})
			}
		}
		if i == 0 {
			// The reference's heads are numbered from 1 without a gap. A
			// head whose signature fails is still what it holds: another
			// source's head then differs from it.
			ref = make(map[int64]Head, len(an.Heads))
			var last int64
			for _, h := range an.Heads {
				ref[h.Seq] = h
				if h.Seq > last+1 {
					r.Problems = append(r.Problems, Problem{h.LogSeq, fmt.Sprintf("signed heads %d to %d are missing from %s (deleted)", last+1, h.Seq-1, an.Source)})
				}
				last = max(last, h.Seq)
			}
			continue
		}
		for _, h := range good {
			switch d, ok := ref[h.Seq]; {
			case !ok:
				r.Problems = append(r.Problems, Problem{h.LogSeq, fmt.Sprintf("signed head %d of %s (%s) is not in %s (deleted)",
					h.Seq, an.Source, h.At.UTC().Format(time.RFC3339), anchors[0].Source)})
			case !d.same(h):
				r.Problems = append(r.Problems, Problem{h.LogSeq, fmt.Sprintf("signed head %d differs between %s (entry %d) and %s (entry %d)",
					h.Seq, anchors[0].Source, d.LogSeq, an.Source, h.LogSeq)})
			}
		}
	}
	var prev Entry
	var matched int64 // the last entry a signed head fixed, as found
	err := db.Each(ctx, q, `SELECT seq, at, actor, action, subject, region_code, detail, prev_hash, hash FROM audit_log ORDER BY seq`, nil,
		func(sc db.Scanner) error {
			var e Entry
			var at int64
			var detail string
			if err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Region, &detail, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			e.At = db.Time(at)
			r.Entries++
			if e.Seq != prev.Seq+1 {
				r.Problems = append(r.Problems, Problem{e.Seq, fmt.Sprintf("entries %d to %d are missing", prev.Seq+1, e.Seq-1)})
			}
			if e.PrevHash != prev.Hash {
				r.Problems = append(r.Problems, Problem{e.Seq, "does not link to the entry before it"})
			}
			if got := hashEntry(e, detail); got != e.Hash {
				r.Problems = append(r.Problems, Problem{e.Seq, "content does not match its hash (edited)"})
			}
			for _, a := range fixed[e.Seq] {
				if a.h.LogHash == e.Hash {
					matched = e.Seq
					continue
				}
				r.Problems = append(r.Problems, Problem{e.Seq, fmt.Sprintf("entry %d is not the one signed head %d of %s (%s) records: entries %d to %d were rewritten after it was signed (chain recomputed)",
					e.Seq, a.h.Seq, a.source, a.h.At.UTC().Format(time.RFC3339), matched+1, e.Seq)})
			}
			prev = e
			return nil
		})
	if err != nil {
		return r, fmt.Errorf("audit: read log: %w", err)
	}
	for seq, refs := range fixed {
		if seq <= prev.Seq {
			continue
		}
		for _, a := range refs {
			r.Problems = append(r.Problems, Problem{seq, fmt.Sprintf("signed head %d of %s (%s) records entry %d, but the log ends at entry %d: entries %d to %d were removed (tail cut, head moved)",
				a.h.Seq, a.source, a.h.At.UTC().Format(time.RFC3339), seq, prev.Seq, prev.Seq+1, seq)})
		}
	}
	r.AnchoredTo = matched
	var headSeq int64
	var headHash string
	err = q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		r.Problems = append(r.Problems, Problem{0, "the head row is missing"})
	case err != nil:
		return r, fmt.Errorf("audit: read head: %w", err)
	case headSeq != prev.Seq || headHash != prev.Hash:
		r.Problems = append(r.Problems, Problem{headSeq, fmt.Sprintf("the log ends at entry %d but the head records entry %d (entries removed from the end)", prev.Seq, headSeq)})
	}
	slices.SortStableFunc(r.Problems, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
	r.OK = len(r.Problems) == 0
	return r, nil
}

// Filter selects entries for the console.
type Filter struct {
	Lo, Hi  string // region bounds of the reader's scope ("" and "" for all)
	Subject string
	Before  int64 // seq; 0 for the newest
	Limit   int
}

// Reader is an operator reading the log (an *auth.Principal). audit sits
// below auth, which writes to the log, so the reader answers for its own
// role and scope.
type Reader interface {
	MayReadAudit() error     // nil when the reader's role reads the log
	Bounds() (lo, hi string) // the reader's scope
}

// ListFor returns the entries a reader may see, newest first: none unless
// their role reads the log, and only those of their scope, whatever bounds
// f asks for.
func ListFor(ctx context.Context, q db.EngineQuerier, by Reader, f Filter) ([]Entry, error) {
	if err := by.MayReadAudit(); err != nil {
		return nil, err
	}
	f.Lo, f.Hi = by.Bounds()
	return List(ctx, q, f)
}

// List returns entries newest first within the region bounds of f, for
// the platform itself: operators read through ListFor.
func List(ctx context.Context, q db.EngineQuerier, f Filter) ([]Entry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	before := f.Before
	if before <= 0 {
		before = 1 << 62
	}
	var w db.Where
	w.Scope("l.region_code", f.Lo, f.Hi)
	scan := func(sc db.Scanner) (Entry, error) {
		var e Entry
		var at int64
		var detail string
		if err := sc.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Region, &detail, &e.PrevHash, &e.Hash); err != nil {
			return e, err
		}
		e.At = db.Time(at)
		if detail != "{}" {
			json.Unmarshal([]byte(detail), &e.Detail)
		}
		return e, nil
	}
	var out []Entry
	var err error
	if f.Subject != "" {
		// Through the index on (subject, seq): newest first, no sort.
		w.Add("l.subject = ?", f.Subject)
		w.Add("l.seq < ?", before)
		out, err = db.Collect(ctx, q, `SELECT `+entryCols+` FROM audit_log l WHERE `+w.SQL()+` ORDER BY seq DESC LIMIT `+w.Next(f.Limit), w.Args, scan)
	} else {
		out, err = db.Page(ctx, q, browseLog, w, before, f.Limit, scan)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}

const entryCols = `l.seq, l.at, l.actor, l.action, l.subject, l.region_code, l.detail, l.prev_hash, l.hash`

// browseLog is the log newest first, a page of a scope at a time (db.Browse).
var browseLog = db.Browse{Table: "audit_log", Alias: "l", Key: "seq", Desc: true, Cols: entryCols}
