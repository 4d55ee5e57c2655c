package status

import (
	"context"
	"database/sql"

	"github.com/healthcode/healthcode/internal/db"
)

// maxStmts bounds the writer's cached statements: a bulk Record uses a
// handful (the full multi-row inserts of facts, packs, status rows, the
// change log and notifications, the full IN lists of its reads).
const maxStmts = 16

// stmtTx is a transaction of the writer whose statements are prepared
// once per connection rather than once per transaction, on SQLite: the
// driver keeps no statement cache, and a bulk Record's chunks each parsed
// the same thousand-row inserts and IN lists again (6% of publishing a risk
// area over a city). A statement is prepared in the transaction the first
// time, as before; writeBulk prepares it on the writer's pool between
// chunks (prepareWanted), and later transactions take that one.
type stmtTx struct {
	db.Tx
	s *Service
}

// PrepareContext is the cached statement bound to the transaction, or one
// prepared in it.
func (t stmtTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	s := t.s
	s.stmtMu.Lock()
	p := s.stmts[query]
	if p == nil && len(s.stmts)+len(s.wanted) < maxStmts {
		if s.wanted == nil {
			s.wanted = map[string]bool{}
		}
		s.wanted[query] = true
	}
	s.stmtMu.Unlock()
	if p != nil {
		return t.Tx.StmtContext(ctx, p), nil
	}
	return t.Tx.PrepareContext(ctx, query)
}

// prepareWanted prepares on the writer's pool the statements transactions
// asked for since the last call. It runs between transactions: the
// SQLite writer has a single connection, which a transaction holds. A
// statement that fails to prepare is prepared in each transaction again.
func (s *Service) prepareWanted(ctx context.Context) {
	if s.db.Engine() != db.SQLite {
		return
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	for q := range s.wanted {
		delete(s.wanted, q)
		p, err := s.db.Writer().PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[q] = p
	}
}
