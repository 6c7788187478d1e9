package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// The store's one SQL path.
//
// gorm owns the connections and the transactions: the pool is the one gorm
// opened, and a transaction is one gorm began (Store.write, Store.readTx).
// Every statement of the store runs through a conn of this file, written
// with ? placeholders that conn.text translates once for the dialect.
// Statements go to gorm's connection (its ConnPool) directly, without
// gorm's per-statement processing: the apply and SCIM paths are hot.

// maxStmts bounds the prepared statements kept: filters of distinct shapes
// make distinct SQL texts.
const maxStmts = 256

// chunk is how many keys one IN (...) lookup carries.
const chunk = 500

// conn is where statements run: the store's pool or one transaction, and
// the context they run under.
type conn struct {
	ctx  context.Context
	pool gorm.ConnPool
	pg   bool
	// caller, when set, is the caller's context that ctx carries without
	// its cancellation: a statement does not start once it is done.
	caller context.Context
}

// pool is a conn for reads outside any transaction. Its statements are
// prepared once and kept (gorm's bounded prepared-statement store): the
// SCIM receiver's reads are hot. On SQLite they run without the caller's
// cancellation (sqliteReadCtx); a caller cancelled before a read starts
// still stops it.
func (s *Store) pool(ctx context.Context) conn {
	c := conn{ctx: ctx, pool: s.prepared, pg: s.dialect.postgres}
	if !c.pg {
		c.ctx, c.caller = sqliteReadCtx(ctx), ctx
	}
	return c
}

// sqliteReadCtx is ctx without its cancellation, for SQLite reads. With a
// cancellable context (every HTTP request's), the driver runs each step of
// a statement (each row) in a goroutine of its own to be able to interrupt
// it, and database/sql starts one more per query to watch the context: six
// for one SCIM lookup, each a wait in the run queue behind the work of
// every other request, which is what the p99 of 16 concurrent clients was
// made of (issue 16). A WAL read never waits for a lock and these reads
// end in milliseconds, so there is nothing worth interrupting; a request
// cancelled before its read starts still stops (conn.caller).
func sqliteReadCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// started reports the caller's cancellation before a statement starts.
func (c conn) started() error {
	if c.caller != nil {
		return c.caller.Err()
	}
	return nil
}

// on is a conn for statements in tx, a transaction gorm began (or the one
// connection of a read transaction on SQLite).
func (s *Store) on(ctx context.Context, tx *gorm.DB) conn { return s.dialect.on(ctx, tx) }

// on is a conn for statements in tx (or on the pool db) before there is a
// Store: opening and migrating it.
func (d dialect) on(ctx context.Context, tx *gorm.DB) conn {
	return conn{ctx: ctx, pool: tx.Statement.ConnPool, pg: d.postgres}
}

// in is a conn for statements in tx under the transaction's own context
// (on SQLite a write transaction's, which is not cancelled: see quiet).
func (s *Store) in(tx *gorm.DB) conn { return s.on(tx.Statement.Context, tx) }

// text is q for the dialect: PostgreSQL numbers its placeholders ($1, $2,
// …), SQLite takes q's ? as they are.
func (c conn) text(q string) string {
	if !c.pg {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// query runs a statement that returns rows.
func (c conn) query(q string, args ...any) (*sql.Rows, error) {
	if err := c.started(); err != nil {
		return nil, err
	}
	return c.pool.QueryContext(c.ctx, c.text(q), args...)
}

// each runs q and calls fn for every row it returns.
func (c conn) each(q string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := c.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// row scans the first row q returns into dest, and says whether there was
// one (dest is left as it was when not).
func (c conn) row(q string, args []any, dest ...any) (bool, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	return true, rows.Close()
}

// exec runs a statement and returns how many rows it changed.
func (c conn) exec(q string, args ...any) (int64, error) {
	if err := c.started(); err != nil {
		return 0, err
	}
	res, err := c.pool.ExecContext(c.ctx, c.text(q), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// eachIn runs head + " (?, ?, …)" + tail over keys in chunks, calling fn for
// every row.
func (c conn) eachIn(head string, args []any, keys []string, tail string, fn func(scan func(...any) error) error) error {
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		all := append(append([]any{}, args...), toAny(part)...)
		if err := c.each(head+" ("+placeholders(len(part))+")"+tail, all, fn); err != nil {
			return err
		}
	}
	return nil
}

// insert writes rows with multi-row INSERT statements, or on PostgreSQL
// in a write transaction with COPY (see copyTx). The statement for a
// full chunk of rows is prepared once and run for every chunk: on SQLite a
// chunk of about 2,000 parameters costs a fraction of running a one-row
// statement per row (the per-statement work of database/sql and the cgo
// driver is paid once per chunk). suffix is appended to each statement
// (e.g. an ON CONFLICT clause); COPY has none, so rows with a suffix are
// always INSERTed.
func (c conn) insert(table string, cols []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	if t, ok := c.pool.(*copyTx); ok && suffix == "" && len(rows) >= copyMin {
		if err := c.started(); err != nil {
			return err
		}
		return t.copy(c.ctx, table, cols, rows)
	}
	per := max(1, min(200, 2000/len(cols)))
	if c.pg {
		per = max(1, min(1000, 30000/len(cols)))
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, min(per, len(rows))*len(cols))
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for _, r := range part {
			args = append(args, r...)
		}
		var err error
		if len(part) == per && len(rows) > per {
			if full == nil {
				if full, err = c.pool.PrepareContext(c.ctx, c.text(insertSQL(table, cols, per, suffix))); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(c.ctx, args...)
		} else {
			_, err = c.exec(insertSQL(table, cols, len(part), suffix), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// insertSQL is an INSERT of n rows into cols.
func insertSQL(table string, cols []string, n int, suffix string) string {
	row := "(" + placeholders(len(cols)) + ")"
	var b strings.Builder
	b.Grow(len(table) + 32 + n*(len(row)+1) + len(suffix))
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(suffix)
	return b.String()
}

// placeholders is n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
