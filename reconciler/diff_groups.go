package reconciler

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/orgsync/orgsync"
)

// diffGroups plans group_create, group_update, group_delete, member_add and
// member_remove for the groups opts.Owner owns, and holds the groups in
// conflict, those the source held back (heldBack) and those nesting a held
// group. It runs after diffUsers.
func (d *differ) diffGroups(desired []orgsync.Group, heldBack []orgsync.HeldEntry, observed []orgsync.Group) {
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
	// Held groups take part in the duplicate checks; a keyless one holds
	// the owned group of its name.
	var heldNames map[string]bool
	for i := range heldBack {
		h := &heldBack[i]
		if h.Key != "" {
			keys[h.Key]++
		}
		if n := orgsync.Fold(h.Name); n != "" {
			names[n]++
			if h.Key == "" {
				if heldNames == nil {
					heldNames = map[string]bool{}
				}
				heldNames[n] = true
			}
		}
	}
	nesting := nestsHeld(desired, heldBack)
	nested := flattenNested(desired, keys)
	d.cur = map[string]bool{}
	d.refs = d.memberRefs()

	d.groupRefs = make([]orgsync.Change, len(desired))
	// Groups are walked in name order so that their membership changes
	// come out sorted (see assemble).
	order := make([]int, len(desired))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := &desired[a], &desired[b]
		return cmp.Or(cmp.Compare(orgsync.Fold(x.DisplayName), orgsync.Fold(y.DisplayName)),
			cmp.Compare(x.DisplayName, y.DisplayName), cmp.Compare(x.ExternalID, y.ExternalID))
	})

	heldGroups := map[string]bool{}
	seen := make(map[string]bool, len(desired))
	groupConflict := func(g *orgsync.Group, format string, args ...any) {
		d.plan.Conflicts = append(d.plan.Conflicts, orgsync.Conflict{
			Key: g.ExternalID, DN: g.DN, Reason: fmt.Sprintf("group %q: ", g.DisplayName) + fmt.Sprintf(format, args...),
		})
		d.plan.Held.Groups++
		heldGroups[g.ExternalID] = true
	}
	for i := range heldBack {
		h := &heldBack[i]
		reason := "held by the source: "
		if h.Ref != "" {
			reason += h.Ref + ": "
		}
		groupConflict(&orgsync.Group{ExternalID: h.Key, DisplayName: h.Name, DN: h.DN}, "%s%s", reason, h.Reason)
	}
	for _, i := range order {
		g := &desired[i]
		have := owned[g.ExternalID]
		switch {
		case nesting[i] != "":
			groupConflict(g, "nests the held group %q, so its members cannot be known", nesting[i])
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
			d.diffGroup(int32(i), g, have, nested[g.ExternalID])
		}
	}
	for key, g := range owned {
		if !seen[key] && !heldGroups[key] && !heldNames[orgsync.Fold(g.DisplayName)] {
			d.plan.Changes = append(d.plan.Changes, orgsync.Change{
				Action: orgsync.ActionGroupDelete, GroupName: g.DisplayName, GroupID: g.ID,
				Reason: "gone from the source",
			})
		}
	}
}

// nestsHeld returns, by index in desired, the key (or name) of a held
// group that each desired group nests directly or through other groups;
// nil when no group is held.
func nestsHeld(desired []orgsync.Group, heldBack []orgsync.HeldEntry) map[int]string {
	if len(heldBack) == 0 {
		return nil
	}
	parents := map[string][]int{} // subgroup key → desired groups nesting it
	for i := range desired {
		for _, sub := range desired[i].Subgroups {
			parents[sub] = append(parents[sub], i)
		}
	}
	out := map[int]string{}
	type item struct{ key, root string }
	var stack []item
	for _, h := range heldBack {
		if h.Key != "" {
			stack = append(stack, item{h.Key, cmp.Or(h.Name, h.Key)})
		}
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range parents[it.key] {
			if _, done := out[p]; !done {
				out[p] = it.root
				stack = append(stack, item{desired[p].ExternalID, it.root})
			}
		}
	}
	return out
}

func groupNameHolder(gs []*orgsync.Group, self *orgsync.Group) *orgsync.Group {
	for _, g := range gs {
		if g != self {
			return g
		}
	}
	return nil
}

// flattenNested resolves the groups involved in nesting (those with
// subgroups and every group they reach) with orgsync.Flatten; the members
// of any other group are its direct members. Nesting only follows groups
// whose key is unambiguous.
func flattenNested(groups []orgsync.Group, keys map[string]int) map[string]map[string]struct{} {
	byKey := map[string]*orgsync.Group{}
	var stack []string
	for i := range groups {
		g := &groups[i]
		if keys[g.ExternalID] == 1 {
			byKey[g.ExternalID] = g
			if len(g.Subgroups) > 0 {
				stack = append(stack, g.ExternalID)
			}
		}
	}
	need := map[string]bool{}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if need[k] {
			continue
		}
		need[k] = true
		for _, sub := range byKey[k].Subgroups {
			if byKey[sub] != nil && !need[sub] {
				stack = append(stack, sub)
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	subset := make([]orgsync.Group, 0, len(need))
	for i := range groups {
		if need[groups[i].ExternalID] && keys[groups[i].ExternalID] == 1 {
			subset = append(subset, groups[i])
		}
	}
	return orgsync.Flatten(subset)
}

// diffGroup plans one desired group: create or rename it, then make its
// members the flattened desired members (nested, or g.Members when the
// group is not involved in nesting), leaving frozen and foreign members
// alone.
func (d *differ) diffGroup(gi int32, g *orgsync.Group, have *orgsync.Group, nested map[string]struct{}) {
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

	d.groupRefs[gi] = ref

	// cur holds the group's current member IDs, true once the walk finds
	// them desired. It is a small map, reused: far cheaper than looking
	// each ID up in the index of all members.
	cur := d.cur
	clear(cur)
	if have != nil {
		for _, id := range have.Members {
			cur[id] = false
		}
	}
	adds := d.scratch[:0]
	visit := func(key string) {
		ref, ok := d.refs[key]
		if !ok {
			return // out of scope, in conflict or disabled: never added
		}
		if ref.id != "" {
			if seen, ok := cur[ref.id]; ok {
				if !seen {
					cur[ref.id] = true
				}
				return
			}
		}
		adds = append(adds, ref.i)
	}
	if nested != nil {
		for key := range nested {
			visit(key)
		}
	} else {
		for _, key := range g.Members {
			visit(key)
		}
	}
	d.sortUsers(adds)
	adds = slices.Compact(adds) // a key listed twice
	for _, ui := range adds {
		d.adds = append(d.adds, memberOp{gi, ui})
	}
	d.scratch = adds[:0]
	if have == nil {
		return
	}
	rms := d.scratch
	for _, id := range have.Members {
		if cur[id] {
			continue // desired, or already planned for removal
		}
		cur[id] = true
		if i, ok := d.index(id); ok && d.removable(i) {
			rms = append(rms, i)
		}
	}
	slices.SortFunc(rms, func(a, b int32) int {
		x, y := &d.obs[a], &d.obs[b]
		return cmp.Or(cmp.Compare(orgsync.Fold(x.UserName), orgsync.Fold(y.UserName)), cmp.Compare(x.UserName, y.UserName), cmp.Compare(x.ID, y.ID))
	})
	for _, i := range rms {
		d.removes = append(d.removes, memberOp{gi, i})
	}
	d.scratch = rms[:0]
}

// memberRef is what walking a group needs of a desired user, kept in the
// map value so that a visit touches one map slot instead of three scattered
// structs (Diff of a large org is bound by memory latency there).
type memberRef struct {
	i  int32  // index in users
	id string // the observed member standing for it, "" when provisioned
}

// memberRefs indexes the users that may join groups: valid and enabled at
// the source.
func (d *differ) memberRefs() map[string]memberRef {
	refs := make(map[string]memberRef, len(d.users))
	for i := range d.users {
		u := &d.users[i]
		if !u.valid || !u.enabled {
			continue
		}
		ref := memberRef{i: int32(i)}
		if u.obs >= 0 {
			ref.id = d.obs[u.obs].ID
		}
		refs[u.src.ExternalID] = ref
	}
	return refs
}
