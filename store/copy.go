package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// copyMin is the fewest rows insert COPYs: for fewer, one multi-row INSERT
// costs the same round trip without COPY's own work.
const copyMin = 16

// copyQueue is how many COPYs may wait behind the one running: the
// applier builds the next batch's rows while the server loads the last.
const copyQueue = 2

// copyConn is the connection a PostgreSQL write transaction runs on
// (Store.write): gorm begins its transaction through it, and the
// transaction keeps hold of the connection to reach pgx under
// database/sql for COPY.
type copyConn struct{ *sql.Conn }

// BeginTx begins the transaction gorm runs its statements in
// (gorm.ConnPoolBeginner).
func (c copyConn) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &copyTx{Tx: tx, conn: c.Conn}, nil
}

// copyTx is a PostgreSQL write transaction whose bulk inserts go as COPY:
// a 100k-member first apply writes half a million rows, and COPY sends them
// as a stream the server loads without parsing, planning and executing an
// INSERT per chunk.
//
// A COPY runs behind the caller, on a goroutine of the transaction, so
// that the applier builds its next rows (and pgx encodes these) while the
// server loads them: copy returns once the rows are queued, and the
// caller must not change them after. Every other statement of the
// transaction, its commit and its rollback first wait for the queued
// COPYs, in order, so that each sees their rows; a COPY's error is
// returned by the next of them (and the commit fails with it).
type copyTx struct {
	*sql.Tx
	conn *sql.Conn

	jobs    chan copyJob // nil until the first COPY
	pending sync.WaitGroup
	mu      sync.Mutex
	err     error // the first COPY's error; later ones are not run
}

type copyJob struct {
	ctx   context.Context
	table string
	cols  []string
	rows  [][]any
}

// copy queues a COPY of rows into table's cols.
func (t *copyTx) copy(ctx context.Context, table string, cols []string, rows [][]any) error {
	if err := t.failed(); err != nil {
		return err
	}
	if t.jobs == nil {
		t.jobs = make(chan copyJob, copyQueue)
		go t.work(t.jobs)
	}
	t.pending.Add(1)
	t.jobs <- copyJob{ctx: ctx, table: table, cols: cols, rows: rows}
	return nil
}

func (t *copyTx) work(jobs <-chan copyJob) {
	for j := range jobs {
		if t.failed() == nil {
			if err := t.copyFrom(j.ctx, j.table, j.cols, j.rows); err != nil {
				t.mu.Lock()
				t.err = fmt.Errorf("insert into %s: %w", j.table, err)
				t.mu.Unlock()
			}
		}
		t.pending.Done()
	}
}

func (t *copyTx) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// flush waits for the queued COPYs and returns the first one's error.
func (t *copyTx) flush() error {
	if t.jobs == nil {
		return nil
	}
	t.pending.Wait()
	return t.failed()
}

// end flushes and stops the COPY goroutine.
func (t *copyTx) end() error {
	err := t.flush()
	if t.jobs != nil {
		close(t.jobs)
		t.jobs = nil
	}
	return err
}

// copyFrom copies rows into table's cols in the transaction: the
// transaction's connection, used directly through pgx, is in the
// transaction on the server.
func (t *copyTx) copyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	return t.conn.Raw(func(dc any) error {
		pc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("copy: the connection is not pgx's")
		}
		n, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		if err != nil {
			return err
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("copy: wrote %d rows of %d", n, len(rows))
		}
		return nil
	})
}

// The statements gorm and conn run in the transaction (gorm.ConnPool),
// each after the queued COPYs.

func (t *copyTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

func (t *copyTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

// QueryRowContext cannot return the COPY's error: a failed COPY has
// aborted the transaction on the server, so the query fails there, and
// the commit returns the COPY's error.
func (t *copyTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	_ = t.flush()
	return t.Tx.QueryRowContext(ctx, q, args...)
}

func (t *copyTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return t.Tx.PrepareContext(ctx, q)
}

// Commit commits once the queued COPYs are done; when one failed, it
// rolls back and returns that error.
func (t *copyTx) Commit() error {
	if err := t.end(); err != nil {
		_ = t.Tx.Rollback()
		return err
	}
	return t.Tx.Commit()
}

func (t *copyTx) Rollback() error {
	_ = t.end()
	return t.Tx.Rollback()
}
