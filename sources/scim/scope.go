package scim

import (
	"reflect"

	"github.com/orgsync/orgsync"
)

// changedScope says which users and groups differ between the state an
// incremental read started from (old) and the one it built, comparing the
// resources themselves (the cursor's margin reads some again unchanged).
// It errs on the side of listing more:
//   - a user is listed (under its old and new key) when its resource
//     differs, or it appeared or vanished;
//   - when a user appeared, vanished, or changed its key or whether it is
//     held or left out, every group is listed: group members name users by
//     their provider id, and resolve differently;
//   - so is every group when a group appeared, vanished, or changed
//     whether it is held or left out (member values name groups too);
//   - otherwise a group is listed when its resource differs.
//
// It returns nil (the reconciler then diffs everything) when it cannot
// name what changed: a resource without id, or a changed user without key.
func changedScope(oldUsers []entry[user], oldGroups []entry[scimGroup], users []entry[user], groups []entry[scimGroup]) *orgsync.Scope {
	sc := &orgsync.Scope{}
	ukeys, gkeys := map[string]bool{}, map[string]bool{}
	addUser := func(e *entry[user]) bool {
		if e.unmatched {
			return true // left out of the Snapshot either way
		}
		k := e.val.member.ExternalID
		if k == "" {
			return false
		}
		if !ukeys[k] {
			ukeys[k] = true
			sc.Users = append(sc.Users, k)
		}
		return true
	}
	addGroup := func(k string) {
		if !gkeys[k] {
			gkeys[k] = true
			sc.Groups = append(sc.Groups, k)
		}
	}
	old := make(map[string]*entry[user], len(oldUsers))
	for i := range oldUsers {
		if oldUsers[i].id == "" {
			return nil
		}
		old[oldUsers[i].id] = &oldUsers[i]
	}
	allGroups := len(oldUsers) != len(users)
	seen := make(map[string]bool, len(users))
	for i := range users {
		u := &users[i]
		if u.id == "" {
			return nil
		}
		seen[u.id] = true
		o := old[u.id]
		switch {
		case o == nil:
			allGroups = true
			if !addUser(u) {
				return nil
			}
		case !sameEntry(*o, *u):
			if !addUser(u) || !addUser(o) {
				return nil
			}
			if o.val.member.ExternalID != u.val.member.ExternalID || o.skip != u.skip || o.unmatched != u.unmatched {
				allGroups = true
			}
		}
	}
	for i := range oldUsers {
		if !seen[oldUsers[i].id] {
			allGroups = true
			if !addUser(&oldUsers[i]) {
				return nil
			}
		}
	}
	oldG := make(map[string]*entry[scimGroup], len(oldGroups))
	for i := range oldGroups {
		if oldGroups[i].id == "" {
			return nil
		}
		oldG[oldGroups[i].id] = &oldGroups[i]
	}
	// A member value naming a group resolves by the groups read (and by
	// which are held): a group appearing, vanishing or held changes the
	// groups naming it without their resources changing.
	allGroups = allGroups || len(oldGroups) != len(groups)
	for i := range groups {
		g := &groups[i]
		if g.id == "" {
			return nil
		}
		if o := oldG[g.id]; o == nil || o.skip != g.skip || o.unmatched != g.unmatched {
			allGroups = true
		}
	}
	for i := range groups {
		g := &groups[i]
		if o := oldG[g.id]; allGroups || !sameEntry(*o, *g) {
			addGroup(g.id)
		}
		delete(oldG, g.id)
	}
	for id := range oldG {
		addGroup(id)
	}
	return sc
}

// sameEntry compares two entries but for where they were read.
func sameEntry[T any](a, b entry[T]) bool {
	a.pos, a.page, b.pos, b.page = 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}
