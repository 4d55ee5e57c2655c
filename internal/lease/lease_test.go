package lease

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/db/dbtest"
)

func TestTryTake(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clock := time.UnixMilli(1_700_000_000_000)
		a, b := New(d, Config{Node: "a", TTL: 10 * time.Second}), New(d, Config{Node: "b", TTL: 10 * time.Second})
		a.now = func() time.Time { return clock }
		b.now = a.now
		for _, step := range []struct {
			name    string
			advance time.Duration
			k       *Keeper
			want    bool
		}{
			{"a takes a free lease", 0, a, true},
			{"b cannot take it", 0, b, false},
			{"a renews it", 5 * time.Second, a, true},
			{"b cannot take it before it expires", 9 * time.Second, b, false},
			{"b takes it once expired", 2 * time.Second, b, true},
			{"a cannot take it back", 0, a, false},
		} {
			clock = clock.Add(step.advance)
			got, err := step.k.TryTake(ctx, "job")
			if err != nil || got != step.want {
				t.Fatalf("%s: held %v, %v; want %v", step.name, got, err, step.want)
			}
		}
		if h, _, err := a.Holder(ctx, "job"); err != nil || h != "b" {
			t.Fatalf("holder %q, %v; want b", h, err)
		}
		if err := a.Release(ctx, "job"); err != nil {
			t.Fatal(err)
		}
		if h, _, _ := a.Holder(ctx, "job"); h != "b" {
			t.Fatalf("a released b's lease: holder %q", h)
		}
		if err := b.Release(ctx, "job"); err != nil {
			t.Fatal(err)
		}
		if got, err := a.TryTake(ctx, "job"); err != nil || !got {
			t.Fatalf("a cannot take a released lease: %v, %v", got, err)
		}
	})
}

// TestHoldMovesWhenTheHolderDies runs the same work on two nodes: only one
// works at a time, and when the holder dies (stops without releasing), the
// other takes over within the lease's lifetime.
func TestHoldMovesWhenTheHolderDies(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: waits for a lease to expire")
	}
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		const ttl = time.Second
		var working sync.Map // node -> *atomic.Bool
		var overlap atomic.Bool
		var active atomic.Int32
		work := func(node string) func(context.Context) {
			return func(ctx context.Context) {
				if active.Add(1) > 1 {
					overlap.Store(true)
				}
				v, _ := working.LoadOrStore(node, new(atomic.Bool))
				v.(*atomic.Bool).Store(true)
				<-ctx.Done()
				active.Add(-1)
			}
		}
		isWorking := func(node string) bool {
			v, ok := working.Load(node)
			return ok && v.(*atomic.Bool).Load()
		}
		a, b := New(d, Config{Node: "a", TTL: ttl}), New(d, Config{Node: "b", TTL: ttl})
		actx, killA := context.WithCancel(context.Background())
		bctx, stopB := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		defer func() { killA(); stopB(); wg.Wait() }()
		go func() { defer wg.Done(); a.Hold(actx, "job", work("a")) }()
		waitFor(t, 5*time.Second, func() bool { return a.Held("job") })
		go func() { defer wg.Done(); b.Hold(bctx, "job", work("b")) }()
		time.Sleep(ttl) // b tries several times meanwhile
		if b.Held("job") || isWorking("b") {
			t.Fatal("b took a lease a renews")
		}
		a.mu.Lock()
		a.abandon = true // a dies: its row stays until it expires
		a.mu.Unlock()
		died := time.Now()
		killA()
		waitFor(t, 5*time.Second, func() bool { return b.Held("job") })
		if took := time.Since(died); took > ttl+ttl/10+500*time.Millisecond {
			t.Errorf("b took over %v after a died; want within the lease's %v (plus one try)", took, ttl)
		}
		if overlap.Load() {
			t.Error("a and b worked under the same lease at once")
		}
		stopB()
		wg.Wait()
		if h, _, _ := b.Holder(context.Background(), "job"); h != "" {
			t.Errorf("b stopped cleanly but %q still holds the lease", h)
		}
	})
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within %v", limit)
}
