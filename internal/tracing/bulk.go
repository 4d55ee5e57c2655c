package tracing

import (
	"context"
	"database/sql"

	"github.com/healthcode/healthcode/internal/db"
)

// bulk writes rows through a prepared multi-row INSERT inside a
// transaction: a report of a hundred thousand companions is a few hundred
// statement executions, each parsed once.
type bulk struct {
	ctx        context.Context
	tx         db.Tx
	e          db.Engine
	head, tail string
	cols, rows int
	stmt       *sql.Stmt
	args       []any
	affected   int64
}

func newBulk(ctx context.Context, tx db.Tx, e db.Engine, head, tail string, cols, rows int) *bulk {
	return &bulk{ctx: ctx, tx: tx, e: e, head: head, tail: tail, cols: cols, rows: rows, args: make([]any, 0, cols*rows)}
}

func (b *bulk) statement(n int) string {
	return b.e.Positional(b.head + db.Rows(0, n, b.cols) + b.tail)
}

// add buffers one row, writing the buffer when it is full.
func (b *bulk) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.cols*b.rows {
		return nil
	}
	if b.stmt == nil {
		st, err := b.tx.PrepareContext(b.ctx, b.statement(b.rows))
		if err != nil {
			return err
		}
		b.stmt = st
	}
	res, err := b.stmt.ExecContext(b.ctx, b.args...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	b.affected += n
	b.args = b.args[:0]
	return nil
}

// flush writes what is buffered.
func (b *bulk) flush() error {
	if len(b.args) == 0 {
		return nil
	}
	res, err := b.tx.ExecContext(b.ctx, b.statement(len(b.args)/b.cols), b.args...)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	b.affected += n
	b.args = b.args[:0]
	return nil
}

func (b *bulk) close() {
	if b.stmt != nil {
		b.stmt.Close()
	}
}
