package ldap

import "fmt"

// link indexes the users by DN (and uid), derives whether each is
// disabled, and resolves every group's member values into users and
// candidate member groups. It runs on what one read fetched, or on the
// state an incremental read merged: the Snapshot is computed from either
// the same way.
func (r *reader) link() {
	byIndex := r.usersAsStored()
	r.asStored = byIndex
	// The users of the kept state, in its order: its index by DN holds.
	keptDN := byIndex && r.keptByDN != nil
	if keptDN {
		r.byDN = r.keptByDN
	} else {
		r.byDN = make(map[string]int32, len(r.users))
	}
	if r.uidStyle {
		r.byUID = make(map[string]int32, len(r.users))
	}
	for i := range r.users {
		usr := &r.users[i]
		usr.disabled = usr.filterOff || usr.uacOff
		if usr.expires != "" && !usr.disabled {
			if exp, ok, err := fileTime(usr.expires); err == nil && ok && !r.now.Before(exp) {
				usr.disabled = true
			}
		}
		if !keptDN {
			if _, dup := r.byDN[usr.dn]; !dup {
				r.byDN[usr.dn] = int32(i)
			}
		}
		if r.byUID != nil && usr.uid != "" {
			if j, dup := r.byUID[usr.uid]; !dup {
				r.byUID[usr.uid] = int32(i)
			} else if j >= 0 {
				r.byUID[usr.uid] = -1 // ambiguous: a group with a memberUid naming it is held
				r.warn("users %q and %q share the %s %q: groups with a memberUid naming it are held (ldap.user.uid_attribute)",
					r.users[j].dn, usr.dn, r.cfg.User.UIDAttribute, usr.uid)
			}
		}
	}
	for i := range r.groups {
		g := &r.groups[i]
		g.held, g.users, g.other, g.subs = g.readHeld, nil, nil, nil
		r.resolveMembers(g, byIndex)
	}
}

// usersAsStored reports whether the users are the stored state's, in its
// order (the same DN at every index): then a value of a stored group that
// named a user there names the same one now (group.idx).
func (r *reader) usersAsStored() bool {
	b := r.stored
	if b == nil || r.uidStyle || len(r.users) != len(b.users) {
		return false
	}
	for i := range r.users {
		if r.users[i].dn != b.users[i].dn {
			return false
		}
	}
	return true
}

// resolveMembers files a group's member values as users or, when nesting
// matters, as candidate group DNs.
func (r *reader) resolveMembers(g *group, byIndex bool) {
	keepOther := r.cfg.Group.Nested && !r.uidStyle
	idx := g.idx
	if !byIndex || g.at == 0 || len(idx) != len(g.vals) {
		idx = nil
	}
	for k, v := range g.vals {
		if idx != nil && idx[k] >= 0 {
			g.users = append(g.users, idx[k])
			continue
		}
		if r.uidStyle {
			i, ok := r.byUID[v]
			switch {
			case ok && i >= 0:
				g.users = append(g.users, i)
			case ok && g.held == "":
				// Several users have this uid: dropping the value would
				// take the member out of the group.
				g.held = fmt.Sprintf("%s value %q names several users (ldap.user.uid_attribute)", r.cfg.Group.MemberAttribute, v)
			}
			continue
		}
		if i, ok := r.byDN[v]; ok {
			g.users = append(g.users, i)
		} else if keepOther {
			g.other = append(g.other, v)
		}
	}
}
