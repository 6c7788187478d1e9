package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLite in WAL mode appends commits to the write-ahead log; a checkpoint
// copies the log into the database file and syncs both. By default the
// connection that commits runs the checkpoint when the log passes 1,000
// pages, so the commit of a large plan waited for the copy of everything
// it wrote (most of a second for 100k members). orgsync turns the
// automatic checkpoint off on its connections and runs it from one
// goroutine instead, soon after writes and at most once per
// checkpointEvery: commits return when the log is written, and durability
// is unchanged (a log not yet copied is replayed on the next open).

// checkpointEvery bounds how often the background checkpoint runs.
const checkpointEvery = time.Second

// walSafetyPages is the automatic checkpoint left in place as a backstop
// should the background one fall behind (4 KiB pages: 256 MiB of log).
const walSafetyPages = 65536

// walSizeLimit is the size the log file is cut back to after it restarts.
const walSizeLimit = 64 << 20

var registerSQLite sync.Once

// sqliteDriverName registers, once, the mattn driver with the connection
// settings DSN parameters cannot express, and returns its name:
//   - temp_store = MEMORY: a multi-row INSERT into a table with constraints
//     keeps a statement journal (to undo the statement alone should a
//     later row fail); on disk it cost a third of inserting memberships.
//   - the automatic checkpoint only as a backstop, and a cap on the size
//     the log file is left at (see above).
//   - orgsync_lower(text): strings.ToLower, for case-insensitive filters.
//   - analysis_limit: the statistics PRAGMA optimize gathers on open and
//     close come from a sample of each index; reading whole indexes after
//     a large apply took a quarter of a second and filled the page cache.
func sqliteDriverName() string {
	const name = "sqlite3_orgsync"
	registerSQLite.Do(func() {
		sql.Register(name, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			// SQLite's own LOWER folds ASCII only (see dialect.lower).
			if err := c.RegisterFunc("orgsync_lower", strings.ToLower, true); err != nil {
				return err
			}
			_, err := c.Exec("PRAGMA temp_store = MEMORY; PRAGMA analysis_limit = 1000; PRAGMA wal_autocheckpoint = "+strconv.Itoa(walSafetyPages)+"; PRAGMA journal_size_limit = "+strconv.Itoa(walSizeLimit), nil)
			return err
		}})
	})
	return name
}

func (s *Store) startCheckpointer() {
	c := s.on(context.Background(), s.db)
	s.ckptKick = make(chan struct{}, 1)
	s.ckptStop = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go func() {
		defer close(s.ckptDone)
		var last time.Time
		for {
			select {
			case <-s.ckptStop:
				return
			case <-s.ckptKick:
			}
			// Let writes that follow closely share one checkpoint.
			wait := time.NewTimer(time.Until(last.Add(checkpointEvery)))
			select {
			case <-s.ckptStop:
				wait.Stop()
				return
			case <-wait.C:
			}
			if _, err := c.exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				s.log.Warn().Err(err).Msg("sqlite checkpoint failed; the write-ahead log keeps growing until one succeeds")
			}
			last = time.Now()
		}
	}()
}

// wrote tells the checkpointer that a transaction committed.
func (s *Store) wrote() {
	if s.ckptKick == nil {
		return
	}
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}

// stopCheckpointer ends the checkpointer; closing the last connection
// checkpoints what is left.
func (s *Store) stopCheckpointer() {
	if s.ckptStop == nil {
		return
	}
	s.closing.Do(func() { close(s.ckptStop) })
	<-s.ckptDone
}
