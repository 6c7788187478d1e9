package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// write runs fn in a write transaction. Writers are serialised so that
// event sequence numbers commit in order.
//
// On PostgreSQL the transaction runs on a connection of its own, so that
// its bulk inserts can go as COPY (copyTx).
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if !s.dialect.postgres {
		if err := s.lockWriter(ctx); err != nil {
			return err
		}
		defer func() { <-s.wlock }()
	}
	run := func(db *gorm.DB) error {
		return db.Transaction(func(tx *gorm.DB) error {
			if s.dialect.postgres {
				if _, err := s.in(tx).exec(`SELECT pg_advisory_xact_lock(?)`, writeLockKey); err != nil {
					return err
				}
			}
			if err := fn(tx); err != nil {
				return err
			}
			return ctx.Err() // cancelled while writing: roll back
		})
	}
	db := s.db.WithContext(s.quiet(ctx))
	var err error
	if s.dialect.postgres {
		err = db.Connection(func(one *gorm.DB) error {
			c, ok := one.Statement.ConnPool.(*sql.Conn)
			if !ok {
				return fmt.Errorf("store: write: gorm gave a %T, not a connection", one.Statement.ConnPool)
			}
			one.Statement.ConnPool = copyConn{c}
			return run(one)
		})
	} else {
		err = run(db)
	}
	if err == nil {
		s.wrote()
	}
	return translate(err)
}

// lockWriter takes the in-process write lock of SQLite, waiting at most
// the busy timeout.
func (s *Store) lockWriter(ctx context.Context) error {
	select {
	case s.wlock <- struct{}{}:
		return nil
	default:
	}
	wait := time.NewTimer(s.busyTimeout)
	defer wait.Stop()
	select {
	case s.wlock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return fmt.Errorf("store: another write held the database for more than %s: %w", s.busyTimeout, orgsync.ErrUnavailable)
	}
}

// quiet is ctx for the statements of a transaction on SQLite. The cgo
// driver watches a cancellable context with a new goroutine for every row
// it steps, which costs more than a row; so statements run without
// cancellation and callers check ctx between chunks and before commit.
func (s *Store) quiet(ctx context.Context) context.Context {
	if s.dialect.postgres {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// readTx runs fn in a read-only transaction: one consistent view of the
// database that never waits for a writer. On PostgreSQL that is a READ ONLY
// transaction. On SQLite every transaction database/sql begins takes the
// write lock (BEGIN IMMEDIATE, see sqliteDSN), so the read begins its own
// deferred transaction on one connection: in WAL mode it reads a snapshot
// while writers go on.
func (s *Store) readTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if s.dialect.postgres {
		return s.db.WithContext(ctx).Transaction(fn, &sql.TxOptions{ReadOnly: true})
	}
	return s.db.WithContext(ctx).Connection(func(one *gorm.DB) error {
		if _, err := s.on(ctx, one).exec(`BEGIN DEFERRED`); err != nil {
			return translate(err)
		}
		// Ended whatever happens, cancelled or not: the connection goes
		// back to the pool.
		defer s.on(context.WithoutCancel(ctx), one).exec(`ROLLBACK`)
		return fn(one)
	})
}

// translate maps driver errors to domain kinds. SQLite's "database is
// locked" (the busy timeout ran out waiting for another connection's
// lock) is ErrUnavailable: a retry later may succeed.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if sqliteBusy(err) {
		return fmt.Errorf("store: the database is locked by another writer: %w: %v", orgsync.ErrUnavailable, err)
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
		return fmt.Errorf("%w: %v", orgsync.ErrConflict, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %v", orgsync.ErrConflict, err)
	}
	return err
}

// foreignKeyViolation reports whether err is a row referring to one that
// is not there (SQLite's and PostgreSQL's own words for it).
func foreignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY")
}

// newID returns a new random identifier.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// lockKey maps a name to an advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("orgsync/" + name))
	return int64(h.Sum64() >> 1)
}
