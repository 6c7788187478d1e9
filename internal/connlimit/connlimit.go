package connlimit

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/internal/authlimit"
)

// Limits are the bounds of a Listener.
type Limits struct {
	// Total is the most connections held at once.
	Total int
	// PerClient is the most connections of one client address (IPv6: one
	// /64) held at once.
	PerClient int
	// Exempt reports addresses bound by Total only (nil: none).
	Exempt func(netip.Addr) bool
}

// Listener is a net.Listener enforcing Limits; see the package doc.
type Listener struct {
	net.Listener
	lim Limits
	log zerolog.Logger

	mu      sync.Mutex
	open    int
	clients map[string]*client
	idle    *list.List // of *conn, oldest idle first

	refused, evicted int
	lastLog          time.Time
}

type client struct {
	open int
	idle *list.List // of *conn, oldest idle first
}

// conn is a connection the Listener accepted. Its fields are guarded by
// the Listener's mu.
type conn struct {
	net.Conn
	l        *Listener
	key      string
	exempt   bool
	idleAll  *list.Element // in l.idle while idle
	idleMine *list.Element // in its client's idle list while idle
	gone     bool          // no longer counted
}

// New wraps ln. lim.Total and lim.PerClient must be positive.
func New(ln net.Listener, lim Limits, log zerolog.Logger) *Listener {
	return &Listener{Listener: ln, lim: lim, log: log, clients: map[string]*client{}, idle: list.New()}
}

// Accept returns the next connection within the limits. Connections over
// them are closed here (or make room by closing idle ones), so Accept
// only returns the underlying listener's errors.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		raw, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, exempt := l.classify(raw.RemoteAddr())
		c := &conn{Conn: raw, l: l, key: key, exempt: exempt}
		victims, ok := l.admit(c)
		for _, v := range victims {
			_ = v.Conn.Close()
		}
		if ok {
			return c, nil
		}
		_ = raw.Close()
	}
}

func (l *Listener) classify(a net.Addr) (string, bool) {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(ta.IP)
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	}
	if !ip.IsValid() {
		return a.String(), false
	}
	ip = ip.Unmap().WithZone("")
	return authlimit.Key(ip.String()), l.lim.Exempt != nil && l.lim.Exempt(ip)
}

// admit counts c in, choosing the idle connections to close to make room;
// ok is false when there is no room (c is then not counted).
func (l *Listener) admit(c *conn) (victims []*conn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cl := l.clients[c.key]
	if cl == nil {
		cl = &client{idle: list.New()}
	}
	if !c.exempt && cl.open >= l.lim.PerClient {
		front := cl.idle.Front()
		if front == nil {
			l.note(true)
			return nil, false
		}
		v := front.Value.(*conn)
		l.forget(v)
		victims = append(victims, v)
		l.note(false)
	}
	if l.open >= l.lim.Total {
		front := l.idle.Front()
		if front == nil {
			l.note(true)
			return victims, false
		}
		v := front.Value.(*conn)
		l.forget(v)
		victims = append(victims, v)
		l.note(false)
	}
	l.clients[c.key] = cl
	cl.open++
	l.open++
	l.markIdle(c, cl) // no request yet
	return victims, true
}

// note counts a refused or evicted connection and logs the counts at most
// every ten seconds.
func (l *Listener) note(refused bool) {
	if refused {
		l.refused++
	} else {
		l.evicted++
	}
	if now := time.Now(); now.Sub(l.lastLog) >= 10*time.Second {
		l.log.Warn().Int("refused", l.refused).Int("idle_closed", l.evicted).Int("open", l.open).
			Int("max_connections", l.lim.Total).Int("max_connections_per_client", l.lim.PerClient).
			Msg("connection limit reached: new connections refused or idle ones closed (counts since the last such message)")
		l.lastLog, l.refused, l.evicted = now, 0, 0
	}
}

func (l *Listener) markIdle(c *conn, cl *client) {
	if c.gone || c.idleAll != nil {
		return
	}
	c.idleAll = l.idle.PushBack(c)
	c.idleMine = cl.idle.PushBack(c)
}

func (l *Listener) markBusy(c *conn) {
	if c.idleAll == nil {
		return
	}
	l.idle.Remove(c.idleAll)
	l.clients[c.key].idle.Remove(c.idleMine)
	c.idleAll, c.idleMine = nil, nil
}

// forget stops counting c.
func (l *Listener) forget(c *conn) {
	if c.gone {
		return
	}
	l.markBusy(c)
	c.gone = true
	l.open--
	cl := l.clients[c.key]
	cl.open--
	if cl.open == 0 {
		delete(l.clients, c.key)
	}
}

// ConnState is the http.Server ConnState hook that tells the Listener
// which connections are idle.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		nc = u.NetConn()
	}
	c, ok := nc.(*conn)
	if !ok || c.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateIdle:
		if cl := l.clients[c.key]; cl != nil {
			l.markIdle(c, cl)
		}
	case http.StateActive, http.StateHijacked:
		l.markBusy(c)
	}
}

// Open returns the number of connections counted now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

func (c *conn) Close() error {
	c.l.mu.Lock()
	c.l.forget(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite passes half-close through, which http.Server uses to close a
// TCP connection gracefully.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
