package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/orgsync/orgsync"
)

// Advisory lock keys on PostgreSQL.
const (
	writeLockKey   int64 = 0x6f726773796e6301 // "orgsync" + 1: serialises writes
	migrateLockKey int64 = 0x6f726773796e6302
)

// Store is the org-membership database.
type Store struct {
	db      *gorm.DB
	dialect dialect
	log     zerolog.Logger
	// Now returns the current time; tests replace it.
	Now func() time.Time

	// wlock serialises SQLite writers in this process (a one-slot
	// semaphore rather than a mutex, so that waiting for it is bounded by
	// busyTimeout like waiting for another process's lock).
	wlock chan struct{}
	// busyTimeout is how long a writer waits for the write lock before
	// its write fails with orgsync.ErrUnavailable.
	busyTimeout time.Duration

	// uses records token use off the request path (tokenuse.go).
	uses *tokenUses

	// stmts caches prepared statements of the hot SCIM reads (scim.go):
	// SQL text → *sql.Stmt.
	stmts     sync.Map
	stmtCount atomic.Int64

	// SQLite's WAL is copied into the database file by a background
	// checkpointer (sqlite.go), kicked after writes.
	ckptKick chan struct{}
	ckptStop chan struct{}
	ckptDone chan struct{}
	closing  sync.Once
}

// Upgrade says what Open may do to a database whose schema is older than
// this build's.
type Upgrade int

const (
	// UpgradeAlways creates or upgrades the schema (serve, migrate, and
	// the commands that write).
	UpgradeAlways Upgrade = iota
	// UpgradeNew creates the schema of a new, empty database but refuses
	// to upgrade an existing one: a read-only command of a newer build
	// must not change the schema under an older daemon.
	UpgradeNew
	// UpgradeNever refuses any database whose schema is not this build's
	// (serve --no-migrate).
	UpgradeNever
)

// Open connects to the database cfg names, upgrades its schema, and
// returns the Store. cfg must have been validated.
func Open(ctx context.Context, cfg Config, log zerolog.Logger) (*Store, error) {
	return openAt(ctx, cfg, log, SchemaVersion(), UpgradeAlways)
}

// OpenWith is Open with a say in schema upgrades: a schema it may not
// upgrade is ErrPrecondition, naming `orgsync migrate`.
func OpenWith(ctx context.Context, cfg Config, log zerolog.Logger, up Upgrade) (*Store, error) {
	return openAt(ctx, cfg, log, SchemaVersion(), up)
}

func openAt(ctx context.Context, cfg Config, log zerolog.Logger, version int, up Upgrade) (*Store, error) {
	dsn, err := cfg.dsn()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Default.LogMode(logger.Silent),
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		db *gorm.DB
		d  dialect
	)
	switch cfg.Driver {
	case DriverSQLite:
		if err := checkSQLitePath(dsn); err != nil {
			return nil, err
		}
		db, err = openSQLiteRetrying(ctx, dsn, gcfg, cfg.busyTimeout())
	case DriverPostgres:
		d.postgres = true
		db, err = gorm.Open(postgres.Open(dsn), gcfg)
	default:
		return nil, fmt.Errorf("database.driver: unknown driver %q", cfg.Driver)
	}
	if err != nil {
		return nil, openError(cfg, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, openError(cfg, err)
	}
	if d.postgres {
		sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
		sqlDB.SetMaxIdleConns(cfg.MaxOpenConns)
	} else {
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, openError(cfg, err)
	}
	if d.postgres {
		// A server built without ICU has no such collation: filters then
		// lower-case with the database's locale (see dialect.lower).
		if err := db.WithContext(pctx).Raw(`SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu')`).Scan(&d.icu).Error; err != nil {
			sqlDB.Close()
			return nil, openError(cfg, err)
		}
	}
	s := &Store{db: db, dialect: d, log: log, Now: func() time.Time { return time.Now().UTC() },
		wlock: make(chan struct{}, 1), busyTimeout: cfg.busyTimeout()}
	if err := migrate(ctx, db, d, version, up); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if !d.postgres {
		// Gather the statistics SQLite's planner lacks (it has no
		// autovacuum-analyze): cheap when nothing changed.
		_ = db.WithContext(ctx).Exec(`PRAGMA optimize=0x10002`).Error
		s.startCheckpointer(sqlDB)
	}
	s.uses = newTokenUses(s)
	return s, nil
}

// openSQLiteRetrying opens the database at dsn. A new file is switched to WAL
// under an exclusive lock that SQLite does not wait for, so processes
// creating the database together (serve and a CLI command) can see
// SQLITE_BUSY on their first connection: they try again for as long as the
// busy timeout would have waited.
func openSQLiteRetrying(ctx context.Context, dsn string, gcfg *gorm.Config, busy time.Duration) (*gorm.DB, error) {
	deadline := time.Now().Add(busy)
	for {
		db, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriverName(), DSN: sqliteDSN(dsn, busy)}), gcfg)
		if err == nil || !sqliteBusy(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return db, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sqliteBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

func openError(cfg Config, err error) error {
	if cfg.Driver == DriverPostgres {
		return fmt.Errorf("database.dsn: cannot connect to postgres (%s): %w", RedactDSN(cfg.DSN), err)
	}
	return fmt.Errorf("database.dsn: cannot open sqlite database %q: %w", cfg.DSN, err)
}

// sqliteDSN adds the settings orgsync relies on: WAL, a busy timeout,
// foreign keys, and write transactions that take the lock at BEGIN (so two
// writers never deadlock upgrading a read lock).
func sqliteDSN(dsn string, busy time.Duration) string {
	if !strings.HasPrefix(dsn, "file:") {
		dsn = "file:" + dsn
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "_journal_mode=WAL&_busy_timeout=" + strconv.Itoa(int(busy.Milliseconds())) +
		"&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL&_cache_size=-" + strconv.Itoa(sqliteCacheKiB)
}

// sqliteCacheKiB is the page cache of each SQLite connection, in KiB. It
// is C memory, outside the Go heap and its GC, held by every connection of
// the pool for as long as the connection lives: at 64 MiB, a first
// reconcile of 100k members (a 200 MB database) peaked about 75 MB higher
// in RSS for the same CPU time, since the time-ordered ids make its
// inserts append to the indexes rather than revisit their pages, and the
// operating system caches the file anyway.
const sqliteCacheKiB = 16 << 10

// DefaultBusyTimeout is how long a writer waits for another's lock
// (database.busy_timeout).
const DefaultBusyTimeout = 15 * time.Second

func checkSQLitePath(dsn string) error {
	p := sqlitePath(dsn)
	if p == "" {
		return nil
	}
	dir := filepath.Dir(p)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("database.dsn: directory of sqlite database %q: %w", p, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("database.dsn: %q is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".orgsync-write-check-*")
	if err != nil {
		return fmt.Errorf("database.dsn: directory %q of the sqlite database is not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Close releases the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	s.uses.stop()
	if !s.dialect.postgres {
		s.stopCheckpointer()
		_, _ = sqlDB.Exec(`PRAGMA optimize`)
	}
	return sqlDB.Close()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	// database/sql's ping only checks that a connection is open (for
	// SQLite, that the handle is not closed): read the schema version so
	// that readiness means the database answers queries.
	if _, err := s.Schema(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Schema is the database's schema version.
func (s *Store) Schema(ctx context.Context) (int, error) {
	var v int
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v).Error
	return v, err
}

// Driver names the database in use.
func (s *Store) Driver() string {
	if s.dialect.postgres {
		return DriverPostgres
	}
	return DriverSQLite
}

// DB exposes the gorm handle for adapters in this module's tests.
func (s *Store) DB() *gorm.DB { return s.db }

// EnsureOrgs creates or updates the orgs of the config.
func (s *Store) EnsureOrgs(ctx context.Context, orgs []orgsync.Org) error {
	return s.write(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		for _, o := range orgs {
			res := tx.Exec(`UPDATE orgs SET name = ?, default_role = ?, purge_after_seconds = ?, updated_at = ? WHERE id = ?`,
				o.Name, o.DefaultRole, int64(o.PurgeAfter/time.Second), now, o.ID)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				if err := tx.Exec(`INSERT INTO orgs (id, name, default_role, purge_after_seconds, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
					o.ID, o.Name, o.DefaultRole, int64(o.PurgeAfter/time.Second), now, now).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Org returns one org.
func (s *Store) Org(ctx context.Context, id string) (orgsync.Org, error) {
	var row struct {
		ID, Name, DefaultRole string
		PurgeAfterSeconds     int64
	}
	res := s.db.WithContext(ctx).Raw(`SELECT id, name, default_role, purge_after_seconds FROM orgs WHERE id = ?`, id).Scan(&row)
	if res.Error != nil {
		return orgsync.Org{}, fmt.Errorf("store: org %q: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return orgsync.Org{}, fmt.Errorf("org %q: %w", id, orgsync.ErrNotFound)
	}
	return orgsync.Org{ID: row.ID, Name: row.Name, DefaultRole: row.DefaultRole,
		PurgeAfter: time.Duration(row.PurgeAfterSeconds) * time.Second}, nil
}
