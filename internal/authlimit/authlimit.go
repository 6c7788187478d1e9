package authlimit

import (
	"sync"
	"time"
)

// maxTracked bounds the memory the limiter spends on client addresses.
const maxTracked = 100_000

// Limiter counts failed authentications per client address in fixed
// windows: an address with limit failures inside one window is refused
// until the window ends. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	seen   map[string]*window
}

type window struct {
	start time.Time
	fails int
}

// New returns a Limiter allowing limit failures per window; now is the
// clock (time.Now when nil).
func New(limit int, win time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: win, now: now, seen: map[string]*window{}}
}

// Blocked reports whether addr must wait, and for how long.
func (l *Limiter) Blocked(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.seen[addr]
	if w == nil {
		return 0, false
	}
	now := l.now()
	end := w.start.Add(l.window)
	if !now.Before(end) {
		delete(l.seen, addr)
		return 0, false
	}
	if w.fails < l.limit {
		return 0, false
	}
	return end.Sub(now), true
}

// Fail records a failed authentication from addr.
func (l *Limiter) Fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.seen[addr]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		if len(l.seen) >= maxTracked {
			l.prune(now)
		}
		w = &window{start: now}
		l.seen[addr] = w
	}
	w.fails++
}

// prune forgets finished windows; if every window is still open, it
// forgets them all rather than grow without bound.
func (l *Limiter) prune(now time.Time) {
	for a, w := range l.seen {
		if !now.Before(w.start.Add(l.window)) {
			delete(l.seen, a)
		}
	}
	if len(l.seen) >= maxTracked {
		l.seen = map[string]*window{}
	}
}
