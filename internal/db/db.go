// Package db opens the store (embedded SQLite or PostgreSQL), applies the
// migrations and runs transactions. Feature packages write their own SQL in
// the dialect both engines share: $N placeholders, BIGINT unix milliseconds
// for times, BYTEA for bytes, BOOLEAN, TEXT, ON CONFLICT, RETURNING.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names the database engine behind a DB.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what a store function that only reads needs: a *DB (reads go
// to the read pool, which on SQLite is read-only) or a Tx. A function that
// writes takes a Tx.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// EngineQuerier is a Querier that knows its engine, as *DB does, for the
// functions whose statements differ by engine (Page). Told the engine by
// an optional method instead, Page would have taken SQLite's path for a
// *sql.Tx on PostgreSQL without a word; the type makes it a compile error.
type EngineQuerier interface {
	Querier
	Engine() Engine
}

// DB is the store. On SQLite, writes go through a single connection (SQLite
// has one writer; letting many connections fight for the lock only adds
// SQLITE_BUSY retries) and reads through a pool that sees committed data (WAL).
// On PostgreSQL both are the same pool.
type DB struct {
	engine Engine
	w      *sql.DB
	r      *sql.DB
	dsn    string

	ckpt     *sql.DB       // SQLite: the background checkpointer's connection
	stopCkpt chan struct{} // closed by Close
	ckptDone chan struct{} // closed when the checkpointer has stopped
}

// Options are the PostgreSQL connection settings (SQLite has one writer
// and a fixed read pool; it ignores them).
type Options struct {
	// MaxConns bounds the node's connections (default 32). Every node
	// opens up to this many: nodes times MaxConns, plus the operators'
	// tools, must stay below the server's max_connections.
	MaxConns int
	// StatementTimeout, when positive, is the server's statement_timeout
	// on every connection: a statement running longer is cancelled and
	// fails (IsStatementTimeout). Zero leaves the server's or the role's
	// own setting. Migrations run without it.
	StatementTimeout time.Duration
}

// DefaultMaxConns is Options.MaxConns when it is zero.
const DefaultMaxConns = 32

// Open opens the database named by url: "sqlite:PATH" (or a plain path ending
// in .db) or "postgres://...". The SQLite file's directory is created if
// missing. Open does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with connection settings.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, o)
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasSuffix(dsn, ".db"):
		return openSQLite(ctx, dsn)
	}
	return nil, fmt.Errorf("db: unsupported database URL %q (want sqlite:PATH or postgres://...)", Redact(dsn))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("db: empty sqlite path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: create directory for %s: %w", path, err)
		}
	}
	// synchronous(NORMAL) in WAL mode survives a killed process (the WAL is in
	// the OS page cache); only a power loss can drop the last commits.
	base := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_pragma=cache_size(-65536)&_time_format=sqlite"
	// The writer leaves checkpoints to a goroutine of their own (below), so
	// that copying WAL pages into the database and syncing it does not
	// stall every commit queued behind the writer; it checkpoints itself
	// only if that goroutine falls 64 MiB behind.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint(16384)")
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(ON)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite reader: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	d := &DB{engine: SQLite, w: w, r: r, dsn: "sqlite:" + path}
	if err := w.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: ping sqlite %s: %w", path, err)
	}
	if d.ckpt, err = sql.Open("sqlite", base+"&_pragma=cache_size(-2048)"); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: open sqlite checkpointer: %w", err)
	}
	d.ckpt.SetMaxOpenConns(1)
	d.stopCkpt, d.ckptDone = make(chan struct{}), make(chan struct{})
	go d.checkpoints()
	return d, nil
}

// checkpointEvery is how often the background checkpointer copies what
// the WAL holds into the database file.
const checkpointEvery = 200 * time.Millisecond

// checkpoints runs PASSIVE checkpoints (which never wait for the writer or
// for readers) until Close. SQLite's default, a checkpoint every 1,000
// pages inside the commit that crosses the mark, made that commit and every
// one queued behind it wait for the copy and the sync of the database file.
func (d *DB) checkpoints() {
	defer close(d.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stopCkpt:
			return
		case <-t.C:
			// A failure is retried at the next tick; the writer's own
			// checkpoint at 64 MiB bounds the WAL meanwhile.
			d.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

func openPostgres(ctx context.Context, dsn string, o Options) (*DB, error) {
	if o.MaxConns < 0 || o.StatementTimeout < 0 {
		return nil, fmt.Errorf("db: negative pool size (%d) or statement timeout (%s)", o.MaxConns, o.StatementTimeout)
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: postgres URL %s: %w", Redact(dsn), err)
	}
	if _, set := cfg.RuntimeParams["jit"]; !set {
		// PostgreSQL compiles a statement whose estimated cost passes
		// jit_above_cost, again at every execution. An operator's
		// province-wide counts pass it from a million residents, and the
		// compiling cost them more than it saved: a quarter of the
		// untested-residents page at 1M (docs/PERFORMANCE.md, "Compiled
		// statements"). A URL with jit=on turns it back on.
		cfg.RuntimeParams["jit"] = "off"
	}
	if o.StatementTimeout > 0 {
		// Sent at connection start, so it holds for every statement on
		// every connection of the pool without a SET per checkout.
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(o.StatementTimeout.Milliseconds(), 1), 10)
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(o.MaxConns)
	p.SetMaxIdleConns(o.MaxConns)
	p.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{engine: Postgres, w: p, r: p, dsn: dsn}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db: connect to %s: %w", Redact(dsn), err)
	}
	return d, nil
}

// Redact hides the password in a database URL so it can be logged.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Engine reports which engine this is.
func (d *DB) Engine() Engine { return d.engine }

// SQLitePath is the file of a SQLite store, "" on PostgreSQL.
func (d *DB) SQLitePath() string {
	if d.engine != SQLite {
		return ""
	}
	return strings.TrimPrefix(d.dsn, "sqlite:")
}

// String is the redacted URL.
func (d *DB) String() string { return Redact(d.dsn) }

// Close closes both pools.
func (d *DB) Close() error {
	if d.stopCkpt != nil {
		close(d.stopCkpt)
		<-d.ckptDone
		d.ckpt.Close()
		d.stopCkpt = nil
	}
	err := d.w.Close()
	if d.r != d.w {
		err = errors.Join(err, d.r.Close())
	}
	return err
}

// ExecContext runs a statement on the writer.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.w.ExecContext(ctx, query, args...)
}

// QueryContext reads committed data.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.r.QueryContext(ctx, query, args...)
}

// PrepareContext prepares a statement that reads committed data.
func (d *DB) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.r.PrepareContext(ctx, query)
}

// QueryRowContext reads one row of committed data.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.r.QueryRowContext(ctx, query, args...)
}

// Writer is the pool that writes, for the rare caller that must read its
// own uncommitted writes outside InTx (none should need it).
func (d *DB) Writer() *sql.DB { return d.w }

// InTx runs fn in a write transaction and commits it if fn returns nil.
func (d *DB) InTx(ctx context.Context, fn func(tx Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("db: rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique or primary-key constraint
// failure on either engine, so callers can turn a race into a 409.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// IsLockTimeout reports whether err is PostgreSQL giving up a lock wait
// longer than lock_timeout (or one asked with NOWAIT).
func IsLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// IsDeadlock reports whether err is PostgreSQL aborting this transaction to
// break a deadlock.
func IsDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// IsStatementTimeout reports whether err is PostgreSQL cancelling a
// statement that ran longer than Options.StatementTimeout.
func IsStatementTimeout(err error) bool {
	var pe *pgconn.PgError
	// 57014 (query_canceled) is also a cancel asked by the client; the
	// message tells the timeout apart.
	return errors.As(err, &pe) && pe.Code == "57014" && strings.Contains(pe.Message, "statement timeout")
}

// Ping checks that the store answers a query within ctx.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// MaxConns is the size of the pool that writes.
func (d *DB) MaxConns() int { return d.w.Stats().MaxOpenConnections }

// NextVal advances the named counter by n and returns its new value; the
// numbers last-n+1 .. last are the caller's. The counter row is locked until
// the transaction ends, so numbers become visible in the order they were taken
// (which is what lets other nodes tail a log by sequence without gaps).
func NextVal(ctx context.Context, tx Tx, name string, n int64) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO counters (name, value) VALUES ($1, $2)
		 ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value
		 RETURNING value`, name, n).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("db: next value of %s: %w", name, err)
	}
	return v, nil
}

// LockCounter reads the named counter in tx (a new one at 0), holding its
// row until tx ends, so that the transactions that move a bound (the folds
// of kept counts) go one at a time. SQLite's single writer already does.
func LockCounter(ctx context.Context, tx Tx, e Engine, name string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, name); err != nil {
		return 0, fmt.Errorf("db: counter %s: %w", name, err)
	}
	lock := ``
	if e == Postgres {
		lock = ` FOR UPDATE`
	}
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = $1`+lock, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: counter %s: %w", name, err)
	}
	return v, nil
}

// LockRows takes in tx the locks of the rows query selects (a SELECT ...
// ORDER BY key FOR UPDATE), in its order, on PostgreSQL: a transaction
// whose statements would find those rows through another index, and so
// take them in another order than the transactions beside it, takes them
// first in the order all of them use (docs/CONVENTIONS.md). SQLite's single
// writer takes no row locks; there it does nothing.
func LockRows(ctx context.Context, tx Tx, e Engine, query string, args ...any) error {
	if e != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("db: lock rows: %w", err)
	}
	return nil
}

// Millis converts a time to the stored form; the zero time is stored as 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time converts a stored time back; 0 is the zero time.
func Time(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// NullMillis stores an optional time as NULL when zero.
func NullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// NullTime reads an optional time.
func NullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// Tx is a write transaction.
type Tx = *sql.Tx
