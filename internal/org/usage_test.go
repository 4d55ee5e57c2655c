package org_test

import (
	"context"
	"testing"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
	"github.com/healthcode/healthcode/internal/org"
)

// usageShard is the shard of a key's counts on a node, as the service
// computes it (FNV-1a of the key's id over 32 shards).
func usageShard(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return h % 32
}

// TestFlushOnTwoNodes flushes the use two nodes counted of the same two
// API keys at once, as every node's timer does: each must add to the keys'
// rows in the order the other does, which must not be Go's order of a map's
// keys (two keys of one shard), a different one each time, or PostgreSQL
// ends one of them as a deadlock. On PostgreSQL the test holds one key's
// row until both wait for it: when the first to wait is to take it first
// and the other took the other key before, they meet, a round in four.
func TestFlushOnTwoNodes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		ph := f.org(t, org.Pharmacy, "国胜大药房", "MA2N7T1D", "341881001")
		limits := auth.KeyLimits{PerDay: 1_000_000, PerMinute: 1_000_000}
		// Two keys of one shard: a node's flush sets out a shard's keys in
		// the order of its map.
		var keys []*auth.Principal
		seen := map[uint32]*auth.Principal{}
		for len(keys) == 0 {
			k := orgKey(t, f, ph, limits, "scan")
			if o := seen[usageShard(k.ID)]; o != nil {
				keys = []*auth.Principal{o, k}
			}
			seen[usageShard(k.ID)] = k
		}
		nodes := []*org.Service{f.svc, f.node()}
		use := func(n *org.Service) {
			for _, k := range keys {
				if _, err := n.Authorize(ctx, k, org.ScopeScan); err != nil {
					t.Fatal(err)
				}
			}
		}
		use(nodes[0])
		if err := nodes[0].Flush(ctx); err != nil {
			t.Fatal(err)
		}
		const rounds = 24
		for round := range rounds {
			var flushes []func() error
			for _, n := range nodes {
				use(n)
				flushes = append(flushes, func() error { return n.Flush(ctx) })
			}
			errs := dbtest.Contend(t, d, `SELECT uses FROM api_key_usage WHERE key_id = $1 FOR UPDATE`, []any{keys[1].ID}, flushes...)
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
		}
		for _, k := range keys {
			var uses int64
			if err := d.QueryRowContext(ctx, `SELECT uses FROM api_key_usage WHERE key_id = $1`, k.ID).Scan(&uses); err != nil || uses != 1+2*rounds {
				t.Errorf("key %s: %d uses (%v), want %d", k.ID, uses, err, 1+2*rounds)
			}
		}
	})
}
