package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

type key struct{}

func decodeKey(raw json.RawMessage) entry[key] {
	obj, err := decodeObject(raw)
	if err != nil {
		return entry[key]{skip: "not a JSON object"}
	}
	return entry[key]{id: scalar(field(obj, "id"))}
}

func and(a, b string) string {
	if a == "" {
		return b
	}
	return "(" + a + ") and " + b
}

// readSince rebuilds the Snapshot from prev's state, the resources
// modified since prev.Position and the keys-only listings. state is nil
// when nothing changed.
func (s *Source) readSince(ctx context.Context, req reconciler.ReadRequest) (orgsync.Snapshot, orgsync.Read, []byte, error) {
	prev, skipUnchanged := req.Prev, req.SkipUnchanged
	read := orgsync.Read{Kind: orgsync.ReadIncremental}
	oldUsers, oldGroups, err := decodeState(prev.State)
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	since := fmt.Sprintf("meta.lastModified gt %q", prev.Position)
	userKeys, err := listAttrs(ctx, s, "Users", s.cfg.UserFilter, "id", s.cfg.PageSize, decodeKey, nil)
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	changedUsers, err := list(ctx, s, "Users", and(s.cfg.UserFilter, since), s.cfg.PageSize, s.decodeUser, nil)
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	users, err := merge(userKeys, changedUsers, oldUsers, "user")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, err
	}
	// The cursor's margin reads some resources again as they were.
	read.Listed, read.Changed = len(userKeys), differing(changedUsers, oldUsers)
	gone := moved(oldUsers, userKeys)
	if read.Changed > 0 || gone {
		req.Changed() // a Snapshot will be returned: the store may be read alongside
	}
	var groups []entry[scimGroup]
	if !s.cfg.SkipGroups {
		groupKeys, err := listAttrs(ctx, s, "Groups", s.cfg.GroupFilter, "id", s.cfg.GroupPageSize, decodeKey, nil)
		if err != nil {
			return orgsync.Snapshot{}, read, nil, err
		}
		read.Listed += len(groupKeys)
		if gone || moved(oldGroups, groupKeys) {
			// Removing a user or group may edit the groups naming it
			// without touching their meta.lastModified: read them again.
			gone = true
			if groups, err = list(ctx, s, "Groups", s.cfg.GroupFilter, s.cfg.GroupPageSize, s.decodeGroup, nil); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
		} else {
			changed, err := list(ctx, s, "Groups", and(s.cfg.GroupFilter, since), s.cfg.GroupPageSize, s.decodeGroup, nil)
			if err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
			if err := s.completeGroups(ctx, changed); err != nil {
				return orgsync.Snapshot{}, read, nil, fmt.Errorf("scim: source %q: %w", s.name, err)
			}
			read.Changed += differing(changed, oldGroups)
			if groups, err = merge(groupKeys, changed, oldGroups, "group"); err != nil {
				return orgsync.Snapshot{}, read, nil, err
			}
		}
		if gone {
			if err := s.completeGroups(ctx, groups); err != nil {
				return orgsync.Snapshot{}, read, nil, fmt.Errorf("scim: source %q: %w", s.name, err)
			}
			read.Changed += differing(groups, oldGroups)
		}
	}
	unchanged := read.Changed == 0 && !gone && len(users) == len(oldUsers)
	if unchanged && skipUnchanged {
		read.Reason, read.Unchanged = "nothing changed since the cursor", true
		return orgsync.Snapshot{}, read, nil, nil
	}
	read.Scope = changedScope(oldUsers, oldGroups, users, groups)
	for i := range users {
		users[i].pos = i + 1
	}
	for i := range groups {
		groups[i].pos = i + 1
	}
	snap, err := assemble(users, groups, s.cfg.RoleMap, s.cfg.UserFilter != "")
	if err != nil {
		return orgsync.Snapshot{}, read, nil, fmt.Errorf("scim: source %q: %w", s.name, err)
	}
	if unchanged {
		read.Reason = "nothing changed since the cursor"
		return snap, read, nil, nil
	}
	read.Reason = fmt.Sprintf("%d resources changed since the cursor; %d keys listed for deletions", read.Changed, read.Listed)
	state, err := encodeState(users, groups)
	return snap, read, state, err
}

// merge returns the listed entries in the listing's order: the changed
// one where there is one, the stored one otherwise. A listed entry in
// neither (or without an id) fails the incremental read.
func merge[T any](keys []entry[key], changed, old []entry[T], what string) ([]entry[T], error) {
	byID := make(map[string]entry[T], len(old)+len(changed))
	for _, e := range old {
		byID[e.id] = e
	}
	for _, e := range changed {
		byID[e.id] = e
	}
	out := make([]entry[T], 0, len(keys))
	for _, k := range keys {
		e, ok := byID[k.id]
		if k.id == "" || !ok {
			return nil, &staleError{fmt.Sprintf("the %s %q is listed, but neither changed since the cursor nor stored", what, k.id)}
		}
		out = append(out, e)
	}
	return out, nil
}

// differing counts the entries of changed that are new or not as stored
// (positions aside).
func differing[T any](changed, old []entry[T]) int {
	byID := make(map[string]entry[T], len(old))
	for _, e := range old {
		byID[e.id] = e
	}
	n := 0
	for _, e := range changed {
		o, ok := byID[e.id]
		e.pos, e.page, o.pos, o.page = 0, 0, 0, 0
		if !ok || !reflect.DeepEqual(e, o) {
			n++
		}
	}
	return n
}

// moved reports whether a stored entry is no longer listed.
func moved[T any](old []entry[T], keys []entry[key]) bool {
	listed := make(map[string]bool, len(keys))
	for _, k := range keys {
		listed[k.id] = true
	}
	for _, e := range old {
		if !listed[e.id] {
			return true
		}
	}
	return false
}
