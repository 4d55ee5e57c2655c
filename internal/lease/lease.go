// Package lease lets background work that must run on one node at a time
// (the scheduler, retention purges, colour-change notices, signing the
// audit head) run on exactly one of the nodes that share a database, and
// move to another node when its holder dies.
//
// A lease is a row of the leases table: the work's name, the node that
// holds it and when it expires. The holder renews it every TTL/3; a node
// that does not hold it tries to take it every TTL/10, and succeeds once it
// has expired. A holder that cannot renew stops its work at once, so two
// nodes never work under the same lease for longer than the clock skew
// between them (which must stay far below the TTL).
package lease

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/healthcode/healthcode/internal/db"
)

// DefaultTTL is how long a lease lasts without renewal: how long the work of
// a node that died waits before another node takes it.
const DefaultTTL = 15 * time.Second

// Config is how a node takes leases.
type Config struct {
	// Node names this process in the leases table (default: random). Two
	// processes must never share a name.
	Node string
	// TTL is a lease's lifetime without renewal (default DefaultTTL).
	TTL     time.Duration
	Log     *slog.Logger
	Metrics prometheus.Registerer
}

// Keeper takes, renews and releases the leases of one node.
type Keeper struct {
	db      *db.DB
	node    string
	ttl     time.Duration
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time

	mu   sync.Mutex
	held map[string]bool
	// abandon makes Hold leave its lease in the table when ctx ends, as a
	// node that dies does (tests of the takeover).
	abandon bool
}

// New makes the keeper of a node's leases.
func New(d *db.DB, cfg Config) *Keeper {
	if cfg.Node == "" {
		var b [6]byte
		rand.Read(b[:])
		cfg.Node = hex.EncodeToString(b[:])
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Keeper{db: d, node: cfg.Node, ttl: cfg.TTL, log: cfg.Log, metrics: newMetrics(cfg.Metrics),
		now: time.Now, held: map[string]bool{}}
}

// Node is the name this keeper holds leases under.
func (k *Keeper) Node() string { return k.node }

// TTL is a lease's lifetime without renewal.
func (k *Keeper) TTL() time.Duration { return k.ttl }

// Held reports whether this node holds the lease name now.
func (k *Keeper) Held(name string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.held[name]
}

// Holder is the node that holds the lease name and until when ("" if no
// node holds it).
func (k *Keeper) Holder(ctx context.Context, name string) (string, time.Time, error) {
	var holder string
	var until int64
	err := k.db.QueryRowContext(ctx, `SELECT holder, expires_at FROM leases WHERE name = $1`, name).Scan(&holder, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("lease: read %s: %w", name, err)
	}
	if until < k.now().UnixMilli() {
		return "", time.Time{}, nil
	}
	return holder, db.Time(until), nil
}

// TryTake takes the lease name if it is free, expired or already this
// node's (then it is renewed), and reports whether this node holds it.
func (k *Keeper) TryTake(ctx context.Context, name string) (bool, error) {
	now := k.now().UnixMilli()
	var holder string
	// Through a transaction: on SQLite, the writer (QueryRowContext reads).
	err := k.db.InTx(ctx, func(tx db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO leases (name, holder, expires_at, taken_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
			taken_at = CASE WHEN leases.holder = excluded.holder THEN leases.taken_at ELSE excluded.taken_at END
		WHERE leases.holder = excluded.holder OR leases.expires_at < excluded.taken_at
		RETURNING holder`, name, k.node, now+k.ttl.Milliseconds(), now).Scan(&holder)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease: take %s: %w", name, err)
	}
	return holder == k.node, nil
}

// Release gives the lease name up if this node holds it, so that another
// node takes it at its next try rather than after the TTL.
func (k *Keeper) Release(ctx context.Context, name string) error {
	if _, err := k.db.ExecContext(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, k.node); err != nil {
		return fmt.Errorf("lease: release %s: %w", name, err)
	}
	return nil
}

// Hold runs work while this node holds the lease name, until ctx ends: it
// tries to take the lease every TTL/10, runs work once it has, renews the
// lease every TTL/3 meanwhile, and cancels work's context as soon as a
// renewal fails (the lease may have passed to another node); then it tries
// again. When ctx ends, work is cancelled and waited for, and the lease
// released.
func (k *Keeper) Hold(ctx context.Context, name string, work func(context.Context)) {
	k.metrics.held.WithLabelValues(name).Set(0)
	try := time.NewTicker(k.ttl / 10)
	defer try.Stop()
	for ctx.Err() == nil {
		held, err := k.TryTake(ctx, name)
		if err != nil && ctx.Err() == nil {
			k.log.Warn("lease: cannot take", "lease", name, "err", err)
		}
		if held {
			k.run(ctx, name, work)
		}
		select {
		case <-ctx.Done():
		case <-try.C:
		}
	}
	k.mu.Lock()
	abandon := k.abandon
	k.mu.Unlock()
	if abandon {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := k.Release(rctx, name); err != nil {
		k.log.Warn("lease: not released at stop (it expires on its own)", "lease", name, "err", err)
	}
}

// run runs work under a lease just taken until ctx ends or a renewal fails.
func (k *Keeper) run(ctx context.Context, name string, work func(context.Context)) {
	k.setHeld(name, true)
	k.metrics.acquired.WithLabelValues(name).Inc()
	k.log.Info("lease taken", "lease", name, "node", k.node)
	defer k.setHeld(name, false)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(wctx)
	}()
	renew := time.NewTicker(k.ttl / 3)
	defer renew.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			<-done
			return
		case <-renew.C:
		}
		held, err := k.TryTake(ctx, name)
		if held && err == nil {
			continue
		}
		if ctx.Err() == nil {
			k.log.Warn("lease lost: stopping its work", "lease", name, "node", k.node, "err", err)
		}
		cancel()
		<-done
		return
	}
}

func (k *Keeper) setHeld(name string, held bool) {
	k.mu.Lock()
	k.held[name] = held
	k.mu.Unlock()
	v := 0.0
	if held {
		v = 1
	}
	k.metrics.held.WithLabelValues(name).Set(v)
}
