package ldap

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// conn is the part of an LDAP connection the source needs. The real one
// wraps go-ldap; unit tests use a hand-written fake.
type conn interface {
	// Bind authenticates with a simple bind.
	Bind(ctx context.Context, dn, password string) error
	// SearchPage sends one search request and hands each entry to fn as it
	// arrives (fn must not keep the entry). It returns the controls of the
	// SearchResultDone and the continuation references seen. A result code
	// other than success is an error (a *goldap.Error).
	SearchPage(ctx context.Context, req *goldap.SearchRequest, fn func(*goldap.Entry) error) (pageResult, error)
	Close() error
}

// pageResult is what a search page returned besides its entries.
type pageResult struct {
	Controls   []goldap.Control
	References []string
}

// dialFunc opens a connection to one URL, TLS set up (ldaps or StartTLS).
type dialFunc func(ctx context.Context, rawURL string) (conn, error)

// goldapConn is conn over go-ldap.
type goldapConn struct {
	c           *goldap.Conn
	bindTimeout time.Duration
}

// dialGoldap returns the dialFunc for cfg, TLS configured from tlsCfg.
func dialGoldap(cfg *Config, tlsCfg *tls.Config) dialFunc {
	return func(ctx context.Context, rawURL string) (conn, error) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		tc := tlsCfg.Clone()
		tc.ServerName = u.Hostname()
		dialer := &net.Dialer{Timeout: cfg.DialTimeout.D()}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < dialer.Timeout {
			dialer.Deadline = dl
		}
		c, err := goldap.DialURL(rawURL, goldap.DialWithDialer(dialer), goldap.DialWithTLSConfig(tc))
		if err != nil {
			return nil, err
		}
		if cfg.StartTLS {
			if err := c.StartTLS(tc); err != nil {
				c.Close()
				return nil, fmt.Errorf("StartTLS: %w", err)
			}
		}
		return &goldapConn{c: c, bindTimeout: cfg.BindTimeout.D()}, nil
	}
}

func (g *goldapConn) Bind(ctx context.Context, dn, password string) error {
	g.c.SetTimeout(g.bindTimeout)
	defer g.c.SetTimeout(0)
	stop := context.AfterFunc(ctx, func() { g.c.Close() })
	defer stop()
	if dn == "" {
		return g.c.UnauthenticatedBind("")
	}
	return g.c.Bind(dn, password)
}

func (g *goldapConn) SearchPage(ctx context.Context, req *goldap.SearchRequest, fn func(*goldap.Entry) error) (pageResult, error) {
	var res pageResult
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp := g.c.SearchAsync(ctx, req, 64)
	for resp.Next() {
		if e := resp.Entry(); e != nil {
			if err := fn(e); err != nil {
				cancel()
				for resp.Next() { // let the search goroutine finish
				}
				return res, err
			}
			continue
		}
		if r := resp.Referral(); r != "" {
			res.References = append(res.References, r)
			continue
		}
		if c := resp.Controls(); len(c) > 0 {
			res.Controls = c
		}
	}
	if err := resp.Err(); err != nil {
		return res, err
	}
	// go-ldap ends a cancelled search quietly: that is no finished page.
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := g.c.GetLastError(); err != nil && g.c.IsClosing() {
		return res, goldap.NewError(goldap.ErrorNetwork, err)
	}
	return res, nil
}

func (g *goldapConn) Close() error {
	if g.c.IsClosing() {
		return nil
	}
	return g.c.Close()
}
