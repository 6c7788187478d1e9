package store

import (
	"cmp"
	"fmt"

	"github.com/orgsync/orgsync"
)

func (a *applier) groupCreate(cs []orgsync.Change) error {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Group == nil || c.GroupKey == "" {
			return fmt.Errorf("group_create %q without group or key: %w", c.GroupName, orgsync.ErrInvalid)
		}
		keys = append(keys, c.GroupKey)
	}
	if err := a.resolveGroups(keys); err != nil {
		return err
	}
	folds := make([]string, 0, len(cs))
	for _, c := range cs {
		folds = append(folds, orgsync.Fold(c.Group.DisplayName))
	}
	taken := map[string]string{} // display_name_fold → owner
	if a.fresh {
		taken = a.groupFolds
	}
	if err := a.lookupPairs(`SELECT display_name_fold, owner FROM org_groups WHERE org_id = ? AND display_name_fold IN`,
		[]any{a.plan.Org}, folds, taken); err != nil {
		return err
	}
	var rows [][]any
	for i, c := range cs {
		if _, done := a.groupKeys[c.GroupKey]; done {
			continue
		}
		if owner, ok := taken[folds[i]]; ok {
			a.skip(c, fmt.Sprintf("group name is taken by a group owned by %q", orgsync.OwnerName(owner)))
			continue
		}
		g := orgsync.Group{ID: newID(), Org: a.plan.Org, DisplayName: c.Group.DisplayName, ExternalID: c.GroupKey,
			Owner: a.plan.Owner, Version: 1, CreatedAt: a.now, UpdatedAt: a.now}
		a.groupKeys[c.GroupKey] = g.ID
		a.ownedGroups[g.ID], a.keyedGroups[g.ID] = true, true
		taken[folds[i]] = g.Owner
		rows = append(rows, []any{g.ID, g.Org, g.DisplayName, folds[i], g.ExternalID, g.Owner, g.Version, a.nowArg, a.nowArg})
		a.out.Counts[orgsync.ActionGroupCreate]++
		a.event(orgsync.EventGroupCreated, "", g.ID, nil, g)
	}
	return a.c.insert("org_groups", groupCols, rows, "")
}

var groupCols = []string{"id", "org_id", "display_name", "display_name_fold", "external_id", "owner", "version", "created_at", "updated_at"}

// resolveGroups maps the owner's group keys to IDs.
func (a *applier) resolveGroups(keys []string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := a.groupKeys[k]; !ok {
			missing = append(missing, k)
		}
	}
	return a.lookupPairs(`SELECT external_id, id FROM org_groups WHERE org_id = ? AND owner = ? AND external_id IN`,
		[]any{a.plan.Org, a.plan.Owner}, missing, a.groupKeys)
}

// resolveMembers maps the owner's member keys to IDs.
func (a *applier) resolveMembers(keys []string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := a.memberKeys[k]; !ok {
			missing = append(missing, k)
		}
	}
	return a.lookupPairs(`SELECT external_id, id FROM members WHERE org_id = ? AND owner = ? AND external_id IN`,
		[]any{a.plan.Org, a.plan.Owner}, missing, a.memberKeys)
}

type groupRow struct {
	id, owner, name, key string
	version              int64
}

// counted reports whether g's memberships count among the plan's owner's
// (ownedDelta).
func (g *groupRow) counted(owner string) bool { return g.owner == owner && g.key != "" }

func (a *applier) loadGroup(id string) (*groupRow, error) {
	var g groupRow
	found, err := a.c.row(`SELECT id, owner, display_name, external_id, version FROM org_groups WHERE org_id = ? AND id = ?`,
		[]any{a.plan.Org, id}, &g.id, &g.owner, &g.name, &g.key, &g.version)
	if err != nil || !found {
		return nil, err
	}
	return &g, nil
}

func (a *applier) groupChanges(action orgsync.Action, cs []orgsync.Change) error {
	for _, c := range cs {
		id := c.GroupID
		if id == "" && c.GroupKey != "" {
			if err := a.resolveGroups([]string{c.GroupKey}); err != nil {
				return err
			}
			id = a.groupKeys[c.GroupKey]
		}
		g, err := a.loadGroup(id)
		if err != nil {
			return err
		}
		if g == nil {
			if action != orgsync.ActionGroupDelete {
				a.skip(c, "group no longer exists")
			}
			continue
		}
		if err := orgsync.MayChangeGroup(a.plan.Owner, g.owner); err != nil {
			a.skip(c, err.Error())
			continue
		}
		switch action {
		case orgsync.ActionGroupUpdate:
			if c.Group == nil {
				return fmt.Errorf("group_update without group: %w", orgsync.ErrInvalid)
			}
			if g.name == c.Group.DisplayName {
				continue
			}
			var other int64
			if _, err := a.c.row(`SELECT COUNT(*) FROM org_groups WHERE org_id = ? AND display_name_fold = ? AND id <> ?`,
				[]any{a.plan.Org, orgsync.Fold(c.Group.DisplayName), g.id}, &other); err != nil {
				return err
			}
			if other > 0 {
				a.skip(c, "new group name is taken")
				continue
			}
			if _, err := a.c.exec(`UPDATE org_groups SET display_name = ?, display_name_fold = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				c.Group.DisplayName, orgsync.Fold(c.Group.DisplayName), a.now, g.id); err != nil {
				return err
			}
			a.out.Counts[action]++
			a.event(orgsync.EventGroupUpdated, "", g.id, map[string]string{"display_name": g.name}, map[string]string{"display_name": c.Group.DisplayName})
		case orgsync.ActionGroupDelete:
			if g.counted(a.plan.Owner) { // its memberships go with it
				var in int
				if _, err := a.c.row(`SELECT COUNT(*) FROM group_members WHERE group_id = ?`, []any{g.id}, &in); err != nil {
					return err
				}
				a.delta.memberships -= in
			}
			if _, err := a.c.exec(`DELETE FROM org_groups WHERE id = ?`, g.id); err != nil {
				return err
			}
			a.out.Counts[action]++
			a.event(orgsync.EventGroupDeleted, "", g.id, map[string]string{"display_name": g.name}, nil)
		}
	}
	return nil
}

func (a *applier) memberAdd(cs []orgsync.Change) error {
	var gkeys, mkeys []string
	for _, c := range cs {
		if c.GroupID == "" {
			gkeys = append(gkeys, c.GroupKey)
		}
		if c.MemberID == "" {
			mkeys = append(mkeys, c.MemberKey)
		}
	}
	if err := a.resolveGroups(gkeys); err != nil {
		return err
	}
	if err := a.resolveMembers(mkeys); err != nil {
		return err
	}
	groupIDs := map[string]bool{}
	for _, c := range cs {
		if id := c.GroupID; id != "" {
			groupIDs[id] = true
		} else if id := a.groupKeys[c.GroupKey]; id != "" {
			groupIDs[id] = true
		}
	}
	var unchecked []string
	for id := range groupIDs {
		if _, ok := a.ownedGroups[id]; !ok {
			unchecked = append(unchecked, id)
			a.ownedGroups[id] = false
		}
	}
	if err := a.lookup(`SELECT id, external_id FROM org_groups WHERE org_id = ? AND owner = ? AND id IN`, []any{a.plan.Org, a.plan.Owner}, unchecked,
		func(scan func(...any) error) error {
			var id, key string
			if err := scan(&id, &key); err != nil {
				return err
			}
			a.ownedGroups[id], a.keyedGroups[id] = true, key != ""
			return nil
		}); err != nil {
		return err
	}
	owned := a.ownedGroups
	// The memberships that already exist, looked up by the batch's
	// members (a group may have far more members than a batch names).
	// Members this apply provisioned have none but those it added.
	var mids []string
	for _, c := range cs {
		if mid := cmp.Or(c.MemberID, a.memberKeys[c.MemberKey]); mid != "" && !a.created[mid] {
			mids = append(mids, mid)
		}
	}
	have := map[memberPair]bool{}
	if err := a.lookup(`SELECT group_id, member_id FROM group_members WHERE member_id IN`, nil, mids,
		func(scan func(...any) error) error {
			var p memberPair
			if err := scan(&p.g, &p.m); err != nil {
				return err
			}
			have[p] = true
			return nil
		}); err != nil {
		return err
	}
	var rows [][]any
	for _, c := range cs {
		gid, mid := c.GroupID, c.MemberID
		if gid == "" {
			gid = a.groupKeys[c.GroupKey]
		}
		if mid == "" {
			mid = a.memberKeys[c.MemberKey]
		}
		switch {
		case gid == "" || mid == "":
			a.skip(c, "group or member does not exist")
			continue
		case !owned[gid]:
			a.skip(c, "group is not owned by this source")
			continue
		case have[memberPair{gid, mid}], a.createdIn[memberPair{gid, mid}]:
			continue
		}
		if a.created[mid] {
			a.createdIn[memberPair{gid, mid}] = true
		} else {
			have[memberPair{gid, mid}] = true
		}
		rows = append(rows, []any{gid, mid, a.plan.Org, a.nowArg})
		if a.keyedGroups[gid] {
			a.delta.memberships++
		}
		a.out.Counts[orgsync.ActionMemberAdd]++
		a.event(orgsync.EventGroupMemberAdded, mid, gid, nil, membershipState{c.GroupName, c.UserName})
	}
	err := a.c.insert("group_members", []string{"group_id", "member_id", "org_id", "created_at"}, rows, "")
	if foreignKeyViolation(err) {
		return fmt.Errorf("a member or group vanished: %w", orgsync.ErrConflict)
	}
	return err
}

// membershipState is the state a membership event records (the same JSON as a
// map of the two, without building one per event).
type membershipState struct {
	Group    string `json:"group"`
	UserName string `json:"user_name"`
}

// memberPair is a membership: group ID and member ID.
type memberPair struct{ g, m string }

func (a *applier) memberRemove(cs []orgsync.Change) error {
	for _, c := range cs {
		gid := c.GroupID
		if gid == "" {
			if err := a.resolveGroups([]string{c.GroupKey}); err != nil {
				return err
			}
			gid = a.groupKeys[c.GroupKey]
		}
		g, err := a.loadGroup(gid)
		if err != nil {
			return err
		}
		if g == nil {
			continue
		}
		if err := orgsync.MayChangeGroup(a.plan.Owner, g.owner); err != nil {
			a.skip(c, err.Error())
			continue
		}
		n, err := a.c.exec(`DELETE FROM group_members WHERE group_id = ? AND member_id = ?`, gid, c.MemberID)
		if err != nil {
			return err
		}
		if n > 0 {
			if g.counted(a.plan.Owner) {
				a.delta.memberships -= int(n)
			}
			a.out.Counts[orgsync.ActionMemberRemove]++
			a.event(orgsync.EventGroupMemberRemoved, c.MemberID, gid, membershipState{c.GroupName, c.UserName}, nil)
		}
	}
	return nil
}
