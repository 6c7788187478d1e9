package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// search is one paged subtree search and the config key of its base DN.
type search struct {
	key    string // e.g. "user.base_dn"
	base   string
	filter string
	attrs  []string
	// controls go with every page (AD's Show Deleted); anyRefs ignores
	// continuation references whatever ldap.references says (a keys-only
	// search of a whole naming context, whose references hold nothing of
	// the read's scope).
	controls []goldap.Control
	anyRefs  bool
}

// errTooLarge: a search returned more than the config allows
// (ldap.max_entries, ldap.max_message_bytes); nothing read is kept.
var errTooLarge = errors.New("the read is refused, not kept in part; nothing was synced")

// errNoPaging: the server ignored the paged-results control, so we cannot
// know whether it sent everything.
var errNoPaging = errors.New("the response carries no paged-results control, so the result may be truncated")

// paged runs s page by page, handing every entry to fn as it arrives and
// calling onPage after each complete page. Any failure of any page is an
// error: the caller must then discard everything fn saw.
func (r *reader) paged(ctx context.Context, s search, fn func(*wire.Entry) error, onPage func()) error {
	cfg := r.s.cfg
	req := wire.SearchRequest{
		Base: s.base, Scope: goldap.ScopeWholeSubtree, Filter: s.filter, Attrs: s.attrs,
		TimeLimit: int(cfg.SearchTimeout.TimeDuration().Seconds()),
		Paging:    &wire.Paging{Size: uint32(cfg.PageSize)}, Controls: s.controls,
	}
	n := 0
	count := func(e *wire.Entry) error {
		n++
		if n > cfg.MaxEntries {
			return fmt.Errorf("more than %d entries, over ldap.max_entries (raise it if the directory really is that large, or narrow ldap.%s): %w",
				cfg.MaxEntries, s.key, errTooLarge)
		}
		return fn(e)
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return searchError(s.key, s.base, n, err)
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.SearchTimeout.TimeDuration())
		res, err := r.c.Search(pctx, req, count)
		cancel()
		if err != nil {
			var me *mapError
			if errors.As(err, &me) {
				return err
			}
			return searchError(s.key, s.base, n, err)
		}
		if len(res.References) > 0 {
			if cfg.References == ReferencesError && !s.anyRefs {
				return &ldapError{
					op:   fmt.Sprintf("search ldap.%s %q (page %d)", s.key, s.base, page),
					err:  fmt.Errorf("the server referred part of the result to %s", strings.Join(res.References, ", ")),
					hint: "entries there would be missing: narrow ldap." + s.key + " to this server's data, or set ldap.references: ignore if those referrals hold no users or groups",
				}
			}
			r.s.log.Debug().Strs("references", res.References).Str("base", s.base).Msg("ignoring search continuation references")
		}
		if !res.Paged {
			return &ldapError{
				op:   fmt.Sprintf("search ldap.%s %q (page %d)", s.key, s.base, page),
				err:  errNoPaging,
				hint: "the server must support paged results (RFC 2696); nothing was synced",
			}
		}
		if onPage != nil {
			onPage()
		}
		if len(res.Cookie) == 0 {
			return nil
		}
		req.Paging.Cookie = res.Cookie
	}
}

// mapError is a failure to map an entry; it ends the search as is.
type mapError struct{ err error }

func (e *mapError) Error() string { return e.err.Error() }
func (e *mapError) Unwrap() error { return e.err }

// attrMap finds, for an attribute name as the server returned it, which of
// the configured slots it fills. Servers return a name in one spelling, so
// the answer is cached by the exact spelling.
type attrMap struct {
	names []string
	cache map[string]uint32
}

func newAttrMap(names ...string) *attrMap {
	return &attrMap{names: names, cache: map[string]uint32{}}
}

func (m *attrMap) mask(name []byte) uint32 {
	if v, ok := m.cache[string(name)]; ok {
		return v
	}
	var v uint32
	for i, n := range m.names {
		if n != "" && strings.EqualFold(n, string(name)) {
			v |= 1 << i
		}
	}
	m.cache[string(name)] = v
	return v
}

// request lists the distinct configured names, to ask the server for.
func (m *attrMap) request() []string {
	var out []string
	for _, n := range m.names {
		dup := n == ""
		for _, o := range out {
			dup = dup || strings.EqualFold(o, n)
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}
