package scim

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/orgsync/orgsync"
)

// assemble turns the resources read into a Snapshot: members keyed by
// ExternalID, groups whose Members and Subgroups are ExternalIDs, roles
// from roleMap, and a warning for every entry skipped or ambiguous.
//
// filtered says that user_filter is set, so that group members outside it
// are expected.
func assemble(users []entry[user], groups []entry[scimGroup], roleMap map[string]string, filtered bool) (orgsync.Snapshot, error) {
	snap := orgsync.Snapshot{Members: []orgsync.Member{}, Groups: []orgsync.Group{}}
	warn := func(format string, args ...any) { snap.Warnings = append(snap.Warnings, fmt.Sprintf(format, args...)) }

	keyOf := map[string]string{} // remote user id → ExternalID
	unmatched := 0
	for _, e := range users {
		switch {
		case e.unmatched:
			unmatched++
		case e.skip != "":
			warn("Users #%d%s: skipped: %s", e.pos, describe(e.id, e.val.member.UserName), e.skip)
		default:
			keyOf[e.id] = e.val.member.ExternalID
			snap.Members = append(snap.Members, e.val.member)
		}
	}
	if unmatched > 0 {
		warn("Users: the server sent %d user(s) that do not match scim.user_filter; they were left out (does the server ignore the filter?)", unmatched)
	}
	warnDuplicates(warn, "users", "userName", snap.Members, func(m orgsync.Member) (string, string) {
		return orgsync.Fold(m.UserName), m.ExternalID
	})
	warnDuplicates(warn, "users", "key", snap.Members, func(m orgsync.Member) (string, string) {
		return m.ExternalID, m.UserName
	})

	isGroup := map[string]bool{}
	for _, e := range groups {
		if e.skip == "" {
			isGroup[e.id] = true
		}
	}
	unmatched = 0
	for _, e := range groups {
		switch {
		case e.unmatched:
			unmatched++
			continue
		case e.skip != "":
			warn("Groups #%d%s: skipped: %s", e.pos, describe(e.id, e.val.DisplayName), e.skip)
			continue
		}
		g := orgsync.Group{ExternalID: e.id, DisplayName: e.val.DisplayName}
		seen := map[string]bool{}
		unknown := 0
		for _, m := range e.val.Members {
			v := strings.TrimSpace(m.Value)
			key, isUser := keyOf[v]
			switch {
			case v == "" || seen[v]:
			case strings.EqualFold(m.Type, "Group") || (!isUser && isGroup[v]):
				if isGroup[v] {
					g.Subgroups = append(g.Subgroups, v)
				} else {
					unknown++
				}
			case isUser:
				g.Members = append(g.Members, key)
			default:
				unknown++
			}
			seen[v] = true
		}
		if unknown > 0 {
			hint := ""
			if filtered {
				hint = " (outside scim.user_filter?)"
			}
			warn("group %q: %d member(s) left out: not among the users and groups read%s", g.DisplayName, unknown, hint)
		}
		snap.Groups = append(snap.Groups, g)
	}
	if unmatched > 0 {
		warn("Groups: the server sent %d group(s) that do not match scim.group_filter; they were left out (does the server ignore the filter?)", unmatched)
	}
	warnDuplicates(warn, "groups", "displayName", snap.Groups, func(g orgsync.Group) (string, string) {
		return orgsync.Fold(g.DisplayName), g.ExternalID
	})

	if err := assignRoles(&snap, roleMap, warn); err != nil {
		return orgsync.Snapshot{}, err
	}
	return snap, nil
}

func describe(id, name string) string {
	switch {
	case id != "" && name != "":
		return fmt.Sprintf(" (id %q, %q)", id, name)
	case id != "":
		return fmt.Sprintf(" (id %q)", id)
	}
	return ""
}

// warnDuplicates warns once for every value of key shared by several
// items, naming the items by their other identity.
func warnDuplicates[T any](warn func(string, ...any), what, key string, items []T, id func(T) (string, string)) {
	byKey := map[string][]string{}
	var order []string
	for _, it := range items {
		k, other := id(it)
		if k == "" {
			continue
		}
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], other)
	}
	for _, k := range order {
		if others := byKey[k]; len(others) > 1 {
			warn("%d %s share the %s %q (%s); kept, for the reconciler to report", len(others), what, key, k, strings.Join(quoteAll(others), ", "))
		}
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// assignRoles sets the role of every member of a role-mapped group,
// nested groups included. A member with several roles gets admin if one
// is admin, else the first by name, and a warning. A mapped group that was
// not read is an error: going on would silently take the role away.
func assignRoles(snap *orgsync.Snapshot, roleMap map[string]string, warn func(string, ...any)) error {
	if len(roleMap) == 0 {
		return nil
	}
	roleOf := map[string]string{}
	for name, role := range roleMap {
		roleOf[orgsync.Fold(name)] = strings.TrimSpace(role)
	}
	found := map[string]bool{}
	for _, g := range snap.Groups {
		found[orgsync.Fold(g.DisplayName)] = true
	}
	for _, name := range slices.Sorted(maps.Keys(roleMap)) {
		if !found[orgsync.Fold(name)] {
			return fmt.Errorf("scim.role_map: group %q is not among the groups read from /Groups (with scim.group_filter): %w", name, orgsync.ErrNotFound)
		}
	}
	flat := orgsync.Flatten(snap.Groups)
	roles := map[string][]string{} // member key → roles
	for _, g := range snap.Groups {
		role, ok := roleOf[orgsync.Fold(g.DisplayName)]
		if !ok {
			continue
		}
		for key := range flat[g.ExternalID] {
			if !slices.Contains(roles[key], role) {
				roles[key] = append(roles[key], role)
			}
		}
	}
	for i := range snap.Members {
		m := &snap.Members[i]
		rs := roles[m.ExternalID]
		switch {
		case len(rs) == 0:
		case len(rs) == 1:
			m.Role = rs[0]
		case slices.Contains(rs, orgsync.RoleAdmin):
			m.Role = orgsync.RoleAdmin
		default:
			slices.Sort(rs)
			m.Role = rs[0]
			warn("user %q is in groups mapped to roles %s; %q chosen", m.UserName, strings.Join(quoteAll(rs), ", "), m.Role)
		}
	}
	return nil
}
