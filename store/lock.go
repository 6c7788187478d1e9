package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

var localLocks sync.Map // name → *sync.Mutex, for SQLite (one process)

// TryLock takes the lock named key without waiting. On PostgreSQL it is a
// session advisory lock, so of several replicas only one holds it; on
// SQLite, which one process owns, it is an in-process lock (run approval
// takes it: cmd/orgsync's approver). ok is false when another holder has
// it. release must be called once when ok.
func (s *Store) TryLock(ctx context.Context, key string) (release func(), ok bool, err error) {
	if !s.dialect.postgres {
		v, _ := localLocks.LoadOrStore(s.lockName(key), &sync.Mutex{})
		mu := v.(*sync.Mutex)
		if !mu.TryLock() {
			return nil, false, nil
		}
		return mu.Unlock, true, nil
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, false, err
	}
	// A session lock lives on one connection: hold that connection until
	// release.
	c, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lock %q: %w", key, err)
	}
	k := lockKey(key)
	held := conn{ctx: ctx, pool: c, pg: true}
	if _, err := held.row(`SELECT pg_try_advisory_lock(?)`, []any{k}, &ok); err != nil {
		c.Close()
		return nil, false, fmt.Errorf("store: lock %q: %w", key, err)
	}
	if !ok {
		c.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			held.ctx = context.Background()
			_, _ = held.exec(`SELECT pg_advisory_unlock(?)`, k)
			c.Close()
		})
	}, true, nil
}

// lockName makes key one store's: two stores of one process (tests) do not
// share their locks.
func (s *Store) lockName(key string) string {
	sqlDB, _ := s.db.DB()
	return fmt.Sprintf("%p/%s", sqlDB, key)
}

// Claim records that the occurrence slot of the scheduled job key has been
// taken, and reports whether this call took it: of several replicas that
// fire the same occurrence, exactly one gets true. Claims older than a week
// are forgotten.
func (s *Store) Claim(ctx context.Context, key string, slot time.Time) (bool, error) {
	var took bool
	err := s.write(ctx, func(tx *gorm.DB) error {
		n, err := s.on(ctx, tx).exec(`INSERT INTO schedule_claims (job, slot, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			key, slot.UTC(), s.Now())
		if err != nil {
			return err
		}
		took = n == 1
		_, err = s.on(ctx, tx).exec(`DELETE FROM schedule_claims WHERE job = ? AND slot < ?`, key, slot.UTC().Add(-7*24*time.Hour))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim %q at %s: %w", key, slot.Format(time.RFC3339), err)
	}
	return took, nil
}
