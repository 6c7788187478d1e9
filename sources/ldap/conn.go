package ldap

import (
	"context"
)

// conn is the part of an LDAP connection the source needs: a simple bind
// and a search that streams its entries. The real one is wireConn; unit
// tests use a hand-written fake.
type conn interface {
	// Bind authenticates with a simple bind; an empty dn binds anonymously.
	Bind(ctx context.Context, dn, password string) error
	// Search sends one search request and hands each entry to fn as it
	// arrives. The entry and every byte slice in it are only valid during
	// the call: fn copies what it keeps. A result code other than success
	// is a *goldap.Error.
	Search(ctx context.Context, req searchRequest, fn func(*entry) error) (pageResult, error)
	// Close unbinds and closes the connection.
	Close() error
}

// dialFunc opens a connection to one URL, TLS set up (ldaps or StartTLS).
type dialFunc func(ctx context.Context, rawURL string) (conn, error)

// searchRequest is one LDAP search request.
type searchRequest struct {
	Base      string
	Scope     int // goldap.ScopeBaseObject or goldap.ScopeWholeSubtree
	Filter    string
	Attrs     []string
	TimeLimit int // seconds, sent to the server; 0 is none
	// Paging, when set, adds the paged-results control (RFC 2696).
	Paging *paging
}

// paging is the request side of the paged-results control.
type paging struct {
	Size   uint32
	Cookie []byte
}

// pageResult is what a search returned besides its entries.
type pageResult struct {
	// Paged reports that the SearchResultDone carried the paged-results
	// control; Cookie is its cookie (empty on the last page).
	Paged  bool
	Cookie []byte
	// References are the search continuation references (URLs) seen.
	References []string
}

// entry is a SearchResultEntry as it sits in the read buffer.
type entry struct {
	DN    []byte
	Attrs []attribute
}

// attribute is one attribute of an entry.
type attribute struct {
	Name   []byte
	Values [][]byte
}

// first returns the attribute's first value, or nil.
func (a *attribute) first() []byte {
	if len(a.Values) == 0 {
		return nil
	}
	return a.Values[0]
}
