package org

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
)

// How an organisation key's limits hold.
//
// The rate limit (requests per minute) is a token bucket per key on each
// node: a key gets a minute's worth at once, then one request per
// 1/rate minutes. Both are counted under one of usageShards locks, chosen
// by the key. Behind a load balancer that spreads a key's requests over
// N nodes, the key may make up to N times its rate in all: the rate limit
// protects each node; the daily quota is what bounds a key's use overall.
//
// The daily quota counts requests per key and day (the deployment's zone)
// without a database write per request: each node counts in memory and
// adds its counts to api_key_usage every FlushEvery (Flush, run by the
// server), learning the total of every node in return. A node refuses once
// the last total it learnt plus what it has admitted since reaches the
// quota. So the quota holds exactly on one node, and across N nodes a key
// can exceed it by at most what the other N-1 nodes admit for it within one
// flush interval (with the rate limit, (N-1) × rate × FlushEvery / 1 min).
// Keys within 20% of their quota have their total re-read at every flush
// even when this node admitted nothing for them.
const FlushEvery = 5 * time.Second

type useKey struct {
	key string
	day int64
}

type keyUse struct {
	known    int64 // the table's total at the last flush or read (our flushed counts included)
	inflight int64 // being added to the table by a flush right now
	local    int64 // admitted on this node since
	perDay   int64
	loaded   bool
}

// bucket is a key's rate limit on this node: a token bucket of a
// minute's worth that refills one token every minute/rate.
type bucket struct {
	tokens float64
	at     time.Time
}

func (b *bucket) allow(now time.Time, burst int64, period time.Duration) time.Duration {
	if b.at.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = math.Min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(period))
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(period))
}

// usageShards spreads the keys over locks: every gateway request of a key
// takes its shard's lock, and one lock for all would serialise the
// requests of every organisation.
const usageShards = 32

type usageShard struct {
	mu    sync.Mutex
	keys  map[useKey]*keyUse
	rates map[string]*bucket
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type usage struct {
	shards [usageShards]usageShard
}

func (u *usage) init() {
	for i := range u.shards {
		u.shards[i].keys = map[useKey]*keyUse{}
		u.shards[i].rates = map[string]*bucket{}
	}
}

// shard is the shard of a key id (FNV-1a).
func (u *usage) shard(key string) *usageShard {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &u.shards[h%usageShards]
}

func (s *Service) day(t time.Time) int64 {
	y, m, d := t.In(s.cfg.Location).Date()
	return int64(y*10000 + int(m)*100 + d)
}

func (s *Service) untilTomorrow(t time.Time) time.Duration {
	y, m, d := t.In(s.cfg.Location).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, s.cfg.Location).Sub(t)
}

// Authorize is the gateway's door: it returns the organisation p acts for
// if p may use scope, and for a key it enforces the key's rate limit and
// daily quota (429 with how long to wait), counting the request. A unit
// account may use what its organisation's kind allows.
func (s *Service) Authorize(ctx context.Context, p *auth.Principal, scope string) (*Org, error) {
	return s.AuthorizeBatch(ctx, p, scope, 1)
}

// AuthorizeBatch is Authorize for a request that checks n people at once:
// it counts as n requests against the key's daily quota (refused whole,
// nothing checked, when fewer than n remain) and as one against its rate
// limit, which protects the node from requests, not from their size.
func (s *Service) AuthorizeBatch(ctx context.Context, p *auth.Principal, scope string, n int64) (*Org, error) {
	if n < 1 {
		n = 1
	}
	if p == nil || p.Org == "" || (p.Kind != auth.APIKey && p.Kind != auth.Unit) {
		return nil, ErrOrgOnly
	}
	o, err := s.org(ctx, p.Org)
	if err != nil {
		return nil, err
	}
	if p.Kind == auth.Unit {
		if !o.Kind.Allows(scope) {
			return nil, ErrScopeMissing.Withf("an account of a %s may not use %q", o.Kind, scope)
		}
		return o, nil
	}
	if !p.HasScope(scope) {
		return nil, ErrScopeMissing.Withf("this API key lacks the %q scope", scope)
	}
	if err := s.admit(ctx, p, n); err != nil {
		return nil, err
	}
	return o, nil
}

func (s *Service) admit(ctx context.Context, p *auth.Principal, n int64) error {
	now := s.now()
	uk := useKey{p.ID, s.day(now)}
	sh := s.use.shard(p.ID)
	sh.mu.Lock()
	k := sh.keys[uk]
	if k == nil {
		k = &keyUse{}
		sh.keys[uk] = k
	}
	k.perDay = p.Limits.PerDay
	if !k.loaded && p.Limits.PerDay > 0 {
		// The first request of a key on this node today learns what the
		// other nodes counted (one read per key and day).
		sh.mu.Unlock()
		read, err := s.readUse(ctx, uk)
		if err != nil {
			return err
		}
		sh.mu.Lock()
		if !k.loaded {
			k.known, k.loaded = read, true
		}
	}
	defer sh.mu.Unlock()
	if used := k.known + k.inflight + k.local; p.Limits.PerDay > 0 && used+n > p.Limits.PerDay {
		if n > 1 && used < p.Limits.PerDay {
			s.m.quota.Inc()
			return Limited(ErrQuotaExceeded.Withf("this batch of %d needs more than the %d requests left of this API key's quota today",
				n, p.Limits.PerDay-used), s.untilTomorrow(now))
		}
		s.m.quota.Inc()
		return Limited(ErrQuotaExceeded.Withf("this API key has used its quota of %d requests today", p.Limits.PerDay), s.untilTomorrow(now))
	}
	if rate := p.Limits.PerMinute; rate > 0 {
		b := sh.rates[p.ID]
		if b == nil {
			b = &bucket{}
			sh.rates[p.ID] = b
		}
		if wait := b.allow(now, rate, time.Minute/time.Duration(rate)); wait > 0 {
			s.m.rate.Inc()
			return Limited(ErrRateLimited.Withf("this API key may make %d requests a minute", rate), wait)
		}
	}
	k.local += n
	s.m.admitted.Inc()
	return nil
}

func (s *Service) readUse(ctx context.Context, uk useKey) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(uses), 0) FROM api_key_usage WHERE key_id = $1 AND day = $2`, uk.key, uk.day).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("org: read key use: %w", err)
	}
	return n, nil
}

// flushChunk bounds the rows of one upsert.
const flushChunk = 100

// Flush adds what this node counted since the last flush to the table and
// learns each key's total; the server runs it every FlushEvery.
func (s *Service) Flush(ctx context.Context) error {
	today := s.day(s.now())
	type delta struct {
		uk useKey
		n  int64
		k  *keyUse
		sh *usageShard
	}
	var deltas []delta
	var refresh []useKey
	for i := range s.use.shards {
		sh := &s.use.shards[i]
		sh.mu.Lock()
		for uk, k := range sh.keys {
			switch {
			case k.local > 0:
				deltas = append(deltas, delta{uk, k.local, k, sh})
				k.inflight, k.local = k.local, 0
			case uk.day < today:
				delete(sh.keys, uk)
				if b := sh.rates[uk.key]; b != nil && s.now().Sub(b.at) > time.Hour {
					delete(sh.rates, uk.key)
				}
			case k.perDay > 0 && k.loaded && k.known*10 >= k.perDay*8:
				refresh = append(refresh, uk)
			}
		}
		sh.mu.Unlock()
	}
	// Every node adds to the same keys' rows: in the order of the keys, not
	// a shard map's, or two nodes flushing at once each held rows the
	// other waited for.
	slices.SortFunc(deltas, func(a, b delta) int {
		return cmp.Or(cmp.Compare(a.uk.key, b.uk.key), cmp.Compare(a.uk.day, b.uk.day))
	})
	var ferr error
	for len(deltas) > 0 {
		n := min(len(deltas), flushChunk)
		chunk := deltas[:n]
		deltas = deltas[n:]
		args := make([]any, 0, 3*n)
		for _, d := range chunk {
			args = append(args, d.uk.key, d.uk.day, d.n)
		}
		totals, err := s.upsertUse(ctx, n, args)
		for _, d := range chunk {
			d.sh.mu.Lock()
			if err != nil {
				d.k.local += d.n
			} else if t, ok := totals[d.uk]; ok {
				d.k.known, d.k.loaded = t, true
			}
			d.k.inflight = 0
			d.sh.mu.Unlock()
		}
		if err != nil {
			ferr = err
		}
	}
	for _, uk := range refresh {
		n, err := s.readUse(ctx, uk)
		if err != nil {
			return err
		}
		sh := s.use.shard(uk.key)
		sh.mu.Lock()
		if k := sh.keys[uk]; k != nil && n > k.known {
			k.known = n
		}
		sh.mu.Unlock()
	}
	return ferr
}

func (s *Service) upsertUse(ctx context.Context, n int, args []any) (map[useKey]int64, error) {
	q := s.db.Engine().Positional(`INSERT INTO api_key_usage (key_id, day, uses) VALUES ` + db.Rows(0, n, 3) +
		` ON CONFLICT (key_id, day) DO UPDATE SET uses = api_key_usage.uses + excluded.uses RETURNING key_id, day, uses`)
	out := make(map[useKey]int64, n)
	err := s.db.InTx(ctx, func(tx db.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var uk useKey
			var uses int64
			if err := rows.Scan(&uk.key, &uk.day, &uses); err != nil {
				return err
			}
			out[uk] = uses
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("org: add key use: %w", err)
	}
	return out, nil
}

// usedToday is each key's use today: the table's total and what this node
// has not flushed yet.
func (s *Service) usedToday(ctx context.Context, ks []*auth.APIKeyInfo) (map[string]int64, error) {
	out := map[string]int64{}
	if len(ks) == 0 {
		return out, nil
	}
	day := s.day(s.now())
	args := []any{day}
	for _, k := range ks {
		args = append(args, k.ID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key_id, uses FROM api_key_usage WHERE day = $1 AND key_id IN (`+db.Params(1, len(ks))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("org: key use: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("org: key use: %w", err)
		}
		out[id] = n
	}
	for _, k := range ks {
		sh := s.use.shard(k.ID)
		sh.mu.Lock()
		if u := sh.keys[useKey{k.ID, day}]; u != nil {
			out[k.ID] += u.local + u.inflight
		}
		sh.mu.Unlock()
	}
	return out, rows.Err()
}

// Reader is what ReportOf needs of the organisations.
type Reader interface {
	Authorize(ctx context.Context, p *auth.Principal, scope string) (*Org, error)
	Get(ctx context.Context, by *auth.Principal, id string) (*Org, error)
}

// ReportOf is the organisation a day's report or list is about: for a unit
// (its key or account), its own, authorised for scope, where orgID is "" or
// its own; for an operator who reads organisations, the one orgID names, in
// scope (missing, the caller's error, when none is named). The caller checks
// the organisation's kind.
func ReportOf(ctx context.Context, orgs Reader, by *auth.Principal, orgID, scope string, missing error) (*Org, error) {
	if by != nil && by.Org != "" {
		o, err := orgs.Authorize(ctx, by, scope)
		if err != nil {
			return nil, err
		}
		if orgID != "" && orgID != o.ID {
			return nil, ErrNotFound
		}
		return o, nil
	}
	if orgID == "" {
		return nil, missing
	}
	return orgs.Get(ctx, by, orgID)
}
