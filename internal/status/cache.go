package status

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/rules"
)

// The colour cache is a dense array indexed by person number (numbers are
// dense: they come from a counter), one 64-bit word per person: the colour
// in the top 2 bits, the status version (a change-log seq) below. Reads are
// one atomic load, with no lock and no map; 8 bytes per resident.
//
// The array is cut into chunks of 65,536 entries, allocated on first write,
// so that it can grow while readers read: growing copies only the directory
// of chunk pointers, and readers load the directory atomically.
const (
	chunkBits   = 16
	chunkSize   = 1 << chunkBits
	versionBits = 62
	versionMask = 1<<versionBits - 1
)

type cacheChunk [chunkSize]atomic.Uint64

type cache struct {
	mu  sync.Mutex // serialises growth
	dir atomic.Pointer[[]*cacheChunk]
}

func newCache() *cache {
	c := &cache{}
	c.dir.Store(&[]*cacheChunk{})
	return c
}

func (c *cache) get(num int64) (rules.Color, uint64) {
	if num <= 0 {
		return rules.Green, 0
	}
	dir := *c.dir.Load()
	i := uint64(num) >> chunkBits
	if i >= uint64(len(dir)) || dir[i] == nil {
		return rules.Green, 0
	}
	e := dir[i][num&(chunkSize-1)].Load()
	if e == 0 {
		return rules.Green, 0
	}
	return rules.Color(e >> versionBits), e & versionMask
}

// set stores a colour if version is newer than what the entry holds, so that
// the tail and this node's own writes can apply the same change in any order.
func (c *cache) set(num int64, color rules.Color, version uint64) {
	if num <= 0 || !color.Valid() {
		return
	}
	slot := c.slot(num)
	e := uint64(color)<<versionBits | version&versionMask
	for {
		old := slot.Load()
		if old != 0 && old&versionMask >= version {
			return
		}
		if slot.CompareAndSwap(old, e) {
			return
		}
	}
}

func (c *cache) slot(num int64) *atomic.Uint64 {
	i := uint64(num) >> chunkBits
	dir := *c.dir.Load()
	if i < uint64(len(dir)) && dir[i] != nil {
		return &dir[i][num&(chunkSize-1)]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	dir = *c.dir.Load()
	if i >= uint64(len(dir)) || dir[i] == nil {
		n := len(dir)
		if i >= uint64(n) {
			n = int(i) + 1
		}
		grown := make([]*cacheChunk, n)
		copy(grown, dir)
		if grown[i] == nil {
			grown[i] = new(cacheChunk)
		}
		c.dir.Store(&grown)
		dir = grown
	}
	return &dir[i][num&(chunkSize-1)]
}

// loadCache fills the cache from the status table and sets the tail's start.
// The log position is read first: a change committed between the two reads
// is either in the table already or applied again by the tail, and applying
// twice is harmless (set keeps the newer version).
func (s *Service) loadCache(ctx context.Context) error {
	began := time.Now()
	var last int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM status_changes`).Scan(&last); err != nil {
		return fmt.Errorf("status: read change log position: %w", err)
	}
	err := db.Each(ctx, s.db, `SELECT person_num, color, version FROM status WHERE version > 0`, nil, func(sc db.Scanner) error {
		var num, color, version int64
		if err := sc.Scan(&num, &color, &version); err != nil {
			return err
		}
		s.cache.set(num, rules.Color(color), uint64(version))
		return nil
	})
	if err != nil {
		return fmt.Errorf("status: load cache: %w", err)
	}
	s.tailMu.Lock()
	s.tailSeq = last
	s.tailMu.Unlock()
	s.metrics.tailSeq.Set(float64(last))
	s.metrics.tailCurrent.Set(float64(began.UnixNano()) / 1e9)
	s.current.Store(began.UnixNano())
	return nil
}
