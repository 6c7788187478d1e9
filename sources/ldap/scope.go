package ldap

import (
	"slices"
	"time"

	"github.com/orgsync/orgsync"
)

// changedScope says which users and groups differ between the state an
// incremental read started from (old) and the one it built (new), by
// comparing the entries themselves rather than trusting which ones the
// server returned. It errs on the side of listing more:
//   - a user is listed (under its old and new key) when any field of its
//     entry differs, or it appeared or vanished;
//   - when any user appeared, vanished or changed its DN, key or
//     disabled flags, every group is listed (its member values resolve
//     differently);
//   - otherwise a group is listed when its entry or member values differ.
//
// It returns nil (the reconciler then diffs everything) when an account
// of the old state expired since (until passed: its Snapshot changes
// without its entry changing).
func changedScope(oldUsers []user, oldGroups []group, users []user, groups []group, until, now time.Time) *orgsync.Scope {
	if !until.IsZero() && !now.Before(until) {
		return nil
	}
	sc := &orgsync.Scope{}
	keys := map[string]bool{}
	addUser := func(k string) {
		if !keys[k] {
			keys[k] = true
			sc.Users = append(sc.Users, k)
		}
	}
	old := make(map[string]*user, len(oldUsers))
	for i := range oldUsers {
		old[oldUsers[i].dn] = &oldUsers[i]
	}
	allGroups := len(oldUsers) != len(users)
	seen := make(map[string]bool, len(users))
	for i := range users {
		u := &users[i]
		seen[u.dn] = true
		o := old[u.dn]
		switch {
		case o == nil:
			addUser(u.id)
			allGroups = true
		case !sameUser(o, u):
			addUser(u.id)
			addUser(o.id)
			if o.id != u.id || o.filterOff != u.filterOff || o.uacOff != u.uacOff || o.held != u.held {
				allGroups = true
			}
		}
	}
	for i := range oldUsers {
		if !seen[oldUsers[i].dn] {
			addUser(oldUsers[i].id)
			allGroups = true
		}
	}
	// A member's document names its manager by key and display name: a
	// changed manager changes the documents of those it manages.
	changedDN := map[string]bool{}
	for i := range users {
		if keys[users[i].id] {
			changedDN[users[i].dn] = true
		}
	}
	for i := range oldUsers {
		if keys[oldUsers[i].id] {
			changedDN[oldUsers[i].dn] = true
		}
	}
	for i := range users {
		if e := users[i].extra; e != nil && changedDN[e.managerDN] {
			addUser(users[i].id)
		}
	}
	gkeys := map[string]bool{}
	addGroup := func(k string) {
		if !gkeys[k] {
			gkeys[k] = true
			sc.Groups = append(sc.Groups, k)
		}
	}
	oldG := make(map[string]*group, len(oldGroups))
	for i := range oldGroups {
		oldG[oldGroups[i].dn] = &oldGroups[i]
		if allGroups {
			addGroup(oldGroups[i].id)
		}
	}
	for i := range groups {
		g := &groups[i]
		o := oldG[g.dn]
		if allGroups || o == nil || o.id != g.id || o.name != g.name || o.readHeld != g.readHeld || !slices.Equal(o.vals, g.vals) {
			addGroup(g.id)
			if o != nil {
				addGroup(o.id)
			}
		}
		delete(oldG, g.dn)
	}
	for _, o := range oldG {
		addGroup(o.id)
	}
	return sc
}

// sameUser compares what the state keeps of an entry, and the enterprise
// attributes when either has them.
func sameUser(a, b *user) bool {
	if a.id != b.id || a.name != b.name || a.email != b.email || a.given != b.given || a.family != b.family ||
		a.display != b.display || a.uid != b.uid || a.expires != b.expires || a.held != b.held ||
		a.filterOff != b.filterOff || a.uacOff != b.uacOff || a.disabled != b.disabled {
		return false
	}
	if a.extra == nil || b.extra == nil {
		return a.extra == b.extra
	}
	return *a.extra == *b.extra
}
