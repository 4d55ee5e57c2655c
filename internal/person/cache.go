package person

import (
	"hash/maphash"
	"sync"
)

// cache is a bounded concurrent map from account id to the profile of the
// account's person. Only positive answers are cached (an unregistered account
// may register on another node at any moment), and what a profile holds does
// not change once registered except by a correction of the name (Correct),
// which drops the entry on its node; another node shows the old masked name
// on the code until its entry is evicted or the node restarts.
type cache struct {
	seed   maphash.Seed
	shards [64]struct {
		sync.RWMutex
		m map[string]Profile
	}
	perShard int
}

func newCache(max int) *cache {
	c := &cache{seed: maphash.MakeSeed(), perShard: max / 64}
	for i := range c.shards {
		c.shards[i].m = map[string]Profile{}
	}
	return c
}

func (c *cache) shard(k string) int { return int(maphash.String(c.seed, k) % 64) }

func (c *cache) get(k string) (Profile, bool) {
	sh := &c.shards[c.shard(k)]
	sh.RLock()
	v, ok := sh.m[k]
	sh.RUnlock()
	return v, ok
}

func (c *cache) put(k string, v Profile) {
	sh := &c.shards[c.shard(k)]
	sh.Lock()
	if len(sh.m) >= c.perShard {
		for old := range sh.m { // evict an arbitrary entry: map order is random
			delete(sh.m, old)
			break
		}
	}
	sh.m[k] = v
	sh.Unlock()
}

func (c *cache) drop(k string) {
	sh := &c.shards[c.shard(k)]
	sh.Lock()
	delete(sh.m, k)
	sh.Unlock()
}
