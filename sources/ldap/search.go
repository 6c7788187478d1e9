package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// search is one paged subtree search and the config key of its base DN.
type search struct {
	key    string // e.g. "user.base_dn"
	base   string
	filter string
	attrs  []string
}

// errNoPaging: the server ignored the paged-results control, so we cannot
// know whether it sent everything.
var errNoPaging = errors.New("the response carries no paged-results control, so the result may be truncated")

// paged runs s page by page, handing every entry to fn as it arrives and
// calling onPage after each complete page. Any failure of any page is an
// error: the caller must then discard everything fn saw.
func (r *reader) paged(ctx context.Context, s search, fn func(*goldap.Entry) error, onPage func()) error {
	cfg := r.s.cfg
	paging := goldap.NewControlPaging(uint32(cfg.PageSize))
	timeLimit := int(cfg.SearchTimeout.D().Seconds())
	n := 0
	count := func(e *goldap.Entry) error {
		n++
		return fn(e)
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return searchError(s.key, s.base, n, err)
		}
		req := goldap.NewSearchRequest(s.base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
			0, timeLimit, false, s.filter, s.attrs, []goldap.Control{paging})
		pctx, cancel := context.WithTimeout(ctx, cfg.SearchTimeout.D())
		res, err := r.c.SearchPage(pctx, req, count)
		cancel()
		if err != nil {
			var me *mapError
			if errors.As(err, &me) {
				return err
			}
			return searchError(s.key, s.base, n, err)
		}
		if len(res.References) > 0 {
			if cfg.References == ReferencesError {
				return &ldapError{
					op:   fmt.Sprintf("search ldap.%s %q (page %d)", s.key, s.base, page),
					err:  fmt.Errorf("the server referred part of the result to %s", strings.Join(res.References, ", ")),
					hint: "entries there would be missing: narrow ldap." + s.key + " to this server's data, or set ldap.references: ignore if those referrals hold no users or groups",
				}
			}
			r.s.log.Debug().Strs("references", res.References).Str("base", s.base).Msg("ignoring search continuation references")
		}
		ctrl, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok {
			return &ldapError{
				op:   fmt.Sprintf("search ldap.%s %q (page %d)", s.key, s.base, page),
				err:  errNoPaging,
				hint: "the server must support paged results (RFC 2696)",
			}
		}
		if onPage != nil {
			onPage()
		}
		if len(ctrl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctrl.Cookie)
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

func (m *attrMap) mask(name string) uint32 {
	if v, ok := m.cache[name]; ok {
		return v
	}
	var v uint32
	for i, n := range m.names {
		if n != "" && strings.EqualFold(n, name) {
			v |= 1 << i
		}
	}
	m.cache[strings.Clone(name)] = v
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
