package ldap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// wkDeletedObjects is the well-known GUID of a naming context's Deleted
// Objects container (its name is localised; <WKGUID=…,NC> finds it).
const wkDeletedObjects = "18E2EA80684F11D2B9AA00C04F79F805"

// minTombstone is the shortest tombstone lifetime AD allows: a deleted
// object is kept (and listed under Deleted Objects) at least that long. A
// cursor saved longer ago may have missed deletions whose tombstones are
// gone already.
const minTombstone = 48 * time.Hour

// maxRegroup is how many groups are read again one by one (their member
// values name an entry that was deleted, renamed or moved in); past it
// all groups are read again in one search.
const maxRegroup = 50

// backlinkFilter matches AD back-link attributes in a filter: the server
// computes them from other entries' links, so a change of them does not
// move the entry's uSNChanged (memberOf changes when a group's member
// does), and an entry entering or leaving a scope by them shows no change.
var backlinkFilter = regexp.MustCompile(`(?i)\(\s*(memberOf|directReports|managedObjects|masteredBy|[a-z0-9-]+BL)\s*(:[^=()]*)?[~<>]?=`)

func showDeleted() goldap.Control {
	return goldap.NewControlString(goldap.ControlTypeMicrosoftShowDeleted, true, "")
}

// adSince is readSince for Active Directory without the keys-only
// listing: deletions are read from the Deleted Objects container (Show
// Deleted control), entries that left the scope (moved out of the base DN,
// or no longer matching the filter) from a keys-only search of the whole
// naming context for what changed since the cursor. See the package doc,
// "Deletions on Active Directory". why is set (and nothing else) when
// this way cannot be used: the caller then lists every key.
func (r *reader) adSince(ctx context.Context, prev orgsync.Cursor, oldUsers []user, oldGroups []group) (snap orgsync.Snapshot, read orgsync.Read, state []byte, why string, err error) {
	read.Kind = orgsync.ReadIncremental
	if why = r.adUnsupported(prev, oldUsers, oldGroups); why != "" {
		return snap, read, nil, why, nil
	}
	nc, container, why, err := r.adDeletedContainer(ctx)
	if err != nil || why != "" {
		return snap, read, nil, why, err
	}
	if err := r.adProbe(ctx, oldUsers); err != nil {
		return snap, read, nil, "", err
	}
	if err := r.readDisabled(ctx); err != nil {
		return snap, read, nil, "", err
	}
	since := fmt.Sprintf("(uSNChanged>=%s)", goldap.EscapeFilter(prev.Position))
	// Deleted first, then what changed anywhere, then the scope's changed
	// entries: an entry changed in between is then read as changed (and
	// again next time), never dropped as gone.
	deleted, err := r.guids(ctx, search{key: "user.base_dn", base: container, filter: "(&(isDeleted=TRUE)" + since + ")",
		attrs: []string{"objectGUID"}, controls: []goldap.Control{showDeleted()}, anyRefs: true})
	if err != nil {
		return snap, read, nil, "", err
	}
	touched, err := r.guids(ctx, search{key: "user.base_dn", base: nc, filter: since, attrs: []string{"objectGUID"}, anyRefs: true})
	if err != nil {
		return snap, read, nil, "", err
	}
	read.Listed = len(deleted) + len(touched)
	u := r.cfg.User
	changedUsers, err := r.collectUsers(ctx, search{key: "user.base_dn", base: u.BaseDN, filter: "(&" + u.Filter + since + ")", attrs: r.userAttrs.request()})
	if err != nil {
		return snap, read, nil, "", err
	}
	read.Changed = len(changedUsers)
	var mv moves
	users, err := mergeByID(oldUsers, changedUsers, func(x *user) (string, string) { return x.dn, x.id }, deleted, touched, &mv)
	if err != nil {
		return snap, read, nil, "", err
	}
	if r.disabled != nil {
		for i := range users {
			_, users[i].filterOff = r.disabled[users[i].dn]
		}
	}
	var groups []group
	if g := r.cfg.Group; g.BaseDN != "" {
		changed, err := r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: "(&" + g.Filter + since + ")", attrs: r.groupAttrs.request()})
		if err != nil {
			return snap, read, nil, "", err
		}
		read.Changed += len(changed)
		byDN := make(map[string]group, len(changed))
		for _, x := range changed {
			byDN[x.dn] = x
		}
		if groups, err = mergeByID(oldGroups, byDN, func(x *group) (string, string) { return x.dn, x.id }, deleted, touched, &mv); err != nil {
			return snap, read, nil, "", err
		}
		n, all, err := r.regroup(ctx, groups, byDN, mv)
		if err != nil {
			return snap, read, nil, "", err
		}
		read.Changed += n
		if all != nil {
			groups = all
		}
	}
	read.Reason = fmt.Sprintf("%d entries changed since the cursor; %d deleted objects and %d changed keys of the naming context checked (AD deleted objects, no keys listing)",
		read.Changed, len(deleted), len(touched))
	snap, read, state, err = r.finish(read, users, groups, syncState{}, prev.Until)
	return snap, read, state, "", err
}

// adProbe checks that the bind user can read uSNChanged (a filter on an
// attribute it cannot read matches nothing, which would read as "nothing
// changed") on a stored user that still exists, or else on user.base_dn.
func (r *reader) adProbe(ctx context.Context, oldUsers []user) error {
	dns := make([]string, 0, 6)
	for i := 0; i < len(oldUsers) && i < 5; i++ {
		dns = append(dns, oldUsers[i].dn)
	}
	for _, dn := range append(dns, r.cfg.User.BaseDN) {
		e, err := r.base(ctx, dn, []string{"uSNChanged", "objectGUID"})
		if err != nil {
			return err
		}
		switch {
		case len(e["usnchanged"]) > 0:
			return nil
		case len(e) > 0:
			return &staleError{reason: fmt.Sprintf("the bind user cannot read uSNChanged of %q: changes cannot be told apart", dn)}
		}
		// Gone (deleted or moved since): try the next one.
	}
	return &staleError{reason: fmt.Sprintf("the bind user cannot read uSNChanged of ldap.user.base_dn %q: changes cannot be told apart", r.cfg.User.BaseDN)}
}

// adUnsupported says why the stored state cannot be followed by
// objectGUID alone ("" when it can).
func (r *reader) adUnsupported(prev orgsync.Cursor, oldUsers []user, oldGroups []group) string {
	u, g := r.cfg.User, r.cfg.Group
	switch {
	case !r.guidUser:
		return fmt.Sprintf("user.id_attribute is %s, not objectGUID (deleted objects keep their objectGUID only)", u.IDAttribute)
	case g.BaseDN != "" && !r.guidGroup:
		return fmt.Sprintf("group.id_attribute is %s, not objectGUID (deleted objects keep their objectGUID only)", g.IDAttribute)
	case r.uidStyle || r.uniqueStyle:
		return fmt.Sprintf("group.member_attribute is %s: only member values are kept up by the DC when an entry is deleted or moved", g.MemberAttribute)
	case backlinkFilter.MatchString(u.Filter) || backlinkFilter.MatchString(g.Filter):
		return "user.filter or group.filter tests a back-link attribute (memberOf): entries enter and leave the scope by it without a change of their own"
	case !prev.SavedAt.IsZero() && r.now.Sub(prev.SavedAt) > minTombstone:
		return fmt.Sprintf("the cursor was saved %s ago, longer than the shortest tombstone lifetime (%s): deleted objects may be gone", r.now.Sub(prev.SavedAt).Round(time.Minute), minTombstone)
	}
	for i := range oldUsers {
		if oldUsers[i].id == "" {
			return fmt.Sprintf("user %q is held without an objectGUID", oldUsers[i].dn)
		}
	}
	for i := range oldGroups {
		if oldGroups[i].id == "" {
			return fmt.Sprintf("group %q is held without an objectGUID", oldGroups[i].dn)
		}
	}
	return ""
}

// adDeletedContainer finds the naming context holding the user and group
// bases and checks that its Deleted Objects container can be read with the
// Show Deleted control. A refusal (the control, access to the container)
// is why, not an error.
func (r *reader) adDeletedContainer(ctx context.Context) (nc, container, why string, err error) {
	root, err := r.base(ctx, "", []string{"namingContexts"})
	if err != nil {
		return "", "", "", err
	}
	under := func(dn, n string) bool { return dn == n || strings.HasSuffix(dn, ","+n) }
	ub, gb := normDN(r.cfg.User.BaseDN), normDN(r.cfg.Group.BaseDN)
	for _, v := range root["namingcontexts"] {
		if n := normDN(v); under(ub, n) && (gb == "" || under(gb, n)) && len(v) > len(nc) {
			nc = v
		}
	}
	if nc == "" {
		return "", "", "no naming context of the DC holds both ldap.user.base_dn and ldap.group.base_dn", nil
	}
	req := wire.SearchRequest{Base: "<WKGUID=" + wkDeletedObjects + "," + nc + ">", Scope: goldap.ScopeBaseObject,
		Filter: "(objectClass=*)", Attrs: []string{"1.1"}, Controls: []goldap.Control{showDeleted()},
		TimeLimit: int(r.cfg.SearchTimeout.TimeDuration().Seconds())}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.SearchTimeout.TimeDuration())
	defer cancel()
	_, err = r.c.Search(pctx, req, func(e *wire.Entry) error {
		container = string(e.DN)
		return nil
	})
	var le *goldap.Error
	switch {
	case errors.As(err, &le):
		return "", "", fmt.Sprintf("the Deleted Objects container of %q cannot be read with the Show Deleted control: %v", nc, err), nil
	case err != nil:
		return "", "", "", &ldapError{op: fmt.Sprintf("read the Deleted Objects container of %q", nc), err: err}
	case container == "":
		return "", "", fmt.Sprintf("the bind user does not see the Deleted Objects container of %q", nc), nil
	}
	// A bind user without the right to list the container sees it, but
	// none of the deleted objects in it, and no error says so: only a
	// deleted object seen tells that they can be seen. (A domain where
	// nothing was ever deleted lists its keys until something is.)
	req = wire.SearchRequest{Base: container, Scope: goldap.ScopeSingleLevel, Filter: "(isDeleted=TRUE)", Attrs: []string{"1.1"},
		Controls: []goldap.Control{showDeleted()}, Paging: &wire.Paging{Size: 1}, TimeLimit: req.TimeLimit}
	seen := false
	_, err = r.c.Search(pctx, req, func(*wire.Entry) error {
		seen = true
		return nil
	})
	switch {
	case errors.As(err, &le):
		return "", "", fmt.Sprintf("the deleted objects of %q cannot be listed with the Show Deleted control: %v", container, err), nil
	case err != nil:
		return "", "", "", &ldapError{op: fmt.Sprintf("list the deleted objects of %q", container), err: err}
	case !seen:
		return "", "", fmt.Sprintf("the bind user sees no deleted object in %q: it may lack the right to list them (or nothing was ever deleted)", container), nil
	}
	return nc, container, "", nil
}

// guids runs the keys-only search s and returns the objectGUIDs it found.
func (r *reader) guids(ctx context.Context, s search) (map[string]bool, error) {
	out := map[string]bool{}
	err := r.paged(ctx, s, func(e *wire.Entry) error {
		for _, a := range e.Attrs {
			if len(a.Values) > 0 && strings.EqualFold(string(a.Name), "objectGUID") {
				if id, err := guidString(a.Values[0]); err == nil {
					out[id] = true
				}
			}
		}
		return nil
	}, nil)
	return out, err
}

// moves collects what a merge by objectGUID saw move: the DNs member
// values may still name although the entry is no longer there (deleted,
// renamed, moved or out of scope), and the DNs of entries new to the
// state (created, moved in, or now matching the filter).
type moves struct {
	gone, entered []string
}

// mergeByID returns the stored entries in their order, each replaced by
// its changed version (same objectGUID, whatever its DN now), without
// those deleted or changed out of scope (touched but not among the
// changed), then the changed entries new to the state, by DN.
func mergeByID[T any](old []T, changed map[string]T, key func(*T) (dn, id string), deleted, touched map[string]bool, mv *moves) ([]T, error) {
	byID := make(map[string]*T, len(changed))
	for dn, x := range changed {
		_, id := key(&x)
		if id == "" {
			return nil, &staleError{reason: fmt.Sprintf("%q changed and has no objectGUID", dn)}
		}
		x := x
		byID[id] = &x
	}
	out := make([]T, 0, len(old)+len(changed))
	used := make(map[string]bool, len(byID))
	for i := range old {
		dn, id := key(&old[i])
		if c, ok := byID[id]; ok {
			if cdn, _ := key(c); cdn != dn {
				mv.gone = append(mv.gone, dn)
			}
			out = append(out, *c)
			used[id] = true
			continue
		}
		if deleted[id] || touched[id] {
			mv.gone = append(mv.gone, dn)
			continue
		}
		out = append(out, old[i])
	}
	start := len(out)
	for id, c := range byID {
		if !used[id] {
			out = append(out, *c)
		}
	}
	added := out[start:]
	slices.SortFunc(added, func(a, b T) int { x, _ := key(&a); y, _ := key(&b); return cmp.Compare(x, y) })
	for i := range added {
		dn, _ := key(&added[i])
		mv.entered = append(mv.entered, dn)
	}
	return out, nil
}

// regroup reads again the unchanged groups whose member values the DC
// rewrote without moving their uSNChanged (Samba does not when a member
// is deleted; no DC does when a member is renamed or moved): those naming
// a gone or newly entered DN, and those an entered entry's memberOf names.
// It replaces them in groups and returns how many it read; all is set
// instead when the groups are to be replaced as a whole (so many were
// concerned that every group was read again, or one is gone).
func (r *reader) regroup(ctx context.Context, groups []group, changed map[string]group, mv moves) (n int, all []group, err error) {
	if len(mv.gone) == 0 && len(mv.entered) == 0 {
		return 0, nil, nil
	}
	g := r.cfg.Group
	readAll := func() (int, []group, error) {
		all, err := r.collectGroups(ctx, search{key: "group.base_dn", base: g.BaseDN, filter: g.Filter, attrs: r.groupAttrs.request()})
		return len(all), all, err
	}
	if len(mv.entered) > maxFetched {
		return readAll()
	}
	named := make(map[string]bool, len(mv.gone)+len(mv.entered))
	for _, dn := range mv.gone {
		named[dn] = true
	}
	for _, dn := range mv.entered {
		named[dn] = true
	}
	affected := map[string]bool{}
	for _, dn := range mv.entered {
		e, err := r.base(ctx, dn, []string{"memberOf"})
		if err != nil {
			return 0, nil, err
		}
		for k, vs := range e {
			if strings.HasPrefix(k, "memberof;range=") {
				return readAll()
			}
			for _, v := range vs {
				affected[normDN(v)] = true
			}
		}
	}
	var todo []int
	for i := range groups {
		if _, ok := changed[groups[i].dn]; ok {
			continue
		}
		hit := affected[groups[i].dn]
		for _, v := range groups[i].vals {
			hit = hit || named[v]
		}
		if hit {
			todo = append(todo, i)
		}
	}
	if len(todo) > maxRegroup {
		return readAll()
	}
	gone := map[int]bool{} // no longer in scope, although unchanged: read in between
	for _, i := range todo {
		got, err := r.collectGroups(ctx, search{key: "group.base_dn", base: groups[i].dn, filter: g.Filter, attrs: r.groupAttrs.request()})
		if err != nil {
			return 0, nil, err
		}
		gone[i] = true
		for _, x := range got {
			if x.dn == groups[i].dn {
				groups[i] = x
				delete(gone, i)
			}
		}
	}
	if len(gone) > 0 {
		kept := make([]group, 0, len(groups))
		for i := range groups {
			if !gone[i] {
				kept = append(kept, groups[i])
			}
		}
		return len(todo), kept, nil
	}
	return len(todo), nil, nil
}
