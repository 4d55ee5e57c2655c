package status

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcode/healthcode/internal/rules"
)

// gapWait is how long the tail waits for a missing seq before it steps over
// it. Seqs come from db.NextVal, whose counter row stays locked until the
// writing transaction ends, so a later seq cannot commit before an earlier
// one and a gap should never be seen; the wait only bounds the damage should
// someone delete log rows by hand.
const gapWait = 10 * time.Second

// tailPage is how many log entries one query reads.
const tailPage = 5000

// Tail brings this node's cache up to date with changes committed by any
// node: it reads the change log after the last seq it applied, in order, and
// also picks up another node's rule activation. The server runs it every
// 250 ms; when nothing changed it costs two one-row queries (the log after
// the last seq, and the active version).
func (s *Service) Tail(ctx context.Context) error {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	began := time.Now()
	for {
		n, full, err := s.tailOnce(ctx)
		if n > 0 {
			s.metrics.tailApplied.Add(float64(n))
			s.metrics.tailSeq.Set(float64(s.tailSeq))
		}
		if err != nil {
			return err
		}
		if !full || n == 0 {
			break
		}
	}
	if s.gapSince.IsZero() {
		// Everything committed before began is in the cache now.
		s.metrics.tailCurrent.Set(float64(began.UnixNano()) / 1e9)
		s.current.Store(began.UnixNano())
	}
	return s.refreshActive(ctx)
}

func (s *Service) tailOnce(ctx context.Context) (applied int, full bool, err error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, person_num, new_color FROM status_changes WHERE seq > $1 ORDER BY seq LIMIT $2`,
		s.tailSeq, tailPage)
	if err != nil {
		return 0, false, fmt.Errorf("status: tail change log: %w", err)
	}
	defer rows.Close()
	read := 0
	for rows.Next() {
		read++
		var seq, num, color int64
		if err := rows.Scan(&seq, &num, &color); err != nil {
			return applied, false, fmt.Errorf("status: tail change log: %w", err)
		}
		if seq != s.tailSeq+1 {
			if s.gapSince.IsZero() {
				s.gapSince = time.Now()
			}
			if time.Since(s.gapSince) < gapWait {
				return applied, false, nil
			}
			s.log.Warn("status change log has a gap; skipping it", "after", s.tailSeq, "next", seq)
		}
		s.gapSince = time.Time{}
		s.cache.set(num, rules.Color(color), uint64(seq))
		s.tailSeq = seq
		applied++
	}
	return applied, read == tailPage, rows.Err()
}

// CacheCurrent is the time before which every committed colour change is
// in this node's cache (zero before the cache is loaded). A node whose
// cache falls behind answers colours that other nodes have changed.
func (s *Service) CacheCurrent() time.Time {
	if n := s.current.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// TailPosition is the last change-log seq this node's cache has applied.
func (s *Service) TailPosition() int64 {
	s.tailMu.Lock()
	defer s.tailMu.Unlock()
	return s.tailSeq
}
