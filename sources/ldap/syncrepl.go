package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// An RFC 4533 refreshOnly search with the cookie of the last applied read
// names what left the search's content since: with syncprov's session log
// a syncIdSet of the entries deleted, moved out of the base or modified
// out of the filter (refreshDeletes TRUE), or, when the log does not reach
// back that far, every entry still present (a present phase: whatever it
// does not name is gone). It replaces the keys-only listing of the
// deletion check; the changed entries themselves still come from the
// entryCSN search of the wire client, whose messages are bounded by
// ldap.max_message_bytes: the refresh asks for no attribute ("1.1"), so
// its messages are a DN and a sync state control.
//
// The refresh is go-ldap's own ((*Conn).Syncrepl and its Sync controls),
// on a second connection to the server the wire client reads from.

// refresher runs sync refreshes: one connection, one search at a time.
type refresher interface {
	// Refresh runs a refreshOnly search of base with filter, from cookie
	// (nil: from nothing), and returns what it named. A result code other
	// than success is a *goldap.Error; a cut connection, a cancelled ctx
	// or a response that ends without its Sync Done control is an error
	// too, never a shorter answer.
	Refresh(ctx context.Context, base string, scope int, filter string, cookie []byte) (refreshed, error)
	Close() error
}

// refreshDialFunc opens and binds a refresher to one URL.
type refreshDialFunc func(ctx context.Context, rawURL string) (refresher, error)

// refreshed is what one refresh named.
type refreshed struct {
	// deleted: entryUUIDs named deleted (delete state, or a syncIdSet
	// with refreshDeletes TRUE).
	deleted map[string]bool
	// named: entryUUIDs named present, added or modified.
	named map[string]bool
	// present: the refresh had a present phase, in which an entry it
	// does not name is deleted.
	present bool
	// cookie is the last cookie the server sent (Sync Done's, or a
	// later one of a Sync Info).
	cookie []byte
}

// gone says whether the stored entry id is no longer in the content.
func (r *refreshed) gone(id string) bool {
	return r.deleted[id] || (r.present && !r.named[id])
}

// collectRefresh reads a refresh's responses to the end. Entries are
// recorded by their Sync State; Sync Info messages carry syncIdSets,
// phase ends and new cookies; the final Sync Done says whether the last
// phase was a present phase (refreshDeletes FALSE).
func collectRefresh(resp goldap.Response) (refreshed, error) {
	out := refreshed{deleted: map[string]bool{}, named: map[string]bool{}}
	done := false
	for resp.Next() {
		var state *goldap.ControlSyncState
		for _, c := range resp.Controls() {
			switch c := c.(type) {
			case *goldap.ControlSyncState:
				state = c
			case *goldap.ControlSyncInfo:
				if err := out.info(c); err != nil {
					return out, err
				}
			case *goldap.ControlSyncDone:
				done = true
				if len(c.Cookie) > 0 {
					out.cookie = c.Cookie
				}
				if !c.RefreshDeletes {
					out.present = true
				}
			}
		}
		if e := resp.Entry(); e != nil {
			if state == nil {
				return out, fmt.Errorf("the entry %q came without its Sync State control", e.DN)
			}
			id := state.EntryUUID.String()
			switch state.State {
			case goldap.SyncStateDelete:
				out.deleted[id] = true
			case goldap.SyncStatePresent, goldap.SyncStateAdd, goldap.SyncStateModify:
				out.named[id] = true
			default:
				return out, fmt.Errorf("the entry %q has the unknown sync state %d", e.DN, state.State)
			}
			if len(state.Cookie) > 0 {
				out.cookie = state.Cookie
			}
		}
	}
	if err := resp.Err(); err != nil {
		return out, err
	}
	if !done {
		// go-ldap ends the stream without an error when its ctx is
		// cancelled, or when the search ends in success without controls
		// (a server that ignored the control): the caller tells which.
		return out, errNoDone
	}
	if len(out.cookie) == 0 {
		return out, &refreshRefused{reason: "the server answered the sync refresh without a cookie (it did not take the stored one), so what it left out cannot be trusted"}
	}
	return out, nil
}

func (out *refreshed) info(c *goldap.ControlSyncInfo) error {
	switch c.Value {
	case goldap.SyncInfoNewcookie:
		if c.NewCookie != nil && len(c.NewCookie.Cookie) > 0 {
			out.cookie = c.NewCookie.Cookie
		}
	case goldap.SyncInfoRefreshPresent:
		// The end of a present phase: whatever it did not name is gone.
		out.present = true
		if c.RefreshPresent != nil && len(c.RefreshPresent.Cookie) > 0 {
			out.cookie = c.RefreshPresent.Cookie
		}
	case goldap.SyncInfoRefreshDelete:
		if c.RefreshDelete != nil && len(c.RefreshDelete.Cookie) > 0 {
			out.cookie = c.RefreshDelete.Cookie
		}
	case goldap.SyncInfoSyncIdSet:
		set := c.SyncIdSet
		if set == nil {
			return errors.New("a Sync Info syncIdSet without its set")
		}
		for _, u := range set.SyncUUIDs {
			if set.RefreshDeletes {
				out.deleted[u.String()] = true
			} else {
				out.named[u.String()] = true
			}
		}
		if len(set.Cookie) > 0 {
			out.cookie = set.Cookie
		}
	default:
		return fmt.Errorf("an unknown Sync Info message %d", c.Value)
	}
	return nil
}

// errNoDone: a refresh ended without its Sync Done control.
var errNoDone = errors.New("the sync refresh ended without its Sync Done control")

// refreshRefused: the server would not run the refresh from the stored
// cookie (the control unsupported, e-syncRefreshRequired, a cookie it
// rejects): the deletion check falls back to the keys-only listing.
type refreshRefused struct {
	reason string
	code   uint16 // the LDAP result code, 0 when the refusal is ours
}

func (e *refreshRefused) Error() string { return e.reason }

// asRefused turns a server's refusal (any result code the server sent)
// into a refreshRefused; other errors (network, timeouts, a cut stream)
// stay errors: they fail the read.
func asRefused(err error, what string) error {
	var le *goldap.Error
	// go-ldap's own codes (200-299: network, a malformed packet, ...)
	// are the client's; 4096 (e-syncRefreshRequired) is the server's.
	if !errors.As(err, &le) || (le.ResultCode >= goldap.ErrorNetwork && le.ResultCode < 300) {
		return err
	}
	msg := goldap.LDAPResultCodeMap[le.ResultCode]
	if le.ResultCode == goldap.LDAPResultSyncRefreshRequired {
		msg = "e-syncRefreshRequired"
	}
	if msg == "" {
		msg = "code " + fmt.Sprint(le.ResultCode)
	}
	detail := ""
	if le.Err != nil {
		detail = ": " + strings.TrimSpace(le.Err.Error())
	}
	return &refreshRefused{reason: fmt.Sprintf("the server refused the sync refresh of %s (LDAP result %d, %s%s)", what, le.ResultCode, msg, detail), code: le.ResultCode}
}

// newRefreshDialer returns the refreshDialFunc for cfg: the same TLS set-up
// and credentials as the wire client's.
func newRefreshDialer(cfg *Config, tlsCfg *tls.Config, password string) refreshDialFunc {
	return func(ctx context.Context, rawURL string) (refresher, error) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		host := u.Host
		if u.Port() == "" {
			port := "389"
			if u.Scheme == "ldaps" {
				port = "636"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout.TimeDuration())
		defer cancel()
		nc, err := (&net.Dialer{}).DialContext(dctx, "tcp", host)
		if err != nil {
			return nil, err
		}
		tc := tlsCfg.Clone()
		tc.ServerName = u.Hostname()
		isTLS := u.Scheme == "ldaps"
		if isTLS {
			t := tls.Client(nc, tc)
			if err := t.HandshakeContext(dctx); err != nil {
				nc.Close()
				return nil, err
			}
			nc = t
		}
		c := goldap.NewConn(nc, isTLS)
		c.Start()
		c.SetTimeout(cfg.BindTimeout.TimeDuration())
		if cfg.StartTLS && !isTLS {
			if err := c.StartTLS(tc); err != nil {
				c.Close()
				return nil, err
			}
		}
		if cfg.BindDN != "" {
			if err := c.Bind(cfg.BindDN, password); err != nil {
				c.Close()
				return nil, bindError(cfg.BindDN, err)
			}
		}
		c.SetTimeout(cfg.SearchTimeout.TimeDuration())
		return &goldapRefresher{c: c, timeout: cfg.SearchTimeout.TimeDuration()}, nil
	}
}

// goldapRefresher is a go-ldap connection as a refresher.
type goldapRefresher struct {
	c       *goldap.Conn
	timeout time.Duration
}

func (g *goldapRefresher) Refresh(ctx context.Context, base string, scope int, filter string, cookie []byte) (refreshed, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 0, int(g.timeout.Seconds()), false,
		filter, []string{"1.1"}, nil)
	out, err := collectRefresh(g.c.Syncrepl(ctx, req, 64, goldap.SyncRequestModeRefreshOnly, cookie, false))
	switch {
	case err != nil && ctx.Err() != nil:
		return out, fmt.Errorf("%w (%v)", err, ctx.Err())
	case errors.Is(err, errNoDone):
		// Not cut (go-ldap reports a cut as an error) nor cancelled: the
		// server answered success without the control.
		return out, &refreshRefused{reason: "the server ended the sync refresh without its Sync Done control (it ignored the sync request)"}
	}
	return out, err
}

func (g *goldapRefresher) Close() error { return g.c.Close() }
