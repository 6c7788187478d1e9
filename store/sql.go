package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// maxStmts bounds the prepared statements kept: filters of distinct shapes
// make distinct SQL texts.
const maxStmts = 256

// query runs a read outside any transaction with a cached prepared
// statement (no gorm statement processing, no re-parsing: the SCIM read
// path is hot).
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.dialect.postgres {
		q = numbered(q)
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ctx = sqliteReadCtx(ctx)
	}
	if v, ok := s.stmts.Load(q); ok {
		return v.(*sql.Stmt).QueryContext(ctx, args...)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	if s.stmtCount.Load() >= maxStmts {
		return sqlDB.QueryContext(ctx, q, args...)
	}
	stmt, err := sqlDB.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if v, loaded := s.stmts.LoadOrStore(q, stmt); loaded {
		stmt.Close()
		stmt = v.(*sql.Stmt)
	} else {
		s.stmtCount.Add(1)
	}
	return stmt.QueryContext(ctx, args...)
}

// sqliteReadCtx is ctx without its cancellation, for SQLite reads. With a
// cancellable context (every HTTP request's), the driver runs each step of
// a statement (each row) in a goroutine of its own to be able to interrupt
// it, and database/sql starts one more per query to watch the context: six
// for one SCIM lookup, each a wait in the run queue behind the work of
// every other request, which is what the p99 of 16 concurrent clients was
// made of (issue 16). A WAL read never waits for a lock and these reads
// end in milliseconds, so there is nothing worth interrupting; a request
// cancelled before its read starts still stops (see query).
func sqliteReadCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// txQuery runs a read inside the write transaction tx.
func (s *Store) txQuery(ctx context.Context, tx *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	if s.dialect.postgres {
		q = numbered(q)
	}
	return tx.Statement.ConnPool.QueryContext(ctx, q, args...)
}

// eachIn runs head + " (?, ?, …)" + tail over keys in chunks, calling fn for
// every row.
func (s *Store) eachIn(ctx context.Context, tx *gorm.DB, head string, args []any, keys []string, tail string, fn func(scan func(...any) error) error) error {
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		all := append(append([]any{}, args...), toAny(part)...)
		rows, err := s.txQuery(ctx, tx, head+" ("+placeholders(len(part))+")"+tail, all...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows.Scan); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// insert writes rows with multi-row INSERT statements. The statement for a
// full chunk of rows is prepared once and run for every chunk: on SQLite a
// chunk of about 2,000 parameters costs a fraction of running a one-row
// statement per row (the per-statement work of database/sql and the cgo
// driver is paid once per chunk). suffix is appended to each statement
// (e.g. an ON CONFLICT clause).
func (s *Store) insert(ctx context.Context, tx *gorm.DB, table string, cols []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, min(200, 2000/len(cols)))
	if s.dialect.postgres {
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
				if full, err = tx.Statement.ConnPool.PrepareContext(ctx, s.insertSQL(table, cols, per, suffix)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.Statement.ConnPool.ExecContext(ctx, s.insertSQL(table, cols, len(part), suffix), args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// insertSQL is an INSERT of n rows into cols.
func (s *Store) insertSQL(table string, cols []string, n int, suffix string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	k := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteByte(',')
			}
			k++
			s.placeholder(&b, k)
		}
		b.WriteByte(')')
	}
	b.WriteString(suffix)
	return b.String()
}

func (s *Store) placeholder(b *strings.Builder, n int) {
	if s.dialect.postgres {
		fmt.Fprintf(b, "$%d", n)
		return
	}
	b.WriteByte('?')
}

// exec runs one statement on the transaction's connection, skipping gorm's
// statement processing (hot loops of the apply path).
func (s *Store) exec(ctx context.Context, tx *gorm.DB, query string, args ...any) (int64, error) {
	if s.dialect.postgres {
		query = numbered(query)
	}
	res, err := tx.Statement.ConnPool.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// numbered rewrites ? placeholders to $n for PostgreSQL.
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
