package reconcilertest

import (
	"fmt"
	"slices"

	"github.com/orgsync/orgsync"
)

func (tx *memTx) groupCreate(c orgsync.Change) error {
	if c.Group == nil || c.GroupKey == "" {
		return orgsync.ErrInvalid
	}
	if tx.groupByKey(c.GroupKey) != nil {
		return nil
	}
	for _, g := range tx.groups {
		if orgsync.Fold(g.DisplayName) == orgsync.Fold(c.Group.DisplayName) {
			tx.skip(c, fmt.Sprintf("group name is taken by a group owned by %q", orgsync.OwnerName(g.Owner)))
			return nil
		}
	}
	tx.seq++
	g := orgsync.Group{ID: fmt.Sprintf("G%03d", tx.seq), Org: tx.p.Org, DisplayName: c.Group.DisplayName, ExternalID: c.GroupKey,
		Owner: tx.p.Owner, Version: 1}
	tx.groups[g.ID] = &g
	tx.out.Counts[c.Action]++
	return nil
}

func (tx *memTx) groupChange(c orgsync.Change) error {
	g := tx.group(c)
	if g == nil {
		if c.Action != orgsync.ActionGroupDelete {
			tx.skip(c, "group no longer exists")
		}
		return nil
	}
	if err := orgsync.MayChangeGroup(tx.p.Owner, g.Owner); err != nil {
		tx.skip(c, err.Error())
		return nil
	}
	switch c.Action {
	case orgsync.ActionGroupUpdate:
		if c.Group == nil {
			return orgsync.ErrInvalid
		}
		if g.DisplayName == c.Group.DisplayName {
			return nil
		}
		for _, o := range tx.groups {
			if o.ID != g.ID && orgsync.Fold(o.DisplayName) == orgsync.Fold(c.Group.DisplayName) {
				tx.skip(c, "new group name is taken")
				return nil
			}
		}
		g.DisplayName = c.Group.DisplayName
		g.Version++
	case orgsync.ActionGroupDelete:
		delete(tx.groups, g.ID)
	}
	tx.out.Counts[c.Action]++
	return nil
}

func (tx *memTx) memberAdd(c orgsync.Change) error {
	g := tx.group(c)
	id := c.MemberID
	if id == "" {
		if m := tx.memberByKey(c.MemberKey); m != nil {
			id = m.ID
		}
	}
	switch {
	case g == nil || tx.members[id] == nil:
		tx.skip(c, "group or member does not exist")
		return nil
	case g.Owner != tx.p.Owner:
		tx.skip(c, "group is not owned by this source")
		return nil
	case slices.Contains(g.Members, id):
		return nil
	}
	g.Members = append(g.Members, id)
	tx.out.Counts[c.Action]++
	return nil
}

func (tx *memTx) memberRemove(c orgsync.Change) error {
	g := tx.group(c)
	if g == nil {
		return nil
	}
	if err := orgsync.MayChangeGroup(tx.p.Owner, g.Owner); err != nil {
		tx.skip(c, err.Error())
		return nil
	}
	if i := slices.Index(g.Members, c.MemberID); i >= 0 {
		g.Members = slices.Delete(g.Members, i, i+1)
		tx.out.Counts[c.Action]++
	}
	return nil
}
