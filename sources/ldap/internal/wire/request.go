package wire

import goldap "github.com/go-ldap/ldap/v3"

// SearchRequest is one LDAP search request.
type SearchRequest struct {
	Base      string
	Scope     int // goldap.ScopeBaseObject or goldap.ScopeWholeSubtree
	Filter    string
	Attrs     []string
	TimeLimit int // seconds, sent to the server; 0 is none
	// Paging, when set, adds the paged-results control (RFC 2696).
	Paging *Paging
	// Controls are sent with the request besides the paged-results
	// control (AD's Show Deleted, for one).
	Controls []goldap.Control
}

// Paging is the request side of the paged-results control.
type Paging struct {
	Size   uint32
	Cookie []byte
}

// PageResult is what a search returned besides its entries.
type PageResult struct {
	// Paged reports that the SearchResultDone carried the paged-results
	// control; Cookie is its cookie (empty on the last page).
	Paged  bool
	Cookie []byte
	// References are the search continuation references (URLs) seen.
	References []string
}

// Entry is a SearchResultEntry as it sits in the read buffer.
type Entry struct {
	DN    []byte
	Attrs []Attribute
}

// Attribute is one attribute of an entry.
type Attribute struct {
	Name   []byte
	Values [][]byte
}
