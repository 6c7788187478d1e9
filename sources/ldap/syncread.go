package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// syncUnusable says why this config cannot find deletions by a sync
// refresh ("" when it can), and whether that deserves a warning.
func (r *reader) syncUnusable() (string, bool) {
	c := r.cfg
	if c.Flavor != FlavorOpenLDAP {
		return "flavor " + c.Flavor + " has no RFC 4533 sync refresh", false
	}
	if !strings.EqualFold(c.User.IDAttribute, "entryUUID") {
		return fmt.Sprintf("ldap.user.id_attribute is %s, not entryUUID (a sync refresh names entries by entryUUID)", c.User.IDAttribute), false
	}
	if c.Group.BaseDN != "" && !strings.EqualFold(c.Group.IDAttribute, "entryUUID") {
		return fmt.Sprintf("ldap.group.id_attribute is %s, not entryUUID (a sync refresh names entries by entryUUID)", c.Group.IDAttribute), false
	}
	for _, f := range []struct{ key, filter string }{
		{"user.filter", c.User.Filter}, {"user.disabled_filter", c.User.DisabledFilter}, {"group.filter", c.Group.Filter},
	} {
		if strings.Contains(strings.ToLower(f.filter), "memberof") {
			return fmt.Sprintf("ldap.%s uses memberOf, whose changes do not show in the entry's entryCSN", f.key), true
		}
	}
	return "", false
}

// refresher returns the reader's sync connection, opened on first use to
// the server the wire client reads from.
func (r *reader) refresher(ctx context.Context) (refresher, error) {
	if r.sync == nil {
		c, err := r.s.dialRefresh(ctx, r.url)
		if err != nil {
			return nil, &ldapError{op: "open the sync refresh connection to " + r.url, err: err}
		}
		r.sync = c
	}
	return r.sync, nil
}

// prime gets the cookies the next incremental read refreshes from: a
// refresh of the base entry alone of each search base, before anything
// else is read (a deletion after it is named by the next refresh; one
// before it, already missing from what this read lists, at worst twice).
// A server's refusal is kept as the reason in the state; a failed
// connection fails the read.
func (r *reader) prime(ctx context.Context) (syncState, error) {
	if why, _ := r.syncUnusable(); why != "" {
		return syncState{off: why}, nil
	}
	var ss syncState
	for _, b := range r.syncBases() {
		c, err := r.refresher(ctx)
		if err != nil {
			return syncState{}, err
		}
		res, err := c.Refresh(ctx, b.base, goldap.ScopeBaseObject, "(objectClass=*)", nil)
		if err != nil {
			var refused *refreshRefused
			if errors.As(asRefused(err, "ldap."+b.key+" "+b.base), &refused) {
				return syncState{off: refused.reason, static: refused.code == goldap.LDAPResultUnavailableCriticalExtension}, nil
			}
			return syncState{}, &ldapError{op: fmt.Sprintf("sync refresh of ldap.%s %q", b.key, b.base), err: err}
		}
		*b.cookie(&ss) = res.cookie
	}
	return ss, nil
}

type syncBase struct {
	key, base, filter string
	cookie            func(*syncState) *[]byte
}

func (r *reader) syncBases() []syncBase {
	out := []syncBase{{"user.base_dn", r.cfg.User.BaseDN, r.cfg.User.Filter, func(s *syncState) *[]byte { return &s.users }}}
	if r.cfg.Group.BaseDN != "" {
		out = append(out, syncBase{"group.base_dn", r.cfg.Group.BaseDN, r.cfg.Group.Filter, func(s *syncState) *[]byte { return &s.groups }})
	}
	return out
}

// refreshAll runs the sync refreshes of the users and the groups from
// the stored cookies. A refusal is a *refreshRefused.
func (r *reader) refreshAll(ctx context.Context, prev syncState) (users, groups *refreshed, next syncState, err error) {
	for i, b := range r.syncBases() {
		cookie := *b.cookie(&prev)
		if len(cookie) == 0 {
			return nil, nil, next, &refreshRefused{reason: "no sync cookie of ldap." + b.key + " is stored"}
		}
		c, err := r.refresher(ctx)
		if err != nil {
			return nil, nil, next, err
		}
		res, err := c.Refresh(ctx, b.base, goldap.ScopeWholeSubtree, b.filter, cookie)
		if err != nil {
			if err = asRefused(err, "ldap."+b.key+" "+b.base); errors.As(err, new(*refreshRefused)) {
				return nil, nil, next, err
			}
			return nil, nil, next, &ldapError{op: fmt.Sprintf("sync refresh of ldap.%s %q", b.key, b.base), err: err}
		}
		*b.cookie(&next) = res.cookie
		if i == 0 {
			users = &res
		} else {
			groups = &res
		}
	}
	return users, groups, next, nil
}

// keyless says which stored entry has no key: a sync refresh names
// entries by entryUUID, so one without cannot be told deleted.
func keyless(users []user, groups []group) string {
	for _, u := range users {
		if u.id == "" {
			return fmt.Sprintf("the user %q is held without entryUUID", u.dn)
		}
	}
	for _, g := range groups {
		if g.id == "" {
			return fmt.Sprintf("the group %q is held without entryUUID", g.dn)
		}
	}
	return ""
}

// mergeSynced is the new state of the users (or groups): the stored ones
// in their order, each replaced by its changed entry (by entryUUID, so a
// renamed entry too) or dropped when the refresh names it gone, then the
// changed entries that are new. It counts the entries dropped and says
// whether one was renamed. It merges in place: old is overwritten (an
// entry is written only where one was already read), and out shares its
// array unless new entries do not fit.
func mergeSynced[T any](old, changed []T, id func(*T) string, dn func(*T) string, res *refreshed) (out []T, dropped int, renamed bool) {
	byID := make(map[string]int, len(changed))
	for i := range changed {
		byID[id(&changed[i])] = i
	}
	used := make([]bool, len(changed))
	out = old[:0]
	for i := range old {
		o := &old[i]
		if j, ok := byID[id(o)]; ok {
			renamed = renamed || dn(&changed[j]) != dn(o)
			if !used[j] {
				out = append(out, changed[j]) // may overwrite *o: read above
				used[j] = true
			}
			continue
		}
		if res.gone(id(o)) {
			dropped++
			continue
		}
		if len(out) == i {
			out = out[:i+1] // in its place already: no copy of itself
			continue
		}
		out = append(out, *o)
	}
	for j := range changed {
		if !used[j] {
			out = append(out, changed[j])
		}
	}
	return out, dropped, renamed
}
