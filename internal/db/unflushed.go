package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Stmt is one statement of ExecUnflushed.
type Stmt struct {
	Query string
	Args  []any
}

// ErrNotPostgres is ExecUnflushed on SQLite, which has no such commit.
var ErrNotPostgres = errors.New("db: a commit without the flush is PostgreSQL's")

// ExecUnflushed runs stmts in one PostgreSQL transaction whose commit
// returns once the server has it in its WAL buffers, without waiting for
// the flush (synchronous_commit off for that transaction only), and sends
// the whole transaction in one round trip. A commit it answered survives a
// crash of this process; a crash of PostgreSQL or of its machine may lose
// the transactions of the last three wal_writer_delay (600 ms by default).
// For writes whose callers accept that: the group commit of check-ins and
// verification events (docs/OPERATIONS.md).
func (d *DB) ExecUnflushed(ctx context.Context, stmts []Stmt) error {
	if d.engine != Postgres {
		return ErrNotPostgres
	}
	return d.withPgx(ctx, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue("SET LOCAL synchronous_commit = off")
		for _, s := range stmts {
			b.Queue(s.Query, s.Args...)
		}
		b.Queue("COMMIT")
		err := c.SendBatch(ctx, b).Close()
		if err == nil && c.PgConn().TxStatus() == 'I' {
			return nil
		}
		if err == nil {
			err = errors.New("db: the transaction did not commit")
		}
		// After an error PostgreSQL skipped the rest, COMMIT included: the
		// transaction is open and failed. A connection left so is
		// discarded by the pool when it is next taken.
		if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			if _, rerr := c.Exec(ctx, "ROLLBACK"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("db: rollback: %w", rerr))
			}
		}
		return err
	})
}

// withPgx runs f on a connection of the writer's pool as pgx's own, for
// what database/sql cannot say (a batch in one round trip, a pipeline).
// An error f joins with driver.ErrBadConn makes the pool drop the
// connection.
func (d *DB) withPgx(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("db: PostgreSQL connection of an unexpected kind %T", dc)
		}
		return f(sc.Conn())
	})
}
