package authlimit

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// maxTracked bounds the memory the limiter spends on client addresses.
const maxTracked = 100_000

// Limiter counts failed authentications per client in fixed windows: a
// client with limit failures inside one window is refused until the
// window ends. It is safe for concurrent use.
//
// Clients are named by Key: an IPv6 address counts for its /64, which one
// host can fill with addresses. At most maxTracked clients are tracked;
// past that, the oldest windows of clients not (yet) refused are
// forgotten first, so a flood of new addresses cannot free a refused one.
type Limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	now    func() time.Time
	seen   map[string]*list.Element // of *entry, in open or blocked
	// open holds the windows below the limit, blocked those at it; each
	// list is in order of window start (oldest first).
	open, blocked *list.List
}

type entry struct {
	key   string
	start time.Time
	fails int
}

// New returns a Limiter allowing limit failures per window; now is the
// clock (time.Now when nil).
func New(limit int, win time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: limit, window: win, now: now, seen: map[string]*list.Element{},
		open: list.New(), blocked: list.New()}
}

// Key is the name addr is counted under: an IPv6 address's /64, any other
// address (or a non-address name) itself.
func Key(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Blocked reports whether addr must wait, and for how long.
func (l *Limiter) Blocked(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := Key(addr)
	el := l.seen[key]
	if el == nil {
		return 0, false
	}
	e := el.Value.(*entry)
	now := l.now()
	end := e.start.Add(l.window)
	if !now.Before(end) {
		l.forget(el)
		return 0, false
	}
	if e.fails < l.limit {
		return 0, false
	}
	return end.Sub(now), true
}

// Fail records a failed authentication from addr and returns the number
// of failures of its client in the current window (1 for the first: a
// caller logs that one and the one reaching the limit, not every one).
func (l *Limiter) Fail(addr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := Key(addr)
	now := l.now()
	el := l.seen[key]
	if el != nil && !now.Before(el.Value.(*entry).start.Add(l.window)) {
		l.forget(el)
		el = nil
	}
	if el == nil {
		l.makeRoom(now)
		el = l.open.PushBack(&entry{key: key, start: now})
		l.seen[key] = el
	}
	e := el.Value.(*entry)
	e.fails++
	if e.fails == l.limit {
		// Refused from now on: it moves to the blocked list, kept in
		// start order so that finished windows are found at its front.
		l.open.Remove(el)
		el = l.insertBlocked(e)
		l.seen[key] = el
	}
	return e.fails
}

// insertBlocked puts e in the blocked list in start order.
func (l *Limiter) insertBlocked(e *entry) *list.Element {
	for at := l.blocked.Back(); at != nil; at = at.Prev() {
		if !at.Value.(*entry).start.After(e.start) {
			return l.blocked.InsertAfter(e, at)
		}
	}
	return l.blocked.PushFront(e)
}

func (l *Limiter) forget(el *list.Element) {
	e := el.Value.(*entry)
	delete(l.seen, e.key)
	if e.fails >= l.limit {
		l.blocked.Remove(el)
	} else {
		l.open.Remove(el)
	}
}

// makeRoom keeps len(seen) below maxTracked: it drops finished windows
// (the oldest of each list), then the oldest open window, and a refused
// client only when every tracked client is refused.
func (l *Limiter) makeRoom(now time.Time) {
	for _, lst := range []*list.List{l.open, l.blocked} {
		for el := lst.Front(); el != nil && len(l.seen) >= maxTracked; el = lst.Front() {
			if now.Before(el.Value.(*entry).start.Add(l.window)) {
				break
			}
			l.forget(el)
		}
	}
	for len(l.seen) >= maxTracked {
		if el := l.open.Front(); el != nil {
			l.forget(el)
			continue
		}
		l.forget(l.blocked.Front())
	}
}
