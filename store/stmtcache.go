package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// maxTxStmts bounds the statements one SQLite write transaction keeps
// prepared.
const maxTxStmts = 32

// stmtConn is the connection a SQLite write transaction runs on
// (Store.write): gorm begins its transaction through it.
type stmtConn struct{ *sql.Conn }

// BeginTx begins the transaction gorm runs its statements in
// (gorm.ConnPoolBeginner).
func (c stmtConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtTx{Tx: tx, stmts: map[string]*sql.Stmt{}}, nil
}

// stmtTx is a SQLite write transaction that prepares each statement it
// executes once and runs it again from there: the cgo driver otherwise
// parses and plans the text at every call, which is about half of what
// an apply's thousand one-row UPDATEs cost. Only statements that return
// no rows are kept: a kept query could be run again while the rows of an
// earlier run are still read. The statements close with the transaction
// (database/sql closes those a transaction prepared).
type stmtTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *stmtTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st := t.stmts[q]
	if st == nil {
		if len(t.stmts) >= maxTxStmts {
			return t.Tx.ExecContext(ctx, q, args...)
		}
		var err error
		if st, err = t.Tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		t.stmts[q] = st
	}
	return st.ExecContext(ctx, args...)
}
