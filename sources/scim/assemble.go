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
// from roleMap, entries that cannot be used held (HeldUsers, HeldGroups),
// and a warning for every entry ambiguous or left out by a filter. An
// entry naming nothing (neither key nor name) is an error, and so is a
// role_map group that is held.
//
// filtered says that user_filter is set, so that group members outside it
// are expected.
func assemble(users []entry[user], groups []entry[scimGroup], roleMap map[string]string, filtered bool) (orgsync.Snapshot, error) {
	snap := orgsync.Snapshot{Members: []orgsync.Member{}, Groups: []orgsync.Group{}}
	warn := func(format string, args ...any) { snap.Warnings = append(snap.Warnings, fmt.Sprintf(format, args...)) }

	keyOf := map[string]string{} // remote user id → ExternalID
	heldUser := map[string]bool{}
	unmatched := 0
	for _, e := range users {
		m := &e.val.member
		switch {
		case e.unmatched:
			unmatched++
		case e.skip != "":
			ref := fmt.Sprintf("Users #%d%s", e.pos, describe(e.id, m.UserName))
			if m.ExternalID == "" && m.UserName == "" {
				return orgsync.Snapshot{}, fmt.Errorf("%s: %s, and it has no key or user name: it names no member, so none can be kept for it; nothing was synced: %w",
					ref, e.skip, orgsync.ErrInvalid)
			}
			h := orgsync.HeldEntry{Key: m.ExternalID, Name: m.UserName, Email: m.Email(), Ref: ref, Reason: e.skip}
			if m.Status == orgsync.StatusDeprovisioned {
				h.Status = m.Status // active:false was read: suspended all the same
			}
			snap.HeldUsers = append(snap.HeldUsers, h)
			if e.id != "" {
				heldUser[e.id] = true
			}
		default:
			keyOf[e.id] = m.ExternalID
			snap.Members = append(snap.Members, *m)
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

	isGroup, heldGroup := map[string]bool{}, map[string]string{} // remote group id → held reason
	hold := func(e entry[scimGroup], reason string) error {
		ref := fmt.Sprintf("Groups #%d%s", e.pos, describe(e.id, e.val.DisplayName))
		if e.id == "" && e.val.DisplayName == "" {
			return fmt.Errorf("%s: %s, and it has no id or displayName: it names no group, so none can be kept for it; nothing was synced: %w",
				ref, reason, orgsync.ErrInvalid)
		}
		snap.HeldGroups = append(snap.HeldGroups, orgsync.HeldEntry{Key: e.id, Name: e.val.DisplayName, Ref: ref, Reason: reason})
		if e.id != "" {
			heldGroup[e.id] = reason
		}
		return nil
	}
	var usable []entry[scimGroup]
	unmatched = 0
	for _, e := range groups {
		switch {
		case e.unmatched:
			unmatched++
		case e.skip != "":
			if err := hold(e, e.skip); err != nil {
				return orgsync.Snapshot{}, err
			}
		default:
			isGroup[e.id] = true
			usable = append(usable, e)
		}
	}
	if unmatched > 0 {
		warn("Groups: the server sent %d group(s) that do not match scim.group_filter; they were left out (does the server ignore the filter?)", unmatched)
	}
	for _, e := range usable {
		g := orgsync.Group{ExternalID: e.id, DisplayName: e.val.DisplayName}
		seen := map[string]bool{}
		unknown := 0
		for _, m := range e.val.Members {
			v := m.Value
			key, isUser := keyOf[v]
			_, heldSub := heldGroup[v]
			switch {
			case seen[v]:
			case strings.EqualFold(m.Type, "Group") || (!isUser && (isGroup[v] || heldSub)):
				// A held subgroup is named too: the group is held for it.
				if isGroup[v] || heldSub {
					g.Subgroups = append(g.Subgroups, v)
				} else {
					unknown++
				}
			case isUser:
				g.Members = append(g.Members, key)
			case heldUser[v]:
				// Held: its memberships are kept as they are.
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
	holdNesting(&snap, heldGroup)
	warnDuplicates(warn, "groups", "displayName", snap.Groups, func(g orgsync.Group) (string, string) {
		return orgsync.Fold(g.DisplayName), g.ExternalID
	})

	if err := assignRoles(&snap, roleMap, warn); err != nil {
		return orgsync.Snapshot{}, err
	}
	return snap, nil
}

// holdNesting moves the groups that nest a held group (directly or
// through others) to HeldGroups: their flattened members, and the roles
// role_map gives through them, cannot be known.
func holdNesting(snap *orgsync.Snapshot, held map[string]string) {
	for changed := len(held) > 0; changed; {
		changed = false
		kept := snap.Groups[:0]
		for _, g := range snap.Groups {
			sub := ""
			for _, s := range g.Subgroups {
				if _, ok := held[s]; ok {
					sub = s
					break
				}
			}
			if sub == "" {
				kept = append(kept, g)
				continue
			}
			reason := fmt.Sprintf("nests the held group %q", sub)
			snap.HeldGroups = append(snap.HeldGroups, orgsync.HeldEntry{Key: g.ExternalID, Name: g.DisplayName, Ref: fmt.Sprintf("Groups (id %q)", g.ExternalID), Reason: reason})
			held[g.ExternalID] = reason
			changed = true
		}
		snap.Groups = kept
	}
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
	held := map[string]orgsync.HeldEntry{}
	for _, h := range snap.HeldGroups {
		held[orgsync.Fold(h.Name)] = h
	}
	for _, name := range slices.Sorted(maps.Keys(roleMap)) {
		if h, ok := held[orgsync.Fold(name)]; ok {
			return fmt.Errorf("scim.role_map: group %q is held (%s: %s): the roles of its members cannot be known; nothing was synced: %w", name, h.Ref, h.Reason, orgsync.ErrInvalid)
		}
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
