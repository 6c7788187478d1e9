package reconciler

import (
	"fmt"

	"github.com/orgsync/orgsync"
)

// diffGroups plans group_create, group_update, group_delete, member_add and
// member_remove for the groups opts.Owner owns. It runs after diffUsers.
func (d *differ) diffGroups(desired, observed []orgsync.Group) {
	owned := make(map[string]*orgsync.Group, len(observed))
	byName := make(map[string][]*orgsync.Group, len(observed))
	for i := range observed {
		g := &observed[i]
		byName[orgsync.Fold(g.DisplayName)] = append(byName[orgsync.Fold(g.DisplayName)], g)
		if g.Owner == d.opts.Owner && g.ExternalID != "" {
			owned[g.ExternalID] = g
		}
	}

	keys := make(map[string]int, len(desired))
	names := make(map[string]int, len(desired))
	for i := range desired {
		keys[desired[i].ExternalID]++
		names[orgsync.Fold(desired[i].DisplayName)]++
	}
	// Nesting only follows groups whose key is unambiguous.
	unique := make([]orgsync.Group, 0, len(desired))
	for i := range desired {
		if keys[desired[i].ExternalID] == 1 {
			unique = append(unique, desired[i])
		}
	}
	flat := orgsync.Flatten(unique)

	heldGroups := map[string]bool{}
	seen := make(map[string]bool, len(desired))
	groupConflict := func(g *orgsync.Group, format string, args ...any) {
		d.plan.Conflicts = append(d.plan.Conflicts, orgsync.Conflict{
			Key: g.ExternalID, Reason: fmt.Sprintf("group %q: ", g.DisplayName) + fmt.Sprintf(format, args...),
		})
		heldGroups[g.ExternalID] = true
	}
	for i := range desired {
		g := &desired[i]
		have := owned[g.ExternalID]
		switch {
		case g.ExternalID == "":
			groupConflict(g, "no external id")
		case g.DisplayName == "":
			groupConflict(g, "no display name")
		case keys[g.ExternalID] > 1:
			groupConflict(g, "external id appears %d times in the source", keys[g.ExternalID])
		case names[orgsync.Fold(g.DisplayName)] > 1:
			groupConflict(g, "display name appears %d times in the source", names[orgsync.Fold(g.DisplayName)])
		default:
			if h := groupNameHolder(byName[orgsync.Fold(g.DisplayName)], have); h != nil {
				if h.Owner == d.opts.Owner {
					groupConflict(g, "display name still held by another group of this source (it is deleted first; retried next run)")
				} else {
					groupConflict(g, "display name belongs to a group %s", describeOwner(h.Owner))
				}
				continue
			}
			seen[g.ExternalID] = true
			d.diffGroup(g, have, flat[g.ExternalID])
		}
	}
	for key, g := range owned {
		if !seen[key] && !heldGroups[key] {
			d.plan.Changes = append(d.plan.Changes, orgsync.Change{
				Action: orgsync.ActionGroupDelete, GroupName: g.DisplayName, GroupID: g.ID,
				Reason: "gone from the source",
			})
		}
	}
}

func groupNameHolder(gs []*orgsync.Group, self *orgsync.Group) *orgsync.Group {
	for _, g := range gs {
		if g != self {
			return g
		}
	}
	return nil
}

// diffGroup plans one desired group: create or rename it, then make its
// members the flattened desired members, leaving frozen and foreign members
// alone.
func (d *differ) diffGroup(g *orgsync.Group, have *orgsync.Group, members map[string]struct{}) {
	ref := orgsync.Change{GroupName: g.DisplayName}
	switch {
	case have == nil:
		ref.GroupKey = g.ExternalID
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionGroupCreate, GroupName: g.DisplayName, GroupKey: g.ExternalID,
			Group: &orgsync.Group{Org: d.opts.Org, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Owner: d.opts.Owner},
		})
	default:
		ref.GroupID = have.ID
		if have.DisplayName != g.DisplayName {
			d.plan.Changes = append(d.plan.Changes, orgsync.Change{
				Action: orgsync.ActionGroupUpdate, GroupName: g.DisplayName, GroupID: have.ID,
				Fields: map[string]orgsync.FieldChange{"display_name": {From: have.DisplayName, To: g.DisplayName}},
				Group:  &orgsync.Group{ID: have.ID, Org: d.opts.Org, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Owner: d.opts.Owner},
			})
		}
	}

	current := map[string]bool{}
	if have != nil {
		for _, id := range have.Members {
			current[id] = true
		}
	}
	targets := make(map[string]bool, len(members))
	for key := range members {
		u := d.users[key]
		if u == nil || !u.enabled || d.held[key] {
			continue // out of scope, in conflict, or disabled: never added
		}
		add := ref
		add.Action, add.UserName = orgsync.ActionMemberAdd, u.src.UserName
		switch {
		case u.key != "":
			add.MemberKey = u.key
		case current[u.id]:
			targets[u.id] = true
			continue
		default:
			targets[u.id] = true
			add.MemberID = u.id
		}
		d.plan.Changes = append(d.plan.Changes, add)
	}
	for id := range current {
		if targets[id] || !d.removable(id) {
			continue
		}
		rm := ref
		rm.Action, rm.UserName, rm.MemberID = orgsync.ActionMemberRemove, d.byID[id].UserName, id
		d.plan.Changes = append(d.plan.Changes, rm)
	}
}

// removable reports whether the plan may take member id out of an owned
// group: only an owned (or adopted) member that is enabled at the source and
// not in conflict. Memberships of suspended members are frozen.
func (d *differ) removable(id string) bool {
	m := d.byID[id]
	if m == nil || (m.Owner != d.opts.Owner && !d.adopted[id]) {
		return false
	}
	if d.adopted[id] {
		return true // adopted users are enabled at the source
	}
	u := d.users[m.ExternalID]
	return u != nil && u.enabled && !d.held[m.ExternalID]
}
