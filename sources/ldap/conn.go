package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// conn is the part of an LDAP connection the source needs: a simple bind
// and a search that streams its entries. The real one is the wire client
// (internal/wire) behind wireConn; unit tests use a hand-written fake.
type conn interface {
	// Bind authenticates with a simple bind; an empty dn binds anonymously.
	Bind(ctx context.Context, dn, password string) error
	// Search sends one search request and hands each entry to fn as it
	// arrives. The entry and every byte slice in it are only valid during
	// the call: fn copies what it keeps. A result code other than success
	// is a *goldap.Error.
	Search(ctx context.Context, req wire.SearchRequest, fn func(*wire.Entry) error) (wire.PageResult, error)
	// Close unbinds and closes the connection.
	Close() error
}

// dialFunc opens a connection to one URL, TLS set up (ldaps or StartTLS).
type dialFunc func(ctx context.Context, rawURL string) (conn, error)

// dialWire returns the dialFunc for cfg, TLS configured from tlsCfg.
func dialWire(cfg *Config, tlsCfg *tls.Config) dialFunc {
	opts := wire.Options{
		DialTimeout:     cfg.DialTimeout.TimeDuration(),
		TLS:             tlsCfg,
		StartTLS:        cfg.StartTLS,
		MaxMessageBytes: int(min(cfg.MaxMessageBytes, maxMaxMessageBytes)),
	}
	return func(ctx context.Context, rawURL string) (conn, error) {
		c, err := wire.Dial(ctx, rawURL, opts)
		if err != nil {
			return nil, limitError(err)
		}
		return wireConn{c}, nil
	}
}

// wireConn is the wire client as a conn: its errors are the client's, but
// for a refused message, which is said in the words of the config.
type wireConn struct{ *wire.Conn }

func (c wireConn) Bind(ctx context.Context, dn, password string) error {
	return limitError(c.Conn.Bind(ctx, dn, password))
}

func (c wireConn) Search(ctx context.Context, req wire.SearchRequest, fn func(*wire.Entry) error) (wire.PageResult, error) {
	res, err := c.Conn.Search(ctx, req, fn)
	return res, limitError(err)
}

// limitError names ldap.max_message_bytes in a message refused by the wire
// client's bound, and makes it an errTooLarge like the other read limits.
func limitError(err error) error {
	var tl *wire.MessageTooLargeError
	if errors.As(err, &tl) {
		return fmt.Errorf("a response message of %d bytes, over ldap.max_message_bytes (%d; raise it if an entry really is that large): %w",
			tl.Size, tl.Limit, errTooLarge)
	}
	return err
}
