package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Token use (scim_tokens.last_used_at) is recorded off the request path.
// Writing it while authenticating made every authenticated request a
// potential writer: with the database locked by a CLI reconcile, a GET
// waited out the busy timeout and failed. Authenticate only notes the use
// in memory; one goroutine writes the uses noted, coalesced per token, at
// most once per tokenUseFlushEvery, and once more when the Store closes.
// A flush that cannot get the lock keeps its uses for the next one: the
// time shown is late, never lost while the process runs.

// tokenUseFlushEvery bounds how often noted uses are written.
const tokenUseFlushEvery = 5 * time.Second

// tokenUseFinalWait bounds the flush of Close.
const tokenUseFinalWait = 5 * time.Second

type tokenUses struct {
	s       *Store
	mu      sync.Mutex
	pending map[string]time.Time // token ID → latest use not yet written
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func newTokenUses(s *Store) *tokenUses {
	u := &tokenUses{s: s, pending: map[string]time.Time{}, kick: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	go u.loop()
	return u
}

// note records that token id was used at t.
func (u *tokenUses) note(id string, t time.Time) {
	u.mu.Lock()
	if t.After(u.pending[id]) {
		u.pending[id] = t
	}
	u.mu.Unlock()
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// latest returns the use of id noted but not yet written, if any.
func (u *tokenUses) latest(id string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, ok := u.pending[id]
	return t, ok
}

func (u *tokenUses) loop() {
	defer close(u.done)
	for {
		select {
		case <-u.quit:
			return
		case <-u.kick:
		}
		// Let the uses of the next seconds share one write.
		wait := time.NewTimer(tokenUseFlushEvery)
		select {
		case <-u.quit:
			wait.Stop()
			return
		case <-wait.C:
		}
		if err := u.flush(context.Background()); err != nil {
			u.s.log.Warn().Err(err).Msg("cannot record token use yet; retrying")
			select {
			case u.kick <- struct{}{}:
			default:
			}
		}
	}
}

// flush writes the pending uses in one transaction. On failure they stay
// pending (merged with uses noted meanwhile).
func (u *tokenUses) flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	u.pending = map[string]time.Time{}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := u.s.write(ctx, func(tx *gorm.DB) error {
		for id, t := range batch {
			// Never move last_used_at backwards (another process may have
			// written a later use).
			if _, err := u.s.on(ctx, tx).exec(`UPDATE scim_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
				t, id, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		u.mu.Lock()
		for id, t := range batch {
			if t.After(u.pending[id]) {
				u.pending[id] = t
			}
		}
		u.mu.Unlock()
		return fmt.Errorf("store: record token use: %w", err)
	}
	return nil
}

// stop ends the loop and writes what is pending, waiting at most
// tokenUseFinalWait for this process's write lock (and SQLite's busy
// timeout for another process's).
func (u *tokenUses) stop() {
	if u == nil {
		return
	}
	u.once.Do(func() {
		close(u.quit)
		<-u.done
		ctx, cancel := context.WithTimeout(context.Background(), tokenUseFinalWait)
		defer cancel()
		if err := u.flush(ctx); err != nil {
			u.s.log.Warn().Err(err).Msg("token use of the last seconds not recorded")
		}
	})
}

// FlushTokenUse writes the token uses noted so far (tests, and callers
// that want last_used_at current now).
func (s *Store) FlushTokenUse(ctx context.Context) error { return s.uses.flush(ctx) }
