package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Pipe keeps several unflushed transactions of one statement in flight on
// a PostgreSQL connection of its own: Send puts the next transaction on
// the wire while the ones before it still run, Receive takes their results
// in the order they were sent. Each transaction is one execution of the
// pipe's prepared statement, ended by its own synchronisation point, so a
// failed one rolls back alone and the next runs. Their commits return once
// PostgreSQL has them in its WAL buffers, as ExecUnflushed's do.
//
// A group commit that waits for each transaction's answer before it sends
// the next leaves PostgreSQL idle for a round trip and the waking of the
// writer every transaction; with the next one already sent, PostgreSQL goes
// from one to the next (docs/PERFORMANCE.md, "The pipelined group commit").
// A Pipe is for one goroutine.
type Pipe struct {
	p    *pgconn.Pipeline
	sd   *pgconn.StatementDescription
	m    *pgtype.Map
	sent int
	vals [][]byte
	fmts []int16
}

// WithPipe runs f with a Pipe for query on a connection taken from the
// pool for as long as f runs. synchronous_commit is off for the
// connection's session while f runs and reset before the connection goes
// back; a connection that cannot be reset is discarded.
func (d *DB) WithPipe(ctx context.Context, query string, f func(*Pipe) error) error {
	if d.engine != Postgres {
		return ErrNotPostgres
	}
	return d.withPgx(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SET synchronous_commit = off"); err != nil {
			return fmt.Errorf("db: pipe: %w", err)
		}
		sd, err := c.Prepare(ctx, "", query)
		if err != nil {
			return errors.Join(fmt.Errorf("db: pipe: prepare: %w", err), reset(ctx, c.PgConn()))
		}
		pipe := &Pipe{p: c.PgConn().StartPipeline(context.Background()), sd: sd, m: c.TypeMap(),
			vals: make([][]byte, len(sd.ParamOIDs)), fmts: make([]int16, len(sd.ParamOIDs))}
		for i := range pipe.fmts {
			pipe.fmts[i] = pgtype.BinaryFormatCode
		}
		ferr := f(pipe)
		if err := pipe.p.Close(); err != nil && ferr == nil {
			ferr = fmt.Errorf("db: pipe: %w", err)
		}
		if c.IsClosed() {
			return errors.Join(ferr, driver.ErrBadConn)
		}
		return errors.Join(ferr, reset(ctx, c.PgConn()))
	})
}

// reset gives the session back its synchronous_commit; a connection that
// cannot is reported bad, so the pool drops it rather than hand an
// unflushed session to a caller that expects its commits flushed.
func reset(ctx context.Context, c *pgconn.PgConn) error {
	if err := c.Exec(ctx, "RESET synchronous_commit").Close(); err != nil {
		return errors.Join(fmt.Errorf("db: pipe: reset: %w", err), driver.ErrBadConn)
	}
	return nil
}

// Send puts one execution of the pipe's statement with args, a
// transaction of its own, on the wire.
func (p *Pipe) Send(args ...any) error {
	if len(args) != len(p.sd.ParamOIDs) {
		return fmt.Errorf("db: pipe: %d arguments for %d parameters", len(args), len(p.sd.ParamOIDs))
	}
	for i, a := range args {
		v, err := p.m.Encode(p.sd.ParamOIDs[i], pgtype.BinaryFormatCode, a, p.vals[i][:0])
		if err != nil {
			return fmt.Errorf("db: pipe: argument %d: %w", i+1, err)
		}
		p.vals[i] = v
	}
	p.p.SendQueryStatement(p.sd, p.vals, p.fmts, nil)
	if err := p.p.Sync(); err != nil {
		return fmt.Errorf("db: pipe: send: %w", err)
	}
	p.sent++
	return nil
}

// InFlight is how many transactions were sent and not yet received.
func (p *Pipe) InFlight() int { return p.sent }

// Receive waits for the oldest transaction in flight. A *pgconn.PgError
// (errors.As) means it rolled back and the pipe goes on; any other error
// means the connection is lost, with the fate of every transaction in
// flight unknown.
func (p *Pipe) Receive() error {
	if p.sent == 0 {
		return errors.New("db: pipe: nothing in flight")
	}
	p.sent--
	var stmtErr error
	res, err := p.p.GetResults()
	switch r := res.(type) {
	case *pgconn.ResultReader:
		_, err = r.Close()
	case nil:
	default:
		return fmt.Errorf("db: pipe: unexpected result %T", res)
	}
	var pgErr *pgconn.PgError
	if err != nil {
		if !errors.As(err, &pgErr) {
			return fmt.Errorf("db: pipe: %w", err)
		}
		stmtErr = err
	}
	res, err = p.p.GetResults()
	if err != nil {
		if errors.As(err, &pgErr) && stmtErr == nil {
			stmtErr = err
			res, err = p.p.GetResults()
		}
		if err != nil {
			return fmt.Errorf("db: pipe: %w", err)
		}
	}
	if _, ok := res.(*pgconn.PipelineSync); !ok {
		return fmt.Errorf("db: pipe: expected the end of a transaction, got %T", res)
	}
	if stmtErr != nil {
		return fmt.Errorf("db: pipe: %w", stmtErr)
	}
	return nil
}
